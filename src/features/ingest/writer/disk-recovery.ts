/**
 * Notices the store's disk getting room again: free space at or above the
 * minimum after a measurement below it. While the disk was full every flush
 * failed, and the jobs of each flush failed together, so their retries come
 * together too, ever further apart (exponential backoff: after a 40 s outage
 * the next one can be half a minute away). Meanwhile ingest is refused, the
 * writer being stalled, so nothing else tries the store: the worker retries
 * those jobs as soon as there is room (at most one extra attempt each).
 */
export class DiskRecovery {
  private low = false;

  constructor(private readonly minFreeBytes: number) {}

  /** Whether the last measurement was below the minimum. */
  isLow(): boolean {
    return this.low;
  }

  /** Notes a measurement; true for the first one with room again after the disk was low. */
  recovered(freeBytes: number): boolean {
    const low = freeBytes < this.minFreeBytes;
    const recovered = this.low && !low;
    this.low = low;
    return recovered;
  }
}

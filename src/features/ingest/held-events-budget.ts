/**
 * How many jobs the ingest worker may hold, given the events they carry.
 * A job keeps its events in memory until the writer's flush, so
 * WORKER_CONCURRENCY alone bounds jobs, not memory: 200 jobs of 1,000-event
 * posts held 200,000 events and grew the worker's heap past 900 MB.
 *
 * BullMQ fetches jobs before the processor sees them, and while the queue has
 * a backlog it fetches up to its concurrency at once. So the concurrency given
 * here leaves room only for as many more jobs as fit in what is left of the
 * budget at the typical job's size (a moving average), and none past it. The
 * bound is therefore approximate: one job's size or so over `maxEvents`. The
 * worker always holds at least one job, so a job larger than the budget runs.
 */
export class HeldEventsBudget {
  private events = 0;
  private jobs = 0;
  private typicalJobEvents: number;

  constructor(
    private readonly maxEvents: number,
    private readonly maxJobs: number,
  ) {
    // Until jobs are seen, the budget shared out evenly: the first fetches are as before.
    this.typicalJobEvents = maxEvents / maxJobs;
  }

  /** A job of `events` was taken; returns the worker's concurrency from now on. */
  take(events: number): number {
    this.events += events;
    this.jobs++;
    this.typicalJobEvents += (events - this.typicalJobEvents) / 16;
    return this.concurrency();
  }

  /** A job of `events` is done (written or failed); returns the worker's concurrency from now on. */
  release(events: number): number {
    this.events -= events;
    this.jobs--;
    return this.concurrency();
  }

  /** The jobs held now plus as many as the rest of the budget has room for; only those held once it is spent. */
  concurrency(): number {
    const room = this.maxEvents - this.events;
    if (room <= 0) return Math.max(1, this.jobs);
    const more = Math.max(1, Math.floor(room / Math.max(1, this.typicalJobEvents)));
    return Math.min(this.maxJobs, this.jobs + more);
  }

  held(): { jobs: number; events: number } {
    return { jobs: this.jobs, events: this.events };
  }
}

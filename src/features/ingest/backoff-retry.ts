import type { Queue } from 'bullmq';
import type { Logger } from '../../lib/logger';

/**
 * Retries the ingest jobs waiting out their backoff, now, when the store works
 * again. The jobs of a failed flush fail together, so their retries come
 * together, ever further apart (1 s doubling): after a minute's outage the
 * next can be half a minute away, while ingest is refused (the writer is
 * stalled) and nothing else tries the store.
 *
 * Each retry costs every job in backoff one attempt (JOB_ATTEMPTS), so a
 * table whose flushes flicker between failing and not may retry at most once
 * per `minIntervalMs`; a clear signal (the disk has room again) always does.
 */
export class IngestBackoffRetry {
  private last = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly queue: Pick<Queue, 'promoteJobs'>,
    private readonly logger: Logger,
    private readonly minIntervalMs = 30_000,
  ) {}

  /** The store works again, because `why`: retry the jobs in backoff. Resolves when they are back in the queue. */
  async now(why: string, options: { always?: boolean } = {}): Promise<void> {
    const t = performance.now();
    if (!options.always && t - this.last < this.minIntervalMs) return;
    this.last = t;
    try {
      await this.queue.promoteJobs();
      this.logger.info({ why }, 'the store works again: ingest jobs waiting out their backoff are retried now');
    } catch (error) {
      this.logger.warn({ err: error, why }, 'could not retry the ingest jobs in backoff; they run when their backoff ends');
    }
  }
}

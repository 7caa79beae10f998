import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppError } from '../lib/app-error';

export type PipelineState = { state: 'ok' } | { state: 'saturated' | 'unavailable'; reason: string; retryAfterSeconds: number };

export interface BackpressureOptions {
  /** Waiting + delayed ingest jobs' events above which new events are refused with 429. */
  maxBacklogEvents: number;
  /** Refuse new events once Redis uses this share of its maxmemory (when one is set). */
  maxMemoryRatio?: number;
  /** How often the queue and Redis are sampled. Default 100 ms: between two samples a burst of posts can add megabytes. */
  intervalMs?: number;
}

/**
 * Samples the ingest queue's backlog and Redis memory in the background, so
 * the request path can shed load (429) before Redis runs out of memory,
 * without a Redis round trip per request.
 */
export class IngestBackpressure {
  private current: PipelineState = { state: 'ok' };
  private timer?: NodeJS.Timeout;
  /** Average events per queued job, learned from what the producer sends. */
  private eventsPerJob = 100;
  /** used_memory at the previous sample. */
  private lastUsedMemory?: number;

  constructor(
    private readonly queue: Queue,
    private readonly redis: Redis,
    private readonly options: BackpressureOptions,
  ) {}

  start(): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.options.intervalMs ?? 100);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  state(): PipelineState {
    if (this.redis.status !== 'ready') {
      return { state: 'unavailable', reason: 'Redis is unavailable', retryAfterSeconds: 5 };
    }
    return this.current;
  }

  /** The error that refuses new events while the pipeline sheds load (429 saturated, 503 unavailable); null when open. */
  refusal(): AppError | null {
    const pipeline = this.state();
    if (pipeline.state === 'ok') return null;
    return new AppError(pipeline.state === 'saturated' ? 'RATE_LIMITED' : 'UNAVAILABLE', `${pipeline.reason}; retry later`, {
      retryAfterSeconds: pipeline.retryAfterSeconds,
    });
  }

  noteJobSize(events: number): void {
    this.eventsPerJob = this.eventsPerJob * 0.9 + events * 0.1;
  }

  private async sample(): Promise<void> {
    try {
      const [counts, info] = await Promise.all([this.queue.getJobCounts('waiting', 'delayed', 'prioritized'), this.redis.info('memory')]);
      const jobs = (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0);
      const backlog = jobs * this.eventsPerJob;
      const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
      const max = Number(/maxmemory:(\d+)/.exec(info)?.[1] ?? 0);
      // This state holds until the next sample: judge by where memory will be by then, if it keeps growing as fast.
      const growth = Math.max(0, used - (this.lastUsedMemory ?? used));
      this.lastUsedMemory = used;
      if (max > 0 && (used + growth) / max > (this.options.maxMemoryRatio ?? 0.8)) {
        this.current = { state: 'saturated', reason: 'Redis memory is nearly full', retryAfterSeconds: 5 };
      } else if (backlog > this.options.maxBacklogEvents) {
        this.current = { state: 'saturated', reason: 'the ingest backlog is full', retryAfterSeconds: 2 };
      } else {
        this.current = { state: 'ok' };
      }
    } catch {
      this.current = { state: 'unavailable', reason: 'Redis is unavailable', retryAfterSeconds: 5 };
    }
  }
}

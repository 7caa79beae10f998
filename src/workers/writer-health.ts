import type { Redis } from 'ioredis';
import { isPgUnavailable } from '../lib/pg';

/** The ClickHouse writer's state as /readyz, /metrics and ingest admission see it. */
export interface WriterHealthState {
  /** When a flush last succeeded (ms since the epoch); null before the first. */
  lastSuccessAt: number | null;
  /** When the current run of failed flushes began; null while flushes succeed. */
  failingSince: number | null;
  /** When a flush last failed. */
  lastFailureAt: number | null;
  consecutiveFailures: number;
  /** The last failure's message (e.g. ClickHouse's `Code: 243 ... not enough space`). */
  lastError: string | null;
}

/**
 * Counts the writer's flushes that fail for the store's sake. A flush that
 * waits on PostgreSQL (its seal) is not a store failure: ingest queues as
 * usual through a PostgreSQL restart, so that must not shed it.
 */
export class WriterHealth {
  private state: WriterHealthState = { lastSuccessAt: null, failingSince: null, lastFailureAt: null, consecutiveFailures: 0, lastError: null };

  succeeded(now = Date.now()): void {
    this.state = { ...this.state, lastSuccessAt: now, failingSince: null, consecutiveFailures: 0, lastError: null };
  }

  failed(error: unknown, now = Date.now()): void {
    if (isPgUnavailable(error)) return;
    this.state = {
      ...this.state,
      failingSince: this.state.failingSince ?? now,
      lastFailureAt: now,
      consecutiveFailures: this.state.consecutiveFailures + 1,
      lastError: (error instanceof Error ? error.message : String(error)).slice(0, 300),
    };
  }

  snapshot(): WriterHealthState {
    return { ...this.state };
  }
}

/**
 * Whether the writer has failed every flush for longer than `stallMs`. A run
 * of failures with no attempt in the last `stallMs` (nothing left to write)
 * no longer counts: new writes are let in, and they test the store again.
 */
export function writerStalled(state: WriterHealthState | null, stallMs: number, now = Date.now()): boolean {
  if (!state?.failingSince || stallMs <= 0) return false;
  return now - state.failingSince > stallMs && now - (state.lastFailureAt ?? 0) < stallMs;
}

/** The Redis key where a worker publishes its writer's state, for API processes of other roles. */
export function writerHealthKey(prefix: string): string {
  return `${prefix}:writer-health`;
}

/**
 * Publishes the writer's state to Redis every second (with a TTL, so a dead
 * worker's state expires), for APIs running in other processes (ROLE=api).
 */
export function publishWriterHealth(health: WriterHealth, redis: Redis, prefix: string): () => void {
  const key = writerHealthKey(prefix);
  const timer = setInterval(() => {
    if (redis.status !== 'ready') return;
    redis.set(key, JSON.stringify(health.snapshot()), 'PX', 10_000).catch(() => undefined);
  }, 1000);
  timer.unref();
  return () => clearInterval(timer);
}

import type { Redis } from 'ioredis';
import { isPgUnavailable } from '../../../lib/pg';

/** The ClickHouse writer's state as /readyz, /metrics and ingest admission see it. */
export interface WriterHealthState {
  /** When a flush last succeeded (ms since the epoch); null before the first. */
  lastSuccessAt: number | null;
  /** When the current run of failed flushes of a table began; null while every table flushes. */
  failingSince: number | null;
  /** When a flush last failed. */
  lastFailureAt: number | null;
  consecutiveFailures: number;
  /** The last failure's message (e.g. ClickHouse's `Code: 243 ... not enough space`). */
  lastError: string | null;
  /** Free bytes on the store's filesystem (DATA_DIR), measured every second; null before the first. */
  freeBytes: number | null;
}

interface TableFailures {
  since: number;
  last: number;
  count: number;
  error: string;
}

/**
 * Counts the writer's flushes that fail for the store's sake, per table: one
 * broken table must show even while the others flush. A flush that waits on
 * PostgreSQL (its seal) is not a store failure: ingest queues as usual
 * through a PostgreSQL restart, so that must not shed it.
 */
export class WriterHealth {
  private lastSuccessAt: number | null = null;
  private freeBytes: number | null = null;
  private readonly failing = new Map<string, TableFailures>();

  noteFreeBytes(bytes: number): void {
    this.freeBytes = bytes;
  }

  /** A flush of `table` succeeded; true when its flushes had been failing (the store works again). */
  succeeded(table: string, now = Date.now()): boolean {
    this.lastSuccessAt = now;
    return this.failing.delete(table);
  }

  failed(table: string, error: unknown, now = Date.now()): void {
    if (isPgUnavailable(error)) return;
    const previous = this.failing.get(table);
    const message = (error instanceof Error ? error.message : String(error)).slice(0, 300);
    this.failing.set(table, { since: previous?.since ?? now, last: now, count: (previous?.count ?? 0) + 1, error: `${table}: ${message}` });
  }

  /** The table failing longest speaks for the writer. */
  snapshot(): WriterHealthState {
    let worst: TableFailures | undefined;
    for (const f of this.failing.values()) if (!worst || f.since < worst.since) worst = f;
    return {
      lastSuccessAt: this.lastSuccessAt,
      failingSince: worst?.since ?? null,
      lastFailureAt: worst?.last ?? null,
      consecutiveFailures: worst?.count ?? 0,
      lastError: worst?.error ?? null,
      freeBytes: this.freeBytes,
    };
  }
}

/** A run of failures with no failed flush for this long no longer counts (see writerStalled). */
const IDLE_MS = 60_000;

/**
 * Whether the writer has failed every flush for longer than `stallMs`. A run
 * of failures with no failed flush in the last minute (or `stallMs`, if
 * longer) no longer counts: nothing is left to write but jobs far into their
 * backoff, so new writes are let in, and they test the store again.
 */
export function writerStalled(state: WriterHealthState | null, stallMs: number, now = Date.now()): boolean {
  if (!state?.failingSince || stallMs <= 0) return false;
  return now - state.failingSince > stallMs && now - (state.lastFailureAt ?? 0) < Math.max(stallMs, IDLE_MS);
}

/** Whether the store's disk has less free space than `minFreeBytes`: no use queueing what it cannot take. */
export function storeDiskLow(state: WriterHealthState | null, minFreeBytes: number): boolean {
  return state?.freeBytes != null && state.freeBytes < minFreeBytes;
}

/** Whether `freeBytes`, measured now, ends a stretch in which the store's disk was low (`before`): the store has room again. */
export function diskRoomAgain(before: WriterHealthState | null, freeBytes: number, minFreeBytes: number): boolean {
  return storeDiskLow(before, minFreeBytes) && freeBytes >= minFreeBytes;
}

/** The Redis key where a worker publishes its writer's state, for API processes of other roles. */
export function writerHealthKey(prefix: string): string {
  return `${prefix}:writer-health`;
}

/**
 * Measures the store's free space and publishes the writer's state to Redis
 * every second (with a TTL, so a dead worker's state expires), for APIs
 * running in other processes (ROLE=api). `onRoomAgain` is told when the
 * space is back above `minFreeBytes` after a low stretch.
 */
export function watchWriterHealth(health: WriterHealth, freeBytes: () => Promise<number>, redis: Redis, prefix: string, room?: { minFreeBytes: number; onRoomAgain: () => void }): () => void {
  const key = writerHealthKey(prefix);
  const tick = async () => {
    await freeBytes().then(
      (bytes) => {
        const roomAgain = room !== undefined && diskRoomAgain(health.snapshot(), bytes, room.minFreeBytes);
        health.noteFreeBytes(bytes);
        if (roomAgain) room.onRoomAgain();
      },
      () => undefined,
    );
    if (redis.status === 'ready') await redis.set(key, JSON.stringify(health.snapshot()), 'PX', 10_000).catch(() => undefined);
  };
  void tick();
  const timer = setInterval(() => void tick(), 1000);
  timer.unref();
  return () => clearInterval(timer);
}

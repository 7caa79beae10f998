import { Redis } from 'ioredis';
import { BENCH_TABLE } from '../../traffic/workload';
import type { ClickHouseClient } from '../../src/lib/clickhouse';
import { queryRows } from '../helpers/stack';

export { BENCH_TABLE };
export { IngestLoad, type IngestLoadOptions } from './ingest-client';

export interface Tally {
  acknowledged: number;
  /** uniqExact(source_app, event_id) of the table. */
  inClickHouse: number;
  /** Acknowledged events that are not in the table. */
  lost: number;
  /** count() - uniqExact(source_app, event_id). */
  duplicates: number;
  /** Events in the table that were never acknowledged (their answer was a 503 or never came): not a loss. */
  unacknowledgedStored: number;
}

/** Compares what the API acknowledged with what the table holds. */
export async function tally(clickhouse: ClickHouseClient, acked: ReadonlySet<string>, table = BENCH_TABLE): Promise<Tally> {
  const [totals] = await queryRows<{ n: number; u: number }>(clickhouse, `SELECT count() AS n, uniqExact(source_app, event_id) AS u FROM ${table}`);
  const stored = new Set((await queryRows<{ id: string }>(clickhouse, `SELECT DISTINCT toString(event_id) AS id FROM ${table}`)).map((r) => r.id));
  let lost = 0;
  for (const id of acked) if (!stored.has(id)) lost++;
  return {
    acknowledged: acked.size,
    inClickHouse: Number(totals!.u),
    lost,
    duplicates: Number(totals!.n) - Number(totals!.u),
    unacknowledgedStored: stored.size - (acked.size - lost),
  };
}

/**
 * Samples the ingest backlog (jobs waiting, active, delayed, prioritized)
 * straight from the queue's Redis keys every `intervalMs`, and keeps going
 * while Redis is down (those samples are null).
 */
export class BacklogSampler {
  readonly samples: { t: number; jobs: number | null; waiting: number | null }[] = [];
  private timer?: NodeJS.Timeout;
  private readonly redis: Redis;

  constructor(
    redisUrl: string,
    private readonly keyPrefix: string,
    private readonly clock: () => number,
    private readonly intervalMs = 250,
  ) {
    this.redis = new Redis(redisUrl, { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 200 });
    this.redis.on('error', () => undefined);
  }

  start(): void {
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.redis.disconnect();
  }

  /** Largest backlog sampled in [from, to). */
  peak(from: number, to: number): number {
    return Math.max(0, ...this.samples.filter((s) => s.t >= from && s.t < to && s.jobs !== null).map((s) => s.jobs!));
  }

  /** Jobs waiting for a worker (not yet taken) in the last sample before `t`. */
  waitingBefore(t: number): number {
    return [...this.samples].reverse().find((s) => s.t < t && s.waiting !== null)?.waiting ?? 0;
  }

  /** ms from `since` until the backlog was first back at or below `level` (null: never). */
  backTo(level: number, since: number): number | null {
    const hit = this.samples.find((s) => s.t >= since && s.jobs !== null && s.jobs <= level);
    return hit ? hit.t - since : null;
  }

  private async sample(): Promise<void> {
    const t = this.clock();
    try {
      const k = this.keyPrefix;
      const [wait, active, delayed, prioritized] = await Promise.all([
        this.redis.llen(`${k}:wait`),
        this.redis.llen(`${k}:active`),
        this.redis.zcard(`${k}:delayed`),
        this.redis.zcard(`${k}:prioritized`),
      ]);
      this.samples.push({ t, jobs: wait + active + delayed + prioritized, waiting: wait });
    } catch {
      this.samples.push({ t, jobs: null, waiting: null });
    }
  }
}

import { Redis } from 'ioredis';
import { runLoad, type LoadResult } from '../../bench/load';
import { batchBody, BENCH_TABLE } from '../../bench/workload';
import type { ClickHouseClient } from '../../src/lib/clickhouse';
import { queryRows } from '../helpers/stack';

export { BENCH_TABLE };

export interface IngestLoadOptions {
  port: number;
  key: string;
  concurrency: number;
  durationMs: number;
  /** Events per post. Default 100. */
  eventsPerPost?: number;
  /** Shortest time between one loop's posts (see bench/load.ts). Default 0: as fast as answers come. */
  paceMs?: number;
  /** A post unanswered after this long is abandoned (and counted as `timeout`), so the load always ends. Default 30 s. */
  timeoutMs?: number;
}

interface Post {
  body: Buffer;
  ids: string[];
}

/**
 * Sustained ingest through the bench's load generator, as an idempotent
 * client sends it: client-chosen event_ids, and a post answered 429 or 503
 * is sent again, the same body, before any new one. Counts what the API
 * acknowledged (a 202 acknowledges every event of its post) and when.
 */
export class IngestLoad {
  readonly acked = new Set<string>();
  readonly statuses: Record<string, number> = {};
  /** Every answer's time (ms since the load started) and status, in order. */
  readonly timeline: { t: number; status: number }[] = [];
  offeredEvents = 0;
  resent = 0;
  private readonly retry: Post[] = [];
  private started = 0;

  constructor(private readonly options: IngestLoadOptions) {}

  /** ms since the load started. */
  now(): number {
    return performance.now() - this.started;
  }

  async run(): Promise<LoadResult> {
    const size = this.options.eventsPerPost ?? 100;
    this.started = performance.now();
    const result = await runLoad<Post>({
      port: this.options.port,
      concurrency: this.options.concurrency,
      durationMs: this.options.durationMs,
      paceMs: this.options.paceMs,
      timeoutMs: this.options.timeoutMs ?? 30_000,
      onError: (error) => {
        const kind = /no answer within/.test(error.message) ? 'timeout' : 'connection_error';
        this.statuses[kind] = (this.statuses[kind] ?? 0) + 1;
      },
      headers: { authorization: `Bearer ${this.options.key}` },
      next: () => {
        const again = this.retry.shift();
        if (again) this.resent++;
        const post = again ?? batchBody(size);
        this.offeredEvents += post.ids.length;
        return { body: post.body, meta: post };
      },
      onResponse: (status, post) => {
        this.statuses[status] = (this.statuses[status] ?? 0) + 1;
        this.timeline.push({ t: this.now(), status });
        if (status === 202) for (const id of post.ids) this.acked.add(id);
        else if (status === 429 || status === 503) this.retry.push(post);
      },
    });
    return result;
  }

  /** ms from `since` to the first 202 at or after it (null: none came). */
  firstAckAfter(since: number): number | null {
    const hit = this.timeline.find((r) => r.t >= since && r.status === 202);
    return hit ? hit.t - since : null;
  }

  /** Status codes as `202×1200, 503×40`. */
  statusSummary(): string {
    return Object.entries(this.statuses)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([status, n]) => `${status}×${n}`)
      .join(', ');
  }
}

export interface Tally {
  acknowledged: number;
  /** uniqExact(event_id) of the table. */
  inClickHouse: number;
  /** Acknowledged events that are not in the table. */
  lost: number;
  /** count() - uniqExact(event_id). */
  duplicates: number;
  /** Events in the table that were never acknowledged (their answer was a 503 or never came): not a loss. */
  unacknowledgedStored: number;
}

/** Compares what the API acknowledged with what the table holds. */
export async function tally(clickhouse: ClickHouseClient, acked: ReadonlySet<string>, table = BENCH_TABLE): Promise<Tally> {
  const [totals] = await queryRows<{ n: number; u: number }>(clickhouse, `SELECT count() AS n, uniqExact(event_id) AS u FROM ${table}`);
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
      const [wait, active, delayed, prioritized] = await Promise.all([this.redis.llen(`${k}:wait`), this.redis.llen(`${k}:active`), this.redis.zcard(`${k}:delayed`), this.redis.zcard(`${k}:prioritized`)]);
      this.samples.push({ t, jobs: wait + active + delayed + prioritized, waiting: wait });
    } catch {
      this.samples.push({ t, jobs: null, waiting: null });
    }
  }
}

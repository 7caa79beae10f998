import { QueueEvents, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ClickHouseClient } from '../lib/clickhouse';
import { addAndWait } from './control-client';
import type { ControlJob } from './queue-names';

/**
 * Read access to ClickHouse for processes that may not own it. With a
 * ClickHouse server, or in the process that owns the embedded store, it
 * queries directly. An API-only process on the embedded default cannot open
 * the store (one process per chDB directory), so it sends the query as a
 * control job to the worker that owns it and waits for the rows.
 */
export interface ClickHouseReader {
  query<T>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
}

export function directReader(client: ClickHouseClient): ClickHouseReader {
  return {
    async query<T>(sql: string, params: Record<string, unknown> = {}) {
      const result = await client.query({
        query: sql,
        query_params: params,
        format: 'JSONEachRow',
        clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
      });
      return result.json<T>();
    },
  };
}

/** Rows a relayed query may return: results travel through Redis. */
export const RELAYED_QUERY_MAX_ROWS = 10_000;

export class RelayedReader implements ClickHouseReader {
  private events?: QueueEvents;
  /** QueueEvents' own connection: BullMQ never closes a connection it was handed, so close() does. */
  private connection?: Redis;

  constructor(
    private readonly controlQueue: Queue<ControlJob>,
    /** A connection QueueEvents may block on (it is duplicated, not used directly). */
    private readonly redis: Redis,
    private readonly timeoutMs = 30_000,
  ) {}

  async query<T>(sql: string, params: Record<string, unknown> = {}): Promise<T[]> {
    if (!this.events) {
      this.connection = this.redis.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true });
      this.events = new QueueEvents(this.controlQueue.name, { connection: this.connection, prefix: this.controlQueue.opts.prefix });
      await this.events.waitUntilReady();
    }
    const result = await addAndWait(this.controlQueue, this.events, { type: 'query', sql, params }, this.timeoutMs);
    if (result.type !== 'query') throw new Error('unexpected control result');
    return result.rows as T[];
  }

  async close(): Promise<void> {
    await this.events?.close();
    this.connection?.disconnect();
  }
}

import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { sleep } from '../traffic/load';
import { BENCH_TABLE } from '../traffic/workload';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Codes /clickhouse answers when the API process already runs ANALYST_MAX_CONCURRENT_QUERIES queries. */
const BUSY = new Set(['202', 'TOO_MANY_SIMULTANEOUS_QUERIES']);
/**
 * "Internal error" (UNKNOWN_EXCEPTION): on the embedded store, a relayed query
 * whose control job finishes before the API's waitUntilFinished() looks at it
 * fails with BullMQ's "Missing key for job … isFinished" (the job is removed on
 * completion). Under load that is a few percent of queries. The queries are
 * read-only, so they are retried, and the retries are counted and reported.
 */
const INTERNAL = new Set(['1002', 'UNKNOWN_EXCEPTION']);

/**
 * What the bench sees in ClickHouse, asked the way an analyst asks: the
 * product's read-only `/clickhouse` endpoint (ClickHouse's HTTP interface),
 * through @clickhouse/client, with an API key of the `query` scope. On the
 * embedded store the API process relays each query to the worker process
 * that owns the store (a control job in Redis), which runs it on its
 * analysts' chDB connection, one at a time. These queries, and the
 * `analyst_query` audit event and `api_access` row the product records for
 * each, are therefore part of the measured load; the bench calibrates their
 * cost while the server is idle and reports it.
 *
 * Every query is limited to the bench's own rows: `source_app = 'bench'`
 * (the product's own events land in the same table) and
 * `occurred_at >= since` (the start of the run). The table is partitioned
 * by occurred_at, so parts that hold only older rows (the preloaded history)
 * are skipped by their min/max index, and the probe costs the same on an
 * empty and on a 20M-row table: only the product's own work grows with it.
 */
export class ClickHouseProbe {
  private readonly client: ClickHouseClient;
  private readonly since: string;
  /** Round trip of every query that answered, ms (retries included). */
  readonly roundTrips: number[] = [];
  /** Queries retried after the product's "Internal error" (see INTERNAL). */
  internalErrors = 0;
  /** Requests sent to /clickhouse, retries included: what the server spent on the bench's polls is per request. */
  requests = 0;

  constructor(port: number, key: string, since: Date) {
    this.client = createClient({
      url: `http://127.0.0.1:${port}`,
      pathname: '/clickhouse',
      username: 'bench',
      password: key,
      request_timeout: 60_000,
      max_open_connections: 4,
      // Its own log lines for the errors retried above would bury the bench's output.
      log: { level: ClickHouseLogLevel.OFF },
    });
    this.since = since.toISOString().replace('T', ' ').replace('Z', '');
  }

  private async rows<T>(query: string): Promise<T[]> {
    const started = performance.now();
    for (let attempt = 0; ; attempt++) {
      this.requests++;
      try {
        const result = await this.client.query({ query, query_params: { since: this.since }, format: 'JSONEachRow' });
        const rows = await result.json<T>();
        this.roundTrips.push(performance.now() - started);
        return rows;
      } catch (error) {
        const code = String((error as { code?: unknown }).code ?? '');
        if (attempt >= 50 || !(BUSY.has(code) || INTERNAL.has(code))) throw error;
        if (INTERNAL.has(code)) this.internalErrors++;
        await sleep(BUSY.has(code) ? 50 : 0);
      }
    }
  }

  /** Which of these event_ids are stored. */
  async visible(ids: string[]): Promise<string[]> {
    const valid = ids.filter((id) => UUID.test(id));
    if (valid.length === 0) return [];
    const rows = await this.rows<{ id: string }>(
      `SELECT toString(event_id) AS id FROM ${BENCH_TABLE} WHERE source_app = 'bench' AND occurred_at >= {since:DateTime64(3, 'UTC')} AND event_id IN (${valid.map((id) => `'${id}'`).join(',')})`,
    );
    return rows.map((r) => r.id);
  }

  /** Rows the bench has posted that are stored (since the start of the run). */
  async count(): Promise<number> {
    const [row] = await this.rows<{ n: string }>(`SELECT count() AS n FROM ${BENCH_TABLE} WHERE source_app = 'bench' AND occurred_at >= {since:DateTime64(3, 'UTC')}`);
    return Number(row?.n ?? NaN);
  }

  /** Active parts and rows of the bench's table (the whole table, preloaded history included). */
  async parts(): Promise<{ parts: number; rows: number }> {
    const [row] = await this.rows<{ parts: string; rows: string }>(
      `SELECT count() AS parts, sum(rows) AS rows FROM system.parts WHERE database = currentDatabase() AND table = '${BENCH_TABLE}' AND active`,
    );
    return { parts: Number(row?.parts ?? NaN), rows: Number(row?.rows ?? NaN) };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

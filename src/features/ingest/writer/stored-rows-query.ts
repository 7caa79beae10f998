import type { ClickHouseClient } from '../../../lib/clickhouse';
import type { ClickHouseRow } from '../../../domain/event-row';
import { UUID_PATTERN } from '../../../schemas/fields';
import { rowIdentity } from './row-identity';

/** 5000 ids keep a statement under ClickHouse's default max_query_size (256 KiB)… */
export const IDS_PER_QUERY = 5000;
/** …and so does this many characters, whatever else a statement holds. */
const MAX_STATEMENT_CHARS = 250_000;

/** DateTime64 text as the writer's rows carry it (`2025-06-21 14:12:00.000`, UTC). */
const CLICKHOUSE_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$/;

function timeMs(value: unknown): number {
  return typeof value === 'string' && CLICKHOUSE_TIME.test(value) ? Date.parse(`${value.replace(' ', 'T')}Z`) : Number.NaN;
}

function clickHouseTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/**
 * The statements that find which of `rows` a table already holds, bounded so
 * their cost follows the load, not the table's history (README "Exactly once").
 * A stored row is looked for among:
 *   - rows received at most `lookbackMs` before the incoming one (a job's retry
 *     carries its first received_at, so it is always in range): the minmax
 *     index on received_at (clickhouse/010) skips every older granule;
 *   - at any age, rows with the incoming row's occurred_at, for the incoming
 *     rows whose occurred_at lies outside [received − lookback + skew, received + skew]
 *     (an old event resent, or one dated ahead of the server's clock): the
 *     month partitions of occurred_at skip the other months. Within the range
 *     the first arm already holds any earlier copy, unless that copy's
 *     occurred_at was more than `skew` ahead of the clock that received it.
 * Ids are spliced into the SQL rather than bound (thousands of bound values
 * would overflow the URL of an HTTP request), each checked against the UUID
 * pattern first; times are checked against the DateTime64 text pattern.
 * Only the ids and times are spliced; the app is read back, never put into the SQL.
 */
export function storedRowsQueries(table: string, rows: ClickHouseRow[], lookbackMs: number, now = Date.now()): string[] {
  // A fast client clock's copy escapes the first arm only beyond this; half the lookback when that is shorter.
  const skewMs = Math.min(5 * 60_000, lookbackMs / 2);
  const byId = new Map<string, ClickHouseRow[]>();
  for (const row of rows) {
    const id = String(row.event_id);
    if (!UUID_PATTERN.test(id)) continue;
    const same = byId.get(id);
    if (same) same.push(row);
    else byId.set(id, [row]);
  }
  const ids = [...byId.keys()];
  const statements: string[] = [];
  const add = (chunk: string[]) => {
    const statement = statementFor(table, chunk, byId, lookbackMs, skewMs, now);
    // Many old events add their times and ids a second time: halve until it fits.
    if (statement.length <= MAX_STATEMENT_CHARS || chunk.length === 1) statements.push(statement);
    else {
      add(chunk.slice(0, chunk.length >> 1));
      add(chunk.slice(chunk.length >> 1));
    }
  };
  for (let start = 0; start < ids.length; start += IDS_PER_QUERY) add(ids.slice(start, start + IDS_PER_QUERY));
  return statements;
}

/**
 * The ids as one string literal split by ClickHouse, not thousands of
 * literals: parsing 5,000 literals into the query's syntax tree was about half
 * of the lookup's CPU (docs/performance.md). Ids are UUIDs, so they hold no comma or quote.
 */
function uuidSet(ids: string[]): string {
  return `(SELECT toUUID(arrayJoin(splitByChar(',', '${ids.join(',')}'))))`;
}

function statementFor(table: string, chunk: string[], byId: Map<string, ClickHouseRow[]>, lookbackMs: number, skewMs: number, now: number): string {
  let oldest = now;
  const aged = new Set<string>();
  const agedTimes = new Set<string>();
  for (const id of chunk) {
    for (const row of byId.get(id)!) {
      const received = timeMs(row.received_at);
      const at = timeMs(row.occurred_at);
      if (Number.isNaN(received)) continue;
      oldest = Math.min(oldest, received);
      if (!Number.isNaN(at) && (at < received - lookbackMs + skewMs || at > received + skewMs)) {
        aged.add(id);
        agedTimes.add(String(row.occurred_at));
      }
    }
  }
  const select = `SELECT source_app AS app, toString(event_id) AS id, any(content_hash) AS hash FROM ${table}`;
  const list = (values: Iterable<string>) => [...values].map((v) => `'${v}'`).join(',');
  const arms = [`${select} WHERE received_at >= toDateTime64('${clickHouseTime(oldest - lookbackMs)}', 3, 'UTC') AND event_id IN ${uuidSet(chunk)} GROUP BY source_app, event_id`];
  if (aged.size > 0) arms.push(`${select} WHERE occurred_at IN (${list(agedTimes)}) AND event_id IN (${list(aged)}) GROUP BY source_app, event_id`);
  return arms.join(' UNION ALL ');
}

/** Identity (see rowIdentity) → content_hash of the given rows that the table holds, within the lookback (storedRowsQueries). */
export async function storedHashes(clickhouse: ClickHouseClient, table: string, rows: ClickHouseRow[], lookbackMs: number): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const query of storedRowsQueries(table, rows, lookbackMs)) {
    const result = await clickhouse.query({ query, format: 'JSONEachRow' });
    for (const row of await result.json<{ app: string; id: string; hash: string }>()) found.set(rowIdentity({ source_app: row.app, event_id: row.id }), row.hash);
  }
  return found;
}

/**
 * History for the "e2e with 20M preloaded rows" comparison: fills the bench's
 * table in the store a server is about to open, by ClickHouse itself
 * (`INSERT … SELECT … FROM numbers(N)`), then waits for the merges that
 * insert starts to finish, so the server starts on a settled table.
 *
 * Runs in its own process before the server starts, on the server's own
 * DATA_DIR (the environment is the server's, read with the product's
 * loadConfig, so path and database are the ones the server opens): an
 * embedded store belongs to one process at a time.
 *
 * The rows are audit rows as the pipeline stores them for the bench's
 * workload — same columns, same shapes (three JSON objects, a 64-hex
 * content_hash, users, sessions, IPs and event types of the same
 * cardinalities) — from source_app `bench-preload`, with occurred_at and
 * received_at spread over the 30 days that end an hour before the run, so
 * they sit in the current month's partition as well as older ones. They are
 * UNSEALED (seal_seq 0, no row_hash), as rows written before sealing
 * existed: the ingest path never reads an old row's hash (the chain's head
 * comes from PostgreSQL), and the duplicate check reads only event_id,
 * source_app and content_hash, so seals would change nothing the comparison
 * measures. Sealing 20M rows would take the Node sealer half an hour, and
 * seals made up in SQL would be reported as tampering by `auditflow verify`
 * (their seal numbers would also collide with the bench's own seals).
 *
 * argv: <rows> <max seconds to wait for merges>
 */
import type { PreloadResult } from './ipc';
import { product } from '../traffic/product';
import { BENCH_TABLE } from '../traffic/workload';
import { sleep } from '../traffic/load';

const DAY_MS = 86_400_000;

/** The INSERT … SELECT that generates `rows` rows ending `endMsAgo` before now. */
export function preloadSql(rows: number, spanMs = 30 * DAY_MS, endMsAgo = 3_600_000): string {
  const eventTypes = ['status_changed', 'profile_updated', 'login_success', 'role_changed', 'data_exported', 'email_changed', 'permission_granted', 'account_suspended'];
  const userAgents = [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
    'okhttp/4.12.0',
  ];
  const list = (values: string[]) => `[${values.map((v) => `'${v}'`).join(', ')}]`;
  // JSON values are constants (one parse each, instead of one per row: 20M JSON parses take minutes on 2 cores).
  return `INSERT INTO ${BENCH_TABLE} (event_id, source_app, event_type, occurred_at, received_at, content_hash, user_id, action_type, entity_type, entity_id,
      triggered_by_type, triggered_by_id, previous_value, new_value, reason, operation_status, ip_address, user_agent, session_id, duration_ms, metadata)
    SELECT
      generateUUIDv4(number) AS id,
      'bench-preload',
      ${list(eventTypes)}[number % ${eventTypes.length} + 1],
      now64(3, 'UTC') - toIntervalMillisecond(${endMsAgo} + intDiv(number * ${spanMs}, ${rows})) AS at,
      at,
      lower(hex(SHA256(toString(id)))),
      concat('user-', toString(number % 5000)) AS user,
      'UPDATE',
      'USER_ACCOUNT',
      concat('acct-', toString(number % 20000)),
      if(number % 10 = 0, 'admin', 'user'),
      if(number % 10 = 0, 'admin-1', user),
      '{"status":"active","plan":"pro"}',
      '{"status":"suspended","plan":"pro","changed_fields":["status"]}',
      'Policy violation',
      'SUCCESS',
      IPv4NumToString(toUInt32(167772160 + number % 16777216)),
      ${list(userAgents)}[number % ${userAgents.length} + 1],
      concat('sess-', toString(number % 50000)),
      toUInt32(number % 500),
      '{"request_id":"req-preload","region":"eu-west-1","client":"web","tags":["bench"]}'
    FROM numbers(${rows})`;
}

async function main(): Promise<void> {
  const rows = Number(process.argv[2]);
  const settleSeconds = Number(process.argv[3] ?? 180);
  if (!Number.isInteger(rows) || rows <= 0) throw new Error('usage: preload.child <rows> [settle seconds]');
  const config = product.env().loadConfig(process.env);
  if (config.clickhouse.mode !== 'embedded') throw new Error('the preload writes into the embedded store of the server it precedes');
  const client = await product.clickhouse().openClickHouse(config.clickhouse);
  try {
    await product.clickhouseMigrations().migrateClickHouse(client);
    const query = async <T>(sql: string) => (await client.query({ query: sql, format: 'JSONEachRow' })).json<T>();
    const partsSql = `SELECT count() AS parts, sum(rows) AS rows, sum(bytes_on_disk) AS bytes, uniqExact(partition) AS partitions FROM system.parts WHERE database = currentDatabase() AND table = '${BENCH_TABLE}' AND active`;

    const started = performance.now();
    await client.command({ query: preloadSql(rows), clickhouse_settings: { max_insert_threads: '2' } });
    const insertMs = performance.now() - started;
    const [afterInsert] = await query<{ parts: string }>(partsSql);

    // Merges settled: none running twice in a row, a second apart.
    const settleStarted = performance.now();
    let quiet = 0;
    while (quiet < 2 && performance.now() - settleStarted < settleSeconds * 1000) {
      const [m] = await query<{ n: string }>(`SELECT count() AS n FROM system.merges WHERE database = currentDatabase() AND table = '${BENCH_TABLE}'`);
      quiet = Number(m?.n ?? 0) === 0 ? quiet + 1 : 0;
      if (quiet < 2) await sleep(1000);
    }
    const settleMs = performance.now() - settleStarted;
    const [parts] = await query<{ parts: string; rows: string; bytes: string; partitions: string }>(partsSql);
    const message: PreloadResult = {
      type: 'preload',
      rows,
      insertMs,
      settleMs,
      settled: quiet >= 2,
      partsAfterInsert: Number(afterInsert?.parts ?? NaN),
      parts: Number(parts?.parts ?? NaN),
      partitions: Number(parts?.partitions ?? NaN),
      rowsInTable: Number(parts?.rows ?? NaN),
      bytesOnDisk: Number(parts?.bytes ?? NaN),
    };
    await new Promise<void>((resolve, reject) => process.send?.(message, undefined, undefined, (error) => (error ? reject(error) : resolve())) ?? resolve());
  } finally {
    await client.close();
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`preload child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}

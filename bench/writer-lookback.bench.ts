/**
 * The writer's duplicate check against history (issue 15, item 5): what one
 * flush of 5,000 fresh audit rows costs as `audit_logs` holds 0, 5M and 20M
 * older rows, and what the check reads.
 *
 * One embedded store in a temp dir, migrated as the product does. History
 * is written by ClickHouse itself (the preload's `INSERT … SELECT … FROM
 * numbers(N)`, rows received 1 h to 30 days ago), then left to merge. At each
 * size the bench runs, BENCH_LOOKBACK_FLUSHES times (default 10):
 *   - the bounded check (storedRowsQueries, what the writer asks) for a new
 *     batch, with ClickHouse's own statistics (rows read, elapsed);
 *   - the same batch through the real ClickHouseWriter (check + insert);
 *   - the unbounded check the writer used to ask, for comparison.
 * Then, at the largest size, two harder cases: a flush holding 100 events that
 * occurred 10 days ago (the occurred_at arm), and the check right after a
 * merge that folded the last minutes' rows into the history (OPTIMIZE FINAL):
 * every granule of the merged part then holds some recent row, so the
 * receipt-time index cannot skip it until those rows age out of the lookback.
 *
 * argv: history sizes, ascending (default 0 5000000 20000000).
 * Run: npm run build && tsc -p bench/tsconfig.json && node dist-bench/bench/writer-lookback.bench.js
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { product } from '../traffic/product';
import { sleep } from '../traffic/load';
import { preloadSql } from './preload.child';

const { toClickHouseRow } = product.eventRow();
const { toQueuedEvent } = product.queuedEvent();
const { parseEvent } = product.event();
const { openClickHouse } = product.clickhouse();
const { migrateClickHouse } = product.clickhouseMigrations();
const { createLogger } = product.logger();
const { ClickHouseWriter } = product.writer();
const { DeadLetterRepository } = product.deadLetters();
const { storedRowsQueries } = product.storedRowsQuery();

const FLUSHES = Number(process.env.BENCH_LOOKBACK_FLUSHES) || 10;
const BATCH = 5000;
const LOOKBACK_MS = 30 * 60_000;
const DAY_MS = 86_400_000;

type Row = Record<string, unknown>;

function batch(occurredAt?: Date, count = BATCH): Row[] {
  const receivedAt = new Date().toISOString();
  return Array.from({ length: count }, (_, i) => {
    const raw = {
      kind: 'audit',
      event_type: 'profile_updated',
      event_id: randomUUID(),
      user_id: `user-${i % 5000}`,
      action_type: 'UPDATE',
      entity_type: 'USER_ACCOUNT',
      ...(occurredAt ? { occurred_at: occurredAt.toISOString() } : {}),
      metadata: { request_id: randomUUID(), region: 'eu-west-1' },
    };
    const parsed = parseEvent(raw);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    return toClickHouseRow(toQueuedEvent(parsed.event, raw), 'bench', receivedAt);
  });
}

interface Stats {
  ms: number;
  rowsRead: number;
}

async function timed(clickhouse: ClickHouseClient, query: string): Promise<Stats> {
  const started = performance.now();
  const result = await clickhouse.query({ query, format: 'JSON' });
  const body = await result.json<{ statistics?: { rows_read: number } }>();
  return { ms: performance.now() - started, rowsRead: Number(body.statistics?.rows_read ?? NaN) };
}

function unboundedQuery(rows: Row[]): string {
  const ids = rows.map((r) => `'${String(r.event_id)}'`).join(',');
  return `SELECT source_app AS app, toString(event_id) AS id, any(content_hash) AS hash FROM audit_logs WHERE event_id IN (${ids}) GROUP BY source_app, event_id`;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function granules(clickhouse: ClickHouseClient, query: string): Promise<string> {
  const result = await clickhouse.query({ query: `EXPLAIN indexes = 1 ${query}`, format: 'TabSeparatedRaw' });
  const lines = (await result.text()).split('\n');
  // Each index's line "Granules: kept/total", in the order they applied.
  return lines
    .map((l, i) =>
      /Granules:/.test(l)
        ? `${(
            lines
              .slice(Math.max(0, i - 8), i)
              .reverse()
              .find((x) => /Name:|Type:/.test(x)) ?? ''
          ).trim()} ${l.trim()}`
        : null,
    )
    .filter(Boolean)
    .join(' | ');
}

async function settle(clickhouse: ClickHouseClient): Promise<void> {
  let quiet = 0;
  const deadline = Date.now() + 300_000;
  while (quiet < 2 && Date.now() < deadline) {
    const result = await clickhouse.query({ query: `SELECT count() AS n FROM system.merges WHERE database = currentDatabase()`, format: 'JSONEachRow' });
    const [m] = await result.json<{ n: string }>();
    quiet = Number(m?.n ?? 0) === 0 ? quiet + 1 : 0;
    if (quiet < 2) await sleep(1000);
  }
}

async function tableSize(clickhouse: ClickHouseClient): Promise<string> {
  const result = await clickhouse.query({
    query: `SELECT sum(rows) AS rows, count() AS parts, sum(marks) AS granules FROM system.parts WHERE database = currentDatabase() AND table = 'audit_logs' AND active`,
    format: 'JSONEachRow',
  });
  const [p] = await result.json<{ rows: string; parts: string; granules: string }>();
  return `${Number(p?.rows ?? 0).toLocaleString('en')} rows, ${p?.parts} parts, ${p?.granules} granules`;
}

async function measure(label: string, clickhouse: ClickHouseClient, writer: InstanceType<typeof ClickHouseWriter>, flushMs: number[], makeBatch: () => Row[], unbounded = true): Promise<void> {
  const checks: Stats[] = [];
  const olds: Stats[] = [];
  const flushes = flushMs.length;
  let explain = '';
  for (let i = 0; i < FLUSHES; i++) {
    const rows = makeBatch();
    const [query] = storedRowsQueries('audit_logs', rows, LOOKBACK_MS);
    if (i === 0) explain = await granules(clickhouse, query!);
    checks.push(await timed(clickhouse, query!));
    if (unbounded) olds.push(await timed(clickhouse, unboundedQuery(rows)));
    await writer.write('audit_logs', rows);
  }
  const writes = flushMs.slice(flushes);
  console.log(`\n## ${label} (${await tableSize(clickhouse)})`);
  console.log(
    `bounded check: median ${median(checks.map((c) => c.ms)).toFixed(1)} ms, max ${Math.max(...checks.map((c) => c.ms)).toFixed(1)} ms, rows read ${median(checks.map((c) => c.rowsRead)).toLocaleString('en')}`,
  );
  console.log(`  EXPLAIN indexes=1: ${explain}`);
  if (unbounded) console.log(`unbounded check (before): median ${median(olds.map((c) => c.ms)).toFixed(1)} ms, rows read ${median(olds.map((c) => c.rowsRead)).toLocaleString('en')}`);
  console.log(`whole flush through the writer (check + insert): median ${median(writes).toFixed(1)} ms, max ${Math.max(...writes).toFixed(1)} ms`);
}

async function main(): Promise<void> {
  const sizes = (process.argv.length > 2 ? process.argv.slice(2) : ['0', '5000000', '20000000']).map(Number);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auditflow-lookback-bench-'));
  const clickhouse = await openClickHouse({ mode: 'embedded', path: path.join(dir, 'clickhouse'), database: 'auditflow' });
  const flushMs: number[] = [];
  try {
    await migrateClickHouse(clickhouse);
    const writer = new ClickHouseWriter(clickhouse, new DeadLetterRepository(clickhouse), {
      maxRows: BATCH,
      maxAgeMs: 60_000,
      logger: createLogger('warn'),
      lookbackMinutes: LOOKBACK_MS / 60_000,
      onFlush: (stats) => flushMs.push(stats.ms),
    });
    let history = 0;
    for (const size of sizes) {
      if (size > history) {
        const started = performance.now();
        await clickhouse.command({ query: preloadSql(size - history), clickhouse_settings: { max_insert_threads: '2' } });
        await settle(clickhouse);
        console.log(`\n(history +${(size - history).toLocaleString('en')} rows in ${((performance.now() - started) / 1000).toFixed(0)} s, merges settled)`);
        history = size;
      }
      await measure(`${history.toLocaleString('en')} rows of history`, clickhouse, writer, flushMs, () => batch());
    }
    await measure('100 events that occurred 10 days ago, among 4,900 new ones', clickhouse, writer, flushMs, () => [
      ...batch(new Date(Date.now() - 10 * DAY_MS), 100),
      ...batch(undefined, BATCH - 100),
    ]);
    const started = performance.now();
    await clickhouse.command({ query: 'OPTIMIZE TABLE audit_logs FINAL' });
    console.log(`\n(OPTIMIZE TABLE audit_logs FINAL in ${((performance.now() - started) / 1000).toFixed(0)} s: the recent flushes are merged into the history)`);
    await measure('right after a merge that folded recent rows into the history', clickhouse, writer, flushMs, () => batch());
    await writer.close();
  } finally {
    await clickhouse.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

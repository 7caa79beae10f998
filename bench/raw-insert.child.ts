/**
 * (a) Raw insert rate: the bench's rows, built exactly as the pipeline builds
 * them, inserted straight into the same ClickHouse table (same DDL, applied by
 * the product's migrateClickHouse) in batches of 10k rows, async_insert = 0,
 * in the format and by the path the writer uses (JSONCompactEachRow, by its
 * compactRows and insertCompactRows, which on the embedded store hands chDB
 * one buffer): so (a) is the store's own rate for these rows, not a slower
 * encoding of them.
 *
 * Runs in its own process because an embedded chDB store belongs to one
 * process: this keeps the native engine out of the load generator and lets
 * the server under test open its own store afterwards.
 *
 * argv: <chdb dir> <max seconds> <max batches>
 */
import { randomUUID } from 'node:crypto';
import type { RawInsertResult } from './ipc';
import { product } from '../traffic/product';
import { auditEvent, BENCH_TABLE, pipelineRow } from '../traffic/workload';

const BATCH = 10_000;

async function main(): Promise<void> {
  const [dir, maxSecondsArg, maxBatchesArg] = process.argv.slice(2);
  if (!dir) throw new Error('usage: raw-insert.child <chdb dir> [max seconds] [max batches]');
  const maxMs = Number(maxSecondsArg ?? 12) * 1000;
  const maxBatches = Number(maxBatchesArg ?? 30);

  const { openClickHouse } = product.clickhouse();
  const { migrateClickHouse } = product.clickhouseMigrations();
  const { compactRows } = product.compactRows();
  const { insertCompactRows } = product.clickhouseInsert();
  const client = await openClickHouse({ mode: 'embedded', path: dir, database: 'auditflow' });
  try {
    await migrateClickHouse(client);

    // One batch of pipeline-built rows; every inserted batch is a copy with
    // fresh event_ids, so no two blocks are identical (the tables keep a
    // deduplication window, which would silently drop a repeated block).
    const receivedAt = new Date().toISOString();
    const template = Array.from({ length: BATCH }, () => pipelineRow(auditEvent(), 'bench', receivedAt));
    const jsonBytesPerRow = Math.round(template.slice(0, 1000).reduce((n, r) => n + JSON.stringify(r).length + 1, 0) / 1000);
    const fresh = () => template.map((row) => ({ ...row, event_id: randomUUID() }));

    const insert = async (values: Record<string, unknown>[]) => {
      const t = performance.now();
      const { columns, values: compact } = compactRows(values);
      await insertCompactRows(client, { table: BENCH_TABLE, columns, values: compact, settings: { async_insert: 0 } });
      return performance.now() - t;
    };

    await insert(fresh()); // warm-up: first insert creates the partition, loads code paths; not counted
    const perBatch: number[] = [];
    let insertMs = 0;
    const started = performance.now();
    while (perBatch.length < maxBatches && (perBatch.length < 5 || performance.now() - started < maxMs)) {
      const values = fresh();
      const ms = await insert(values);
      insertMs += ms;
      perBatch.push((BATCH / ms) * 1000);
    }
    const result = await client.query({ query: `SELECT count() AS n FROM ${BENCH_TABLE}`, format: 'JSONEachRow' });
    const [{ n } = { n: '0' }] = await result.json<{ n: string }>();
    const message: RawInsertResult = {
      type: 'raw-insert',
      batchSize: BATCH,
      batches: perBatch.length,
      rows: perBatch.length * BATCH,
      insertMs,
      perBatchRowsPerSec: perBatch,
      countAfter: Number(n) - BATCH,
      jsonBytesPerRow,
    };
    await new Promise<void>((resolve, reject) => process.send?.(message, undefined, undefined, (error) => (error ? reject(error) : resolve())) ?? resolve());
  } finally {
    await client.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`raw-insert child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);

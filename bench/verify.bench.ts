/**
 * `npm run bench` part 2: integrity verification throughput. Writes N audit
 * rows through the real ClickHouse writer with sealing, in two halves, then
 * runs the verifier three times over all of them and reports rows/s (median)
 * and the heap high-water mark, which must not grow with N (verification
 * reads in pages).
 *
 * The writer's rate is reported for each half:
 *   - one 10k-row write at a time, each flushed alone (the measure of runs
 *     before 2026-12-07): nothing of one flush can overlap the next;
 *   - as the worker feeds it: WORKER_CONCURRENCY's default 400 slots, each
 *     writing a 100-row job and waiting for it, with the worker's flush
 *     settings (src/roles/worker-role.ts), so jobs arrive while a flush runs,
 *     as they do in the product.
 *
 * Knobs: BENCH_VERIFY_ROWS [200000]; BENCH_KEEP_DIR=1 keeps the chDB store (its path is printed) to time queries on it.
 * Run node with --expose-gc for a clean heap baseline.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Pool } from 'pg';
import { product } from '../traffic/product';
import { KeyRing } from '../src/lib/key-ring';

const { toClickHouseRow } = product.eventRow();
const { toQueuedEvent } = product.queuedEvent();
const { openClickHouse } = product.clickhouse();
const { migrateClickHouse } = product.clickhouseMigrations();
const { createLogger } = product.logger();
const { ensureDatabase } = product.pg();
const { migratePostgres } = product.pgMigrations();
const { SigningKey } = product.signingKey();
const { parseEvent } = product.event();
const { ChainSealer } = product.chainSealer();
const { ClickHouseWriter } = product.writer();
const { DeadLetterRepository } = product.deadLetters();
const { IntegrityVerifier } = product.verifier();
const { SealRepository } = product.seals();

const ROWS = Number(process.env.BENCH_VERIFY_ROWS) || 200_000;

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auditflow-verify-bench-'));
  const db = `auditflow_verify_bench_${process.pid}`;
  const pgBase = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
  const databaseUrl = `${pgBase}/${db}`;
  await ensureDatabase(databaseUrl);
  const pg = new Pool({ connectionString: databaseUrl, max: 4 });
  const clickhouse = await openClickHouse({ mode: 'embedded', path: path.join(dir, 'clickhouse'), database: 'auditflow' });
  try {
    await migratePostgres(pg);
    await migrateClickHouse(clickhouse);
    const key = SigningKey.load(undefined, path.join(dir, 'keys'));
    const seals = new SealRepository(pg, clickhouse);
    // Exclusive, as the worker makes it on the embedded store: the chain's head is read once.
    const sealer = new ChainSealer(seals, key, true);
    const deadLetters = new DeadLetterRepository(clickhouse);
    const logger = createLogger('warn');
    // The rows are made first, so the figure is the writer's own: check, seal, insert, finalize.
    const makeRows = (count: number) =>
      Array.from({ length: count }, (_, i) => {
        const raw = {
          kind: 'audit',
          event_type: 'profile_updated',
          event_id: randomUUID(),
          user_id: `user-${i % 500}`,
          ip_address: '10.0.0.1',
          previous_value: { name: 'a' },
          new_value: { name: `b${i}` },
          metadata: { request: { path: '/x' } },
        };
        const parsed = parseEvent(raw);
        if (!parsed.ok) throw new Error('bad fixture');
        return toClickHouseRow(toQueuedEvent(parsed.event, raw), 'bench', new Date().toISOString());
      });
    const serialRows = Math.ceil(ROWS / 2 / 10_000) * 10_000;
    const fedRows = ROWS - serialRows;

    const serial = new ClickHouseWriter(clickhouse, deadLetters, { maxRows: 10_000, maxAgeMs: 60_000, logger, sealer });
    const batches: ReturnType<typeof toClickHouseRow>[][] = [];
    for (let made = 0; made < serialRows; made += 10_000) batches.push(makeRows(Math.min(10_000, serialRows - made)));
    // CPU of every thread (chDB's included) per row: steadier than the rate on a shared machine.
    const cpuPerRow = (since: NodeJS.CpuUsage, rows: number) => {
      const used = process.cpuUsage(since);
      return rows > 0 ? Math.round((used.user + used.system) / rows) : 0;
    };
    let started = performance.now();
    let cpu = process.cpuUsage();
    for (const rows of batches.splice(0)) await serial.write('audit_logs', rows);
    await serial.close();
    const serialSeconds = (performance.now() - started) / 1000;
    const serialCpu = cpuPerRow(cpu, serialRows);

    const SLOTS = 400;
    const fed = new ClickHouseWriter(clickhouse, deadLetters, { maxRows: 5_000, maxWrites: SLOTS / 4, maxAgeMs: 500, logger, sealer });
    const jobs: ReturnType<typeof toClickHouseRow>[][] = [];
    for (let made = 0; made < fedRows; made += 100) jobs.push(makeRows(Math.min(100, fedRows - made)));
    started = performance.now();
    cpu = process.cpuUsage();
    await Promise.all(
      Array.from({ length: SLOTS }, async () => {
        for (let job = jobs.pop(); job; job = jobs.pop()) await fed.write('audit_logs', job);
      }),
    );
    await fed.close();
    const fedSeconds = (performance.now() - started) / 1000;
    const fedCpu = cpuPerRow(cpu, fedRows);

    const verifier = new IntegrityVerifier(clickhouse, KeyRing.of(key.publicKey), seals);
    const runs: number[] = [];
    // Run with --expose-gc: the heap the writer left behind is collected first, so the peak is verification's own.
    (globalThis as { gc?: () => void }).gc?.();
    const baseHeap = process.memoryUsage().heapUsed;
    let peakHeap = 0;
    const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 50);
    for (let i = 0; i < 3; i++) {
      const result = await verifier.verify();
      if (!result.ok) throw new Error(`verification failed: ${JSON.stringify(result.tables.filter((t) => !t.ok))}`);
      runs.push(result.rows_per_second);
    }
    clearInterval(sampler);
    runs.sort((a, b) => a - b);
    process.stdout.write(
      `\nIntegrity verification (${ROWS} sealed audit rows)\n` +
        `  write with sealing, as the worker feeds it: ${fedRows > 0 ? Math.round(fedRows / fedSeconds) : 'n/a'} rows/s (${fedRows} rows; ${SLOTS} slots of 100-row jobs, 5,000-row flushes; ${fedCpu} µs of CPU a row)\n` +
        `  write with sealing, one 10k-row write at a time: ${Math.round(serialRows / serialSeconds)} rows/s (${serialRows} rows; ${serialCpu} µs of CPU a row)\n` +
        `  verify: median ${runs[1]} rows/s (runs: ${runs.join(', ')})\n` +
        `  peak heap during verify: ${Math.round(peakHeap / 1e6)} MB (${Math.round((peakHeap - baseHeap) / 1e6)} MB above the ${Math.round(baseHeap / 1e6)} MB before it)\n`,
    );
  } finally {
    await clickhouse.close();
    await pg.end();
    const admin = new Client({ connectionString: `${pgBase}/postgres` });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    await admin.end();
    if (!process.env.BENCH_KEEP_DIR) fs.rmSync(dir, { recursive: true, force: true });
    else process.stdout.write(`kept ${dir}\n`);
  }
}

void main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});

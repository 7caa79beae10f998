/**
 * `npm run bench` part 2: integrity verification throughput. Writes N audit
 * rows through the real ClickHouse writer (sealed in 10k-row flushes), then
 * runs the verifier three times and reports rows/s (median) and the heap
 * high-water mark, which must not grow with N (verification reads in pages).
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
    const writer = new ClickHouseWriter(clickhouse, new DeadLetterRepository(clickhouse), {
      maxRows: 10_000,
      maxAgeMs: 60_000,
      logger: createLogger('warn'),
      // Exclusive, as the worker makes it on the embedded store: the chain's head is read once.
      sealer: new ChainSealer(seals, key, true),
    });
    // The rows are made first, so the figure is the writer's own: check, seal, insert, finalize.
    const batches: ReturnType<typeof toClickHouseRow>[][] = [];
    for (let made = 0; made < ROWS; made += 10_000) {
      batches.push(
        Array.from({ length: Math.min(10_000, ROWS - made) }, (_, i) => {
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
        }),
      );
    }
    const started = performance.now();
    for (const rows of batches.splice(0)) await writer.write('audit_logs', rows);
    await writer.close();
    const writeSeconds = (performance.now() - started) / 1000;

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
      `\nIntegrity verification (${ROWS} sealed audit rows, ${ROWS / 10_000} seals)\n` +
        `  write with sealing: ${Math.round(ROWS / writeSeconds)} rows/s\n` +
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

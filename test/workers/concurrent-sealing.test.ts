import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { toClickHouseRow } from '../../src/domain/event-row';
import { toQueuedEvent } from '../../src/domain/queued-event';
import { openClickHouse, type ClickHouseClient } from '../../src/lib/clickhouse';
import { migrateClickHouse } from '../../src/lib/clickhouse-migrations';
import { ensureDatabase } from '../../src/lib/pg';
import { migratePostgres } from '../../src/lib/pg-migrations';
import { RedisLock } from '../../src/lib/redis-lock';
import { KeyRing } from '../../src/lib/key-ring';
import { SigningKey } from '../../src/lib/signing-key';
import { parseEvent } from '../../src/schemas/event';
import { ChainSealer } from '../../src/features/integrity/chain-sealer';
import { ClickHouseWriter } from '../../src/features/ingest/writer/clickhouse-writer';
import { DeadLetterRepository } from '../../src/features/ingest/dead-letters/dead-letter.repository';
import { IntegrityVerifier } from '../../src/features/integrity/integrity-verifier';
import { SealRepository } from '../../src/features/integrity/seal.repository';
import { silentLogger } from '../helpers/stack';
import { createNamespace, REDIS_URL } from '../helpers/test-env';

const ns = createNamespace('sealing');
let clickhouse: ClickHouseClient;
let pg: Pool;
let redis: Redis;

beforeAll(async () => {
  clickhouse = await openClickHouse(ns.config().clickhouse);
  await migrateClickHouse(clickhouse);
  await ensureDatabase(ns.databaseUrl);
  pg = new Pool({ connectionString: ns.databaseUrl, max: 8 });
  await migratePostgres(pg);
  redis = new Redis(REDIS_URL);
});

afterAll(async () => {
  await redis?.quit();
  await pg?.end();
  await clickhouse?.close();
  await ns.cleanup();
});

function rows(n: number) {
  return Array.from({ length: n }, () => {
    const raw = { kind: 'audit', event_type: 'profile_updated', event_id: randomUUID(), user_id: 'w', new_value: { n: 1 } };
    const parsed = parseEvent(raw);
    if (!parsed.ok) throw new Error('bad fixture');
    return toClickHouseRow(toQueuedEvent(parsed.event, raw), 'app', new Date().toISOString());
  });
}

it('several writers flushing one table at once keep a single unbroken chain', async () => {
  // Four writers, as four worker processes sharing a ClickHouse server would be: separate
  // buffers and sealers, one Redis lock per table between them.
  const key = SigningKey.load(undefined, `${ns.dataDir}/keys`);
  const writers = Array.from(
    { length: 4 },
    () =>
      new ClickHouseWriter(clickhouse, new DeadLetterRepository(clickhouse), {
        maxRows: 50,
        maxAgeMs: 20,
        logger: silentLogger,
        lock: new RedisLock(redis, ns.queuePrefix),
        sealer: new ChainSealer(new SealRepository(pg, clickhouse), key),
      }),
  );
  await Promise.all(writers.flatMap((writer) => Array.from({ length: 10 }, () => writer.write('audit_logs', rows(37)))));
  await Promise.all(writers.map((w) => w.close()));

  const result = await new IntegrityVerifier(clickhouse, KeyRing.of(key.publicKey), new SealRepository(pg, clickhouse)).verify();
  const audit = result.tables.find((t) => t.table === 'audit_logs')!;
  expect(audit).toMatchObject({ ok: true, rows: 4 * 10 * 37 });
  expect(audit.seals).toBeGreaterThan(4);
}, 60_000);

it('writes and verifies a full-size flush of 12 000 rows', async () => {
  const key = SigningKey.load(undefined, `${ns.dataDir}/keys`);
  const seals = new SealRepository(pg, clickhouse);
  const writer = new ClickHouseWriter(clickhouse, new DeadLetterRepository(clickhouse), {
    maxRows: 20_000,
    maxAgeMs: 60_000,
    logger: silentLogger,
    sealer: new ChainSealer(seals, key),
  });
  const audit = rows(12_000);
  const first = writer.write('audit_logs', audit);
  await writer.flushAll();
  await first;
  // The same rows again (a retried job): the stored-id check must cope with 12 000 ids at once.
  const again = writer.write('audit_logs', audit);
  await writer.close();
  await again;
  const result = await new IntegrityVerifier(clickhouse, KeyRing.of(key.publicKey), seals).verify();
  expect(result.ok).toBe(true);
  const [row] = await (await clickhouse.query({ query: `SELECT count() AS n, uniqExact(source_app, event_id) AS u FROM audit_logs WHERE user_id = 'w'`, format: 'JSONEachRow' })).json<{
    n: string;
    u: string;
  }>();
  expect(Number(row!.n)).toBe(Number(row!.u));
}, 60_000);

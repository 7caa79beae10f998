import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { toClickHouseRow, type ClickHouseRow } from '../../src/domain/event-row';
import { toQueuedEvent } from '../../src/domain/queued-event';
import { openClickHouse, type ClickHouseClient } from '../../src/lib/clickhouse';
import { migrateClickHouse } from '../../src/lib/clickhouse-migrations';
import { ensureDatabase } from '../../src/lib/pg';
import { migratePostgres } from '../../src/lib/pg-migrations';
import { KeyRing } from '../../src/lib/key-ring';
import { SigningKey } from '../../src/lib/signing-key';
import { parseEvent } from '../../src/schemas/event';
import { ChainSealer } from '../../src/features/integrity/chain-sealer';
import { ClickHouseWriter } from '../../src/features/ingest/writer/clickhouse-writer';
import { DeadLetterRepository } from '../../src/features/ingest/dead-letters/dead-letter.repository';
import { IntegrityVerifier } from '../../src/features/integrity/integrity-verifier';
import { SealRepository } from '../../src/features/integrity/seal.repository';
import { queryRows, silentLogger } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

/**
 * On the embedded store a flush's duplicate check runs while the flush before
 * it inserts (ClickHouseWriter). A hostile or retrying app that posts the same
 * events again, so that the copies land in the very next flush, must still
 * get one row per event, and a copy with other content a dead letter.
 */
const ns = createNamespace('pipelined');
let clickhouse: ClickHouseClient;
let pg: Pool;

beforeAll(async () => {
  clickhouse = await openClickHouse(ns.config().clickhouse);
  await migrateClickHouse(clickhouse);
  await ensureDatabase(ns.databaseUrl);
  pg = new Pool({ connectionString: ns.databaseUrl, max: 8 });
  await migratePostgres(pg);
});

afterAll(async () => {
  await pg?.end();
  await clickhouse?.close();
  await ns.cleanup();
});

function rowOf(raw: Record<string, unknown>): ClickHouseRow {
  const parsed = parseEvent(raw);
  if (!parsed.ok) throw new Error('bad fixture');
  return toClickHouseRow(toQueuedEvent(parsed.event, raw), 'app', new Date().toISOString());
}

const rawEvents = (n: number, user: string) => Array.from({ length: n }, () => ({ kind: 'audit', event_type: 'profile_updated', event_id: randomUUID(), user_id: user, new_value: { n: 1 } }));

async function count(where: string): Promise<number> {
  return Number((await queryRows<{ n: string }>(clickhouse, `SELECT count() AS n FROM audit_logs WHERE ${where}`))[0]!.n);
}

/** A writer on the embedded store's terms (an exclusive sealer, no lock), flushing every 1,000 rows. */
function sealedWriter(options: { retryDelaysMs?: number[] } = {}) {
  const key = SigningKey.load(undefined, `${ns.dataDir}/keys`);
  const seals = new SealRepository(pg, clickhouse);
  const writer = new ClickHouseWriter(clickhouse, new DeadLetterRepository(clickhouse), {
    maxRows: 1_000,
    maxAgeMs: 60_000,
    logger: silentLogger,
    ...options,
    sealer: new ChainSealer(seals, key, true),
  });
  return { key, seals, writer };
}

it('copies in the next flush, checked while the first inserts, are stored once; a changed copy is a dead letter', async () => {
  const { key, seals, writer } = sealedWriter();

  for (let round = 0; round < 5; round++) {
    const user = `round-${round}`;
    // A large first flush, so its INSERT takes long enough for the second flush's check to run beside it.
    const first = rawEvents(8_000, user);
    const copies = first.slice(0, 500);
    const changed = { ...first[600]!, new_value: { n: 2 } };
    const fresh = rawEvents(700, user);
    const flushes = [writer.write('audit_logs', first.map(rowOf)), writer.write('audit_logs', [...copies, changed, ...fresh].map(rowOf))];
    // And a third flush, queued behind both, holding copies of each.
    flushes.push(writer.write('audit_logs', [...first.slice(7_000, 8_000), ...fresh.slice(0, 100)].map(rowOf)));
    await Promise.all(flushes);
    expect(await count(`user_id = '${user}'`)).toBe(8_700);
    expect(await count(`user_id = '${user}' AND event_id = '${changed.event_id}'`)).toBe(1);
  }
  await writer.close();

  const errors = await queryRows<{ error: string }>(clickhouse, `SELECT error FROM dead_letter_events WHERE source_app = 'app'`);
  expect(errors).toHaveLength(5);
  for (const { error } of errors) expect(error).toMatch(/conflict/);

  const result = await new IntegrityVerifier(clickhouse, KeyRing.of(key.publicKey), seals).verify();
  expect(result.tables.find((t) => t.table === 'audit_logs')).toMatchObject({ ok: true, rows: 5 * 8_700 });
}, 120_000);

it('a flush that loses its seal to a poison row, after the next flush has sealed behind it, leaves one unbroken chain', async () => {
  // The next flush seals while this one inserts (ClickHouseWriter). The poison row fails this INSERT,
  // and this flush seals its other rows anew: the next one must not insert under the seal it made
  // after the lost one, and the chain settles the stale seal away.
  const { key, seals, writer } = sealedWriter();

  for (let round = 0; round < 3; round++) {
    const user = `poison-${round}`;
    const first = rawEvents(6_000, user).map(rowOf);
    // Last, so ClickHouse parses (and the next flush seals) for as long as possible before it fails.
    const poison = { ...first[5_999]!, duration_ms: 'abc' } as ClickHouseRow;
    first[5_999] = poison;
    const second = rawEvents(1_500, user).map(rowOf);
    const third = [...rawEvents(1_200, user).map(rowOf), ...second.slice(0, 100)];
    await Promise.all([writer.write('audit_logs', first), writer.write('audit_logs', second), writer.write('audit_logs', third)]);
    expect(await count(`user_id = '${user}'`)).toBe(5_999 + 1_500 + 1_200);
    expect(await count(`user_id = '${user}' AND event_id = '${poison.event_id}'`)).toBe(0);
  }
  await writer.close();

  const poisoned = await queryRows<{ error: string }>(clickhouse, `SELECT error FROM dead_letter_events WHERE source_app = 'app' AND error LIKE 'insert rejected%'`);
  expect(poisoned).toHaveLength(3);
  const pending = await pg.query(`SELECT seq FROM integrity_seals WHERE table_name = 'audit_logs' AND NOT final`);
  expect(pending.rows).toEqual([]);
  const result = await new IntegrityVerifier(clickhouse, KeyRing.of(key.publicKey), seals).verify();
  expect(result.tables.find((t) => t.table === 'audit_logs')).toMatchObject({ ok: true, rows: 5 * 8_700 + 3 * 8_699 });
}, 120_000);

it('a flush whose seal fails to finalize, after the next has inserted behind it, is settled by that next flush', async () => {
  // The next flush inserts once this one's rows are stored, while this one still finalizes its seal.
  // PostgreSQL refuses this seal's `final` twice, its attempt and its one retry (a real trigger): its rows and pending seal stay, its
  // jobs are retried, and the next flush settles both seals, in order, instead of finalizing its own alone.
  const { key, seals, writer } = sealedWriter({ retryDelaysMs: [10] });
  const { rows } = await pg.query<{ seq: string }>(`SELECT coalesce(max(seq), 0) AS seq FROM integrity_seals WHERE table_name = 'audit_logs'`);
  const failing = Number(rows[0]!.seq) + 1;
  await pg.query(`CREATE SEQUENCE IF NOT EXISTS finalize_attempts`);
  await pg.query(`CREATE OR REPLACE FUNCTION refuse_final() RETURNS trigger AS $$
    BEGIN
      -- Nested: SQL does not promise to evaluate AND from left to right, and nextval must count this seal only.
      IF NEW.final AND NOT OLD.final AND NEW.seq = ${failing} THEN
        IF nextval('finalize_attempts') <= 2 THEN
          RAISE EXCEPTION 'refused';
        END IF;
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql`);
  await pg.query(`CREATE TRIGGER refuse_final BEFORE UPDATE ON integrity_seals FOR EACH ROW EXECUTE FUNCTION refuse_final()`);
  try {
    const user = 'finalize-fails';
    const first = rawEvents(6_000, user).map(rowOf);
    const second = rawEvents(1_500, user).map(rowOf);
    const third = rawEvents(1_200, user).map(rowOf);
    const outcomes = await Promise.allSettled([writer.write('audit_logs', first), writer.write('audit_logs', second), writer.write('audit_logs', third)]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    // The first flush's jobs, retried: their rows are stored already.
    await writer.write('audit_logs', first);
    await writer.close();
    expect(await count(`user_id = '${user}'`)).toBe(8_700);
  } finally {
    await pg.query(`DROP TRIGGER refuse_final ON integrity_seals`);
  }
  const pending = await pg.query(`SELECT seq FROM integrity_seals WHERE table_name = 'audit_logs' AND NOT final`);
  expect(pending.rows).toEqual([]);
  const result = await new IntegrityVerifier(clickhouse, KeyRing.of(key.publicKey), seals).verify();
  expect(result.tables.find((t) => t.table === 'audit_logs')).toMatchObject({ ok: true, rows: 5 * 8_700 + 3 * 8_699 + 8_700 });
}, 120_000);

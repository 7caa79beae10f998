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

it('copies in the next flush, checked while the first inserts, are stored once; a changed copy is a dead letter', async () => {
  const key = SigningKey.load(undefined, `${ns.dataDir}/keys`);
  const seals = new SealRepository(pg, clickhouse);
  const deadLetters = new DeadLetterRepository(clickhouse);
  const writer = new ClickHouseWriter(clickhouse, deadLetters, { maxRows: 1_000, maxAgeMs: 60_000, logger: silentLogger, sealer: new ChainSealer(seals, key, true) });

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

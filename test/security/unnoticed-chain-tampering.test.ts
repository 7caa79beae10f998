import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import type { VerificationResult } from '../../src/domain/verification';
import { IntegrityVerifier } from '../../src/features/integrity/integrity-verifier';
import { SealRepository } from '../../src/features/integrity/seal.repository';
import { KeyRing } from '../../src/lib/key-ring';
import { SigningKey } from '../../src/lib/signing-key';
import { createApiKey, drainIngest, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

/**
 * An insider with SQL access to ClickHouse changes sealed rows in ways the
 * verification did not see (docs: it names "a row modified in place, a row
 * deleted, a row inserted behind the pipeline's back"):
 * - a row inserted under a seal number past the table's last seal (only
 *   `seal_seq = 0` counted as unsealed, and seals are read up to the last one);
 * - a `__proto__` member added inside a JSON column (the hash's normalized
 *   copy assigned it, which sets a prototype: the member was not hashed);
 * - a scalar added at the path of an existing object (`metadata.request` beside
 *   `metadata.request.path`): ClickHouse keeps both and prints the key twice,
 *   JSON.parse keeps the last, so the row-by-row check never saw the scalar.
 */
const ns = createNamespace('unnoticed');
let stack: Awaited<ReturnType<typeof startStack>>;
let pg: Pool;
let verifier: IntegrityVerifier;

const mutate = (sql: string) => stack.clickhouse!.command({ query: sql, clickhouse_settings: { mutations_sync: '2' } });

function brokenAt(result: VerificationResult, table: string) {
  return result.tables.find((t) => t.table === table)!.first_break;
}

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  const key = await createApiKey(ns, 'shop', ['ingest']);
  pg = new Pool({ connectionString: ns.databaseUrl, max: 2 });
  verifier = new IntegrityVerifier(stack.clickhouse!, KeyRing.of(SigningKey.load(undefined, `${ns.dataDir}/keys`).publicKey), new SealRepository(pg, stack.clickhouse!));
  const events = [
    ...Array.from({ length: 3 }, () => ({ kind: 'security', event_type: 'SUSPICIOUS_ACTIVITY', event_id: randomUUID(), severity_level: 'HIGH', metadata: { n: 1 } })),
    ...Array.from({ length: 3 }, () => ({ kind: 'error', event_id: randomUUID(), error_code: 'E1', error_type: 'server', severity_level: 'high', error_message: 'x', technical_details: { n: 1 } })),
    ...Array.from({ length: 3 }, () => ({ kind: 'audit', event_type: 'profile_updated', event_id: randomUUID(), user_id: 'u1', metadata: { request: { path: '/profile' } } })),
  ];
  expect((await postEvents(stack.url, key, events)).status).toBe(202);
  await drainIngest(stack, ns);
  const before = await verifier.verify();
  expect(before.tables.filter((t) => !t.ok)).toEqual([]);
}, 60_000);

afterAll(async () => {
  await pg?.end();
  await stack?.stop();
  await ns.cleanup();
});

it('flags a row inserted under a seal number past the last seal', async () => {
  const forged = randomUUID();
  await stack.clickhouse!.insert({
    table: 'security_events',
    values: [
      {
        event_id: forged,
        source_app: 'shop',
        event_type: 'SUSPICIOUS_ACTIVITY',
        occurred_at: '2026-01-01 00:00:00.000',
        received_at: '2026-01-01 00:00:00.000',
        content_hash: '',
        severity_level: 'LOW',
        seal_seq: 999_999,
        chain_index: 0,
        row_hash: 'f'.repeat(64),
        previous_hash: '',
      },
    ],
    format: 'JSONEachRow',
    clickhouse_settings: { async_insert: 0 },
  });
  const result = await verifier.verify();
  expect(brokenAt(result, 'security_events')).toMatchObject({ kind: 'row_inserted', event_id: forged });
});

it('flags a __proto__ member added to a sealed JSON value', async () => {
  const [row] = await queryRows<{ id: string }>(stack.clickhouse!, 'SELECT toString(event_id) AS id FROM error_logs ORDER BY seal_seq, chain_index LIMIT 1');
  await mutate(`ALTER TABLE error_logs UPDATE technical_details = '{"n":1,"__proto__":{"approved_by":"ceo"}}'::JSON WHERE event_id = '${row!.id}'`);
  const [changed] = await queryRows<{ text: string }>(stack.clickhouse!, `SELECT toJSONString(technical_details) AS text FROM error_logs WHERE event_id = '${row!.id}'`);
  expect(changed!.text).toContain('approved_by');
  const result = await verifier.verify();
  expect(brokenAt(result, 'error_logs')).toMatchObject({ kind: 'row_modified', event_id: row!.id });
});

it('flags a scalar added at the path of an existing object in a sealed JSON value', async () => {
  const [row] = await queryRows<{ id: string }>(stack.clickhouse!, `SELECT toString(event_id) AS id FROM audit_logs WHERE source_app = 'shop' ORDER BY seal_seq, chain_index LIMIT 1`);
  await mutate(`ALTER TABLE audit_logs UPDATE metadata = '{"request":"forged","request.path":"/profile"}'::JSON WHERE event_id = '${row!.id}'`);
  const [changed] = await queryRows<{ v: string }>(stack.clickhouse!, `SELECT toString(metadata.request) AS v FROM audit_logs WHERE event_id = '${row!.id}'`);
  expect(changed!.v).toBe('forged');
  const result = await verifier.verify();
  expect(brokenAt(result, 'audit_logs')).toMatchObject({ kind: 'row_modified', event_id: row!.id });
});

it("an app's value at a path beside one below it is refused, or sealed: not stored and left out of the hash", async () => {
  const key = await createApiKey(ns, 'shop2', ['ingest']);
  const eventId = randomUUID();
  const posted = await postEvents(stack.url, key, [
    { kind: 'security', event_type: 'SUSPICIOUS_ACTIVITY', event_id: eventId, severity_level: 'LOW', metadata: { status: 'open', 'status.by': 'bob' } },
  ]);
  expect([202, 400]).toContain(posted.status);
  if (posted.status !== 202) return;
  await drainIngest(stack, ns);
  const [stored] = await queryRows<{ v: string }>(stack.clickhouse!, 'SELECT toString(metadata.status) AS v FROM security_events WHERE event_id = {id:UUID}', { id: eventId });
  expect(stored!.v).toBe('open');
  // The stored `status` was not in the row's hash: changing it must still be caught.
  await mutate(`ALTER TABLE security_events UPDATE metadata = '{"status":"closed","status.by":"bob"}'::JSON WHERE event_id = '${eventId}'`);
  const result = await verifier.verify();
  expect(result.tables.find((t) => t.table === 'security_events')!.first_break?.event_id).toBe(eventId);
});

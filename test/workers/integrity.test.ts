import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { KeyRing } from '../../src/lib/key-ring';
import { SigningKey } from '../../src/lib/signing-key';
import type { VerificationResult } from '../../src/domain/verification';
import { IntegrityVerifier } from '../../src/features/integrity/integrity-verifier';
import { SealRepository } from '../../src/features/integrity/seal.repository';
import { api } from '../helpers/accounts';
import { runCliAsync } from '../helpers/child';
import { createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

const ns = createNamespace('integrity');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;
let pg: Pool;
let verifier: IntegrityVerifier;

const event = {
  audit: () => ({
    kind: 'audit',
    event_type: 'profile_updated',
    event_id: randomUUID(),
    user_id: 'u1',
    previous_value: { name: 'a', 'deep.key': 1 },
    new_value: { name: 'b', n: 2.5, ok: true, at: '2026-11-22T03:37:49.948Z', day: '2026-11-22', list: [1, 2] },
  }),
  auth: () => ({ kind: 'auth', event_type: 'login_success', event_id: randomUUID(), user_id: 7, ip_address: '10.0.0.1', location: { lat: 45.76, city: 'Lyon' } }),
  failed: () => ({ kind: 'failed_login', event_id: randomUUID(), email_address: 'x@example.com', failure_reason: 'INVALID_PASSWORD' }),
  security: () => ({ kind: 'security', event_type: 'SUSPICIOUS_ACTIVITY', event_id: randomUUID(), severity_level: 'HIGH', metadata: { n: 1 } }),
  session: () => ({ kind: 'session', event_id: randomUUID(), session_id: randomUUID(), expires_at: '2030-01-01T00:00:00Z' }),
  error: () => ({ kind: 'error', event_id: randomUUID(), error_code: 'TODOAPP-SYS-001', error_type: 'server', severity_level: 'high', error_message: 'x', technical_details: 'a stack trace' }),
};

/** Posts one batch of every kind and waits for its flush: each round is one seal per table. */
async function round(n = 5): Promise<void> {
  const makers: (() => Record<string, unknown>)[] = Object.values(event);
  const events = makers.flatMap((make) => Array.from({ length: n }, () => make()));
  expect((await postEvents(stack.url, key, events)).status).toBe(202);
  await new Promise((r) => setTimeout(r, 250));
  await stack.writer!.flushAll();
}

function brokenAt(result: VerificationResult, table: string) {
  return result.tables.find((t) => t.table === table)!.first_break;
}

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  key = await createApiKey(ns, 'integrity-app', ['ingest', 'reports']);
  pg = new Pool({ connectionString: ns.databaseUrl, max: 2 });
  const signing = SigningKey.load(undefined, `${ns.dataDir}/keys`);
  verifier = new IntegrityVerifier(stack.clickhouse!, KeyRing.of(signing.publicKey), new SealRepository(pg, stack.clickhouse!));
  for (let i = 0; i < 3; i++) await round();
});

afterAll(async () => {
  await pg?.end();
  await stack?.stop();
  await ns.cleanup();
});

const mutate = (sql: string) => stack.clickhouse!.command({ query: sql, clickhouse_settings: { mutations_sync: '2' } });

describe('integrity', () => {
  it('verifies an untouched log, every table sealed and chained', async () => {
    const result = await verifier.verify();
    expect(result.tables.filter((t) => !t.ok)).toEqual([]);
    expect(result.ok).toBe(true);
    const audit = result.tables.find((t) => t.table === 'audit_logs')!;
    // The fixture's 15, plus the audit rows of any lock the risk worker sets on its failed logins.
    expect(audit.rows).toBeGreaterThanOrEqual(15);
    expect(audit.seals).toBeGreaterThanOrEqual(3);
    expect(result.rows_per_second).toBeGreaterThan(0);
    // Seed 003's names on auth_audit_log.
    const [auth] = await queryRows<{ blockchain_hash: string; row_hash: string; signature: string }>(stack.clickhouse!, 'SELECT blockchain_hash, row_hash, signature FROM auth_audit_log LIMIT 1');
    expect(auth!.blockchain_hash).toBe(auth!.row_hash);
    expect(auth!.signature.length).toBeGreaterThan(80);
  });

  it('--from/--to select seals by the time they were made, each with all its rows whatever their event time', async () => {
    const before = await verifier.verify();
    const from = new Date();
    const late = Array.from({ length: 4 }, () => ({ ...event.error(), occurred_at: '2020-03-01T00:00:00Z' }));
    expect((await postEvents(stack.url, key, late)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 250));
    await stack.writer!.flushAll();
    const to = new Date();
    const inRange = (await verifier.verify({ from, to })).tables.find((t) => t.table === 'error_logs')!;
    expect(inRange).toMatchObject({ ok: true, seals: 1, rows: 4 });
    const earlier = (await verifier.verify({ to: from })).tables.find((t) => t.table === 'error_logs')!;
    expect(earlier).toMatchObject({ ok: true, seals: before.tables.find((t) => t.table === 'error_logs')!.seals });
  });

  it('the API and the CLI give the same verdict, and the CLI exits non-zero when it fails', async () => {
    const viaApi = await api<VerificationResult>(stack.url, 'GET', '/v1/integrity/verify', { token: key });
    expect(viaApi.status).toBe(200);
    expect(viaApi.body.ok).toBe(true);
    const cli = await runCliAsync(['verify'], ns.env());
    expect(cli.stdout).toMatch(/Verified: \d+ rows/);
    expect(cli.code).toBe(0);
    const publicKey = await runCliAsync(['keys', 'export-public'], ns.env());
    expect(publicKey.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  }, 60_000);

  it('names the first broken place for each kind of tampering', async () => {
    const [modified] = await queryRows<{ id: string }>(stack.clickhouse!, 'SELECT toString(event_id) AS id FROM audit_logs ORDER BY seal_seq, chain_index LIMIT 1 OFFSET 7');
    await mutate(`ALTER TABLE audit_logs UPDATE reason = 'edited later' WHERE event_id = '${modified!.id}'`);

    const [deleted] = await queryRows<{ id: string; seq: number }>(
      stack.clickhouse!,
      'SELECT toString(event_id) AS id, seal_seq AS seq FROM auth_audit_log WHERE chain_index = 2 ORDER BY seal_seq LIMIT 1',
    );
    await mutate(`ALTER TABLE auth_audit_log DELETE WHERE event_id = '${deleted!.id}'`);

    const forged = randomUUID();
    await stack.clickhouse!.insert({
      table: 'failed_login_attempts',
      values: [
        {
          event_id: forged,
          source_app: 'x',
          event_type: 'login_failed',
          occurred_at: '2026-01-01 00:00:00.000',
          received_at: '2026-01-01 00:00:00.000',
          content_hash: '',
          email_address: 'forged@example.com',
          failure_reason: 'INVALID_PASSWORD',
          attempt_number_in_window: 1,
        },
      ],
      format: 'JSONEachRow',
      clickhouse_settings: { async_insert: 0 },
    });

    await mutate(`ALTER TABLE integrity_seals DELETE WHERE table_name = 'security_events' AND seq = 2`);
    await mutate(`ALTER TABLE integrity_seals UPDATE previous_seal_hash = 'f00' WHERE table_name = 'user_sessions' AND seq = 3`);
    const [other] = await queryRows<{ signature: string }>(stack.clickhouse!, `SELECT signature FROM integrity_seals WHERE table_name = 'audit_logs' AND seq = 1`);
    await mutate(`ALTER TABLE integrity_seals UPDATE signature = '${other!.signature}' WHERE table_name = 'error_logs' AND seq = 2`);

    const result = await verifier.verify();
    expect(result.ok).toBe(false);
    expect(brokenAt(result, 'audit_logs')).toMatchObject({ kind: 'row_modified', event_id: modified!.id });
    expect(brokenAt(result, 'auth_audit_log')).toMatchObject({ kind: 'row_deleted', seal_seq: Number(deleted!.seq) });
    expect(brokenAt(result, 'failed_login_attempts')).toMatchObject({ kind: 'row_inserted', event_id: forged });
    expect(brokenAt(result, 'security_events')).toMatchObject({ kind: 'seal_missing', seal_seq: 2 });
    expect(brokenAt(result, 'user_sessions')).toMatchObject({ kind: 'seal_modified', seal_seq: 3 });
    expect(brokenAt(result, 'error_logs')).toMatchObject({ kind: 'bad_signature', seal_seq: 2 });
    expect(brokenAt(result, 'api_access_log')).toBeUndefined();

    const cli = await runCliAsync(['verify'], ns.env());
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(new RegExp(`BROKEN  audit_logs: row_modified at seal \\d+, event_id ${modified!.id}`));
  }, 60_000);
});

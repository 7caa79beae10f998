/**
 * Who watches the watchers (issue 12 §9): every action that changes or
 * reveals protected state leaves exactly one audit event in audit_logs,
 * naming the actor (administrator id, API key name, or `cli` and the OS
 * user), the target, and the values before and after. Each action is
 * performed as a user would: through the API with real clients, and through
 * the `auditflow` command with the server running, stopped, and with Redis
 * down (the event waits in the spool and arrives once Redis is back).
 */
import { createHash, createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { keyIdOf } from '../../src/lib/signing-key';
import { api, signUp } from '../helpers/accounts';
import type { ReportVerification } from '../../src/features/reports/report-verification.service';
import { runCliAsync } from '../helpers/child';
import { freePort } from '../helpers/redis-server';
import { deadPid, spooledEvents, spoolSegments } from '../helpers/spool';
import { queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('privileged');
let stack: Awaited<ReturnType<typeof startStack>>;
const OS_USER = os.userInfo().username;
const ADMIN = { email: 'root@privileged.example', password: 'admin passphrase of some length' };
let adminId: string;
let adminToken: string;
let key: string;
let reportId: string;

interface AuditRow {
  event_id: string;
  action_type: string;
  entity_type: string;
  entity_id: string;
  triggered_by_type: string;
  triggered_by_id: string;
  operation_status: string;
  failure_reason: string | null;
  previous: Record<string, unknown> | null;
  next: Record<string, unknown> | null;
  metadata: Record<string, unknown>;
}

/** Every check made, so the last test can count them all again once everything is flushed. */
const checked: { type: string; entityId: string; by?: string }[] = [];

async function auditRows(eventType: string, entityId: string, by?: string): Promise<AuditRow[]> {
  const rows = await queryRows<Omit<AuditRow, 'previous' | 'next' | 'metadata'> & { previous: string | null; next: string | null; metadata: string }>(
    stack.clickhouse!,
    `SELECT toString(event_id) AS event_id, action_type, entity_type, entity_id, triggered_by_type, triggered_by_id, operation_status, failure_reason,
            toJSONString(previous_value) AS previous, toJSONString(new_value) AS next, toJSONString(metadata) AS metadata
       FROM audit_logs WHERE event_type = {t:String} AND entity_id = {id:String} ${by ? 'AND triggered_by_type = {by:String}' : ''}`,
    { t: eventType, id: entityId, by },
  );
  const json = (s: string | null) => (s === null || s === 'null' ? null : JSON.parse(s));
  return rows.map((r) => ({ ...r, previous: json(r.previous), next: json(r.next), metadata: json(r.metadata) ?? {} }));
}

/** The one audit event of an action (on this target, by this kind of actor): waits for it, then checks that it is alone. */
async function theEvent(eventType: string, entityId: string, by?: string): Promise<AuditRow> {
  await eventually(async () => (await auditRows(eventType, entityId, by)).length > 0, 30_000, 200);
  await stack.writer!.flushAll();
  const rows = await auditRows(eventType, entityId, by);
  expect(rows).toHaveLength(1);
  checked.push({ type: eventType, entityId, by });
  return rows[0]!;
}

const cli = (args: string[], env: Record<string, string> = {}) => runCliAsync(args, ns.env(env));
const asCli = (command: string) => ({ triggered_by_type: 'cli', triggered_by_id: OS_USER, metadata: expect.objectContaining({ command }) });
const asKey = { triggered_by_type: 'api_key', triggered_by_id: 'priv-ops' };
const asAdmin = () => ({ triggered_by_type: 'admin', triggered_by_id: adminId });

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

describe('with the server running', () => {
  it('auditflow admin create: administrator_created, by cli and the OS user', async () => {
    const created = await cli(['admin', 'create', '--email', ADMIN.email, '--password', ADMIN.password, '--level', '5']);
    expect(created.code).toBe(0);
    adminId = created.stdout.trim().split('\n').at(-1)!;
    const event = await theEvent('administrator_created', adminId);
    expect(event).toMatchObject({ ...asCli('admin create'), action_type: 'CREATE', entity_type: 'ADMINISTRATOR', previous: null });
    expect(event.next).toEqual({ email: ADMIN.email, admin_level: 5, status: 'active' });
    expect(JSON.stringify(event)).not.toContain(ADMIN.password);
    adminToken = (await api<{ token: string }>(stack.url, 'POST', '/admin/login', { body: ADMIN })).body.token;
    expect(adminToken).toBeTruthy();
  }, 60_000);

  it('auditflow apikey create and revoke: api_key_created and api_key_revoked, never the key itself', async () => {
    const created = await cli(['apikey', 'create', '--name', 'priv-ops', '--scopes', 'reports,query,retention,risk']);
    expect(created.code).toBe(0);
    key = created.stdout.trim().split('\n').at(-1)!;
    const id = /Created API key (\S+)/.exec(created.stdout)![1]!;
    const event = await theEvent('api_key_created', id);
    expect(event).toMatchObject({ ...asCli('apikey create'), action_type: 'CREATE', entity_type: 'API_KEY', previous: null });
    expect(event.next).toMatchObject({ name: 'priv-ops', scopes: ['reports', 'query', 'retention', 'risk'], revoked: false });
    expect(JSON.stringify(event)).not.toContain(key);

    const spare = await cli(['apikey', 'create', '--name', 'priv-spare', '--scopes', 'admin']);
    const spareId = /Created API key (\S+)/.exec(spare.stdout)![1]!;
    const revoked = await cli(['apikey', 'revoke', 'priv-spare']);
    expect(revoked.code).toBe(0);
    const revocation = await theEvent('api_key_revoked', spareId);
    expect(revocation).toMatchObject({ ...asCli('apikey revoke'), action_type: 'DELETE', entity_type: 'API_KEY' });
    expect(revocation.previous).toMatchObject({ name: 'priv-spare', scopes: ['admin'], revoked: false });
    expect(revocation.next).toMatchObject({ name: 'priv-spare', revoked: true });
  }, 60_000);

  it('reports through the API: generate, download, verify and patch, each by the key or administrator that did it', async () => {
    const generated = await api<{ id: string }>(stack.url, 'POST', '/v1/reports', {
      token: key,
      body: { type: 'daily_security_summary', period_start: '2026-01-01T00:00:00Z', period_end: '2026-01-02T00:00:00Z' },
    });
    expect(generated.status).toBe(201);
    reportId = String(generated.body.id);
    const generation = await theEvent('report_generated', reportId);
    expect(generation).toMatchObject({ ...asKey, action_type: 'CREATE', entity_type: 'COMPLIANCE_REPORT' });
    expect(generation.next).toMatchObject({ report_type: 'daily_security_summary', period_start: '2026-01-01T00:00:00.000Z', created: true });

    const download = await fetch(`${stack.url}/v1/reports/${reportId}?format=csv`, { headers: { authorization: `Bearer ${adminToken}` } });
    expect(download.status).toBe(200);
    await download.text();
    expect(await theEvent('report_downloaded', reportId)).toMatchObject({ ...asAdmin(), action_type: 'EXPORT', next: { format: 'csv' } });

    const verified = await api<ReportVerification>(stack.url, 'GET', `/v1/reports/${reportId}/verification`, { token: key });
    expect(verified.body.ok).toBe(true);
    expect(await theEvent('report_verified', reportId)).toMatchObject({ ...asKey, action_type: 'READ', operation_status: 'SUCCESS', next: { ok: true } });

    // The one event that existed before, which said `system` although this key made the change.
    const patched = await api(stack.url, 'PATCH', `/v1/reports/${reportId}`, { token: key, body: { submitted_to_authority: true, authority_acknowledgment: 'ACK-7' } });
    expect(patched.status).toBe(200);
    const submission = await theEvent('report_submission_updated', reportId);
    expect(submission).toMatchObject({ ...asKey, action_type: 'UPDATE' });
    expect(submission.metadata.api_key_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(submission.previous).toMatchObject({ submitted_to_authority: false });
    expect(submission.next).toMatchObject({ submitted_to_authority: true, authority_acknowledgment: 'ACK-7' });
  }, 90_000);

  it('the signing key export and an integrity verification through the API, with its result', async () => {
    const pem = await (await fetch(`${stack.url}/v1/reports/public-key`, { headers: { authorization: `Bearer ${adminToken}` } })).text();
    const keyId = keyIdOf(createPublicKey(pem));
    expect(await theEvent('signing_key_exported', keyId, 'admin')).toMatchObject({ ...asAdmin(), action_type: 'EXPORT', entity_type: 'SIGNING_KEY' });

    const verified = await api<{ ok: boolean; rows: number; tables: unknown[] }>(stack.url, 'GET', '/v1/integrity/verify?from=2026-01-01T00:00:00Z', { token: adminToken });
    expect(verified.status).toBe(200);
    const event = await theEvent('integrity_verified', '2026-01-01T00:00:00.000Z..-');
    expect(event).toMatchObject({ ...asAdmin(), action_type: 'EXECUTE', entity_type: 'INTEGRITY_CHAIN', operation_status: verified.body.ok ? 'SUCCESS' : 'FAILURE' });
    expect(event.next).toMatchObject({ ok: verified.body.ok, rows: verified.body.rows, tables: verified.body.tables.length });
  }, 60_000);

  it('settings, retention policies and webhooks: their existing events name the administrator or key, with old and new values', async () => {
    const setting = await api<{ id: string }>(stack.url, 'PATCH', '/admin/settings/lockout.window_minutes', { token: adminToken, body: { setting_value: '20' } });
    expect(setting.status).toBe(200);
    const settingEvent = await theEvent('setting_updated', setting.body.id);
    expect(settingEvent).toMatchObject({ ...asAdmin(), entity_type: 'SYSTEM_SETTING' });
    expect(settingEvent.previous).toMatchObject({ setting_key: 'lockout.window_minutes', setting_value: '15' });
    expect(settingEvent.next).toMatchObject({ setting_key: 'lockout.window_minutes', setting_value: '20' });

    const policy = await api(stack.url, 'PATCH', '/v1/retention-policies/api_access_log', { token: key, body: { retention_period_days: 120, delete_after_days: 120, reason: 'audit' } });
    expect(policy.status).toBe(200);
    const policyEvent = await theEvent('retention_policy_updated', 'api_access_log');
    expect(policyEvent).toMatchObject({ ...asKey, entity_type: 'RETENTION_POLICY' });
    expect(policyEvent.previous).toMatchObject({ retention_period_days: 90 });
    expect(policyEvent.next).toMatchObject({ retention_period_days: 120 });

    // A public address literal: no DNS needed, and no internal address for the SSRF checks to refuse.
    const put = await api<{ secret: string }>(stack.url, 'PUT', '/v1/webhook', { token: key, body: { url: 'https://93.184.215.14/hooks/auditflow' } });
    expect(put.status).toBe(201);
    const created = await theEvent('webhook_created', 'priv-ops');
    expect(created).toMatchObject({ ...asKey, action_type: 'CREATE', entity_type: 'APP_WEBHOOK', previous: null });
    expect(created.next).toMatchObject({ url: 'https://93.184.215.14/hooks/auditflow', secret_rotated: true });
    expect(JSON.stringify(created)).not.toContain(put.body.secret);
    expect((await api(stack.url, 'DELETE', '/v1/webhook', { token: key })).status).toBe(204);
    const deleted = await theEvent('webhook_deleted', 'priv-ops');
    expect(deleted).toMatchObject({ ...asKey, action_type: 'DELETE', next: null });
    expect(deleted.previous).toMatchObject({ url: 'https://93.184.215.14/hooks/auditflow' });
  }, 60_000);

  it("an administrator's role and permission changes on a user", async () => {
    const user = await signUp(stack.url, ns, 'member@privileged.example');
    expect((await api(stack.url, 'PUT', `/admin/users/${user.userId}/role`, { token: adminToken, body: { role: 'auditor' } })).status).toBe(200);
    const role = await theEvent('role_changed', user.userId);
    expect(role).toMatchObject({ ...asAdmin(), previous: { role: 'user' }, next: { role: 'auditor' } });
    expect((await api(stack.url, 'POST', `/admin/users/${user.userId}/permissions`, { token: adminToken, body: { permission: 'export_data' } })).status).toBe(201);
    expect(await theEvent('permission_granted', user.userId)).toMatchObject({ ...asAdmin(), previous: null, next: { permission: 'export_data' } });
  }, 60_000);

  it('every analyst query on /clickhouse: the key, the hash of the text, the text cut to 1000 characters, rows and bytes read', async () => {
    const client = createClient({ url: `${stack.url}/clickhouse`, username: 'analyst', password: key, log: { level: ClickHouseLogLevel.OFF } });
    try {
      const result = await client.query({ query: "SELECT count() AS n FROM audit_logs WHERE event_type = 'api_key_created'", format: 'JSONEachRow' });
      expect(await result.json()).toHaveLength(1);
    } finally {
      await client.close();
    }
    const [row] = await eventually(async () => {
      const rows = await queryRows<{ entity_id: string }>(
        stack.clickhouse!,
        `SELECT entity_id FROM audit_logs WHERE event_type = 'analyst_query' AND positionUTF8(toString(new_value.query), 'api_key_created') > 0`,
      );
      return rows.length > 0 && rows;
    });
    const answered = await theEvent('analyst_query', row!.entity_id);
    expect(answered).toMatchObject({ ...asKey, action_type: 'READ', entity_type: 'ANALYST_QUERY', operation_status: 'SUCCESS' });
    expect(answered.next).toMatchObject({ query_sha256: row!.entity_id, query_truncated: false });
    expect(answered.next!.query).toContain("SELECT count() AS n FROM audit_logs WHERE event_type = 'api_key_created'");
    expect(answered.next!.query_sha256).toBe(createHash('sha256').update(String(answered.next!.query)).digest('hex'));
    expect(Number(answered.next!.read_rows)).toBeGreaterThan(0);
    expect(Number(answered.next!.read_bytes)).toBeGreaterThan(0);

    const post = (query: string) => fetch(`${stack.url}/clickhouse`, { method: 'POST', headers: { 'x-clickhouse-key': key }, body: query });
    const long = `SELECT 1 /* ${'x'.repeat(1500)} */`;
    expect((await post(long)).status).toBe(200);
    const longHash = createHash('sha256').update(long).digest('hex');
    const cut = await theEvent('analyst_query', longHash);
    expect(cut.next).toMatchObject({ query_sha256: longHash, query_chars: long.length, query_truncated: true });
    expect(cut.next!.query).toBe(long.slice(0, 1000));

    const refusedText = "INSERT INTO audit_logs (event_type) VALUES ('forged')";
    expect((await post(refusedText)).status).toBeGreaterThanOrEqual(400);
    const refused = await theEvent('analyst_query', createHash('sha256').update(refusedText).digest('hex'));
    expect(refused).toMatchObject({ ...asKey, operation_status: 'FAILURE' });
    expect(refused.failure_reason).toBeTruthy();
  }, 60_000);

  it('the CLI while the server runs: report generate, verify, keys export-public, dlq replay and admin unlock, each by cli', async () => {
    const generated = await cli(['report', 'generate', '--type', 'daily_security_summary', '--from', '2026-01-02T00:00:00Z', '--to', '2026-01-03T00:00:00Z']);
    expect(generated.code).toBe(0);
    const id = /report (\d+)/.exec(generated.stdout)![1]!;
    expect(await theEvent('report_generated', id)).toMatchObject({ ...asCli('report generate'), next: { period_start: '2026-01-02T00:00:00.000Z', created: true } });

    const verified = await cli(['verify', '--from', '2026-01-02T00:00:00Z']);
    expect(verified.code).toBe(0);
    const run = await theEvent('integrity_verified', '2026-01-02T00:00:00.000Z..-');
    expect(run).toMatchObject({ ...asCli('verify'), operation_status: 'SUCCESS', next: { ok: true } });

    const exported = await cli(['keys', 'export-public']);
    expect(exported.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const keyId = keyIdOf(createPublicKey(exported.stdout));
    expect(await theEvent('signing_key_exported', keyId, 'cli')).toMatchObject({ ...asCli('keys export-public'), next: { key_id: keyId, half: 'public' } });

    const replayed = await cli(['dlq', 'replay']);
    expect(replayed.code).toBe(0);
    const replay = await theEvent('dead_letters_replayed', 'dead_letters');
    expect(replay).toMatchObject({ ...asCli('dlq replay'), action_type: 'EXECUTE', next: { requeued: 0, retried_jobs: 0 } });

    expect((await cli(['admin', 'unlock', ADMIN.email])).code).toBe(0);
    expect(await theEvent('administrator_unlocked', adminId)).toMatchObject({ ...asCli('admin unlock'), next: { email: ADMIN.email } });
  }, 120_000);

  it('a command run while its Redis is unreachable spools its event, and the running server replays it', async () => {
    const created = await cli(['apikey', 'create', '--name', 'priv-spooled-live', '--scopes', 'ingest'], { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(created.code).toBe(0);
    expect(created.stderr).toMatch(/spool/);
    const id = /Created API key (\S+)/.exec(created.stdout)![1]!;
    expect(await theEvent('api_key_created', id)).toMatchObject({ ...asCli('apikey create'), next: { name: 'priv-spooled-live' } });
    await eventually(async () => spoolSegments(ns.dataDir).length === 0);
  }, 60_000);
  it('a command whose event could be recorded nowhere (Redis down, spool full) does nothing and says so', async () => {
    // Another data directory whose spool a crashed process left full.
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-privileged-full-'));
    try {
      fs.mkdirSync(path.join(dataDir, 'spool'));
      fs.writeFileSync(path.join(dataDir, 'spool', `000000000001-${deadPid()}.spool`), 'x'.repeat(1024 * 1024));
      const created = await cli(['apikey', 'create', '--name', 'priv-unrecorded', '--scopes', 'ingest'], {
        DATA_DIR: dataDir,
        SPOOL_MAX_BYTES: String(1024 * 1024),
        REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      });
      expect(created.code).toBe(1);
      expect(created.stderr).toMatch(/nothing was done: Redis is unreachable and the spool .* is full/);
      expect((await cli(['apikey', 'list'])).stdout).not.toContain('priv-unrecorded');
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('with the server stopped', () => {
  it('records what the CLI does; with Redis down the event waits in the spool and arrives once, after recovery', async () => {
    await stack.stop();
    const rotated = await cli(['keys', 'rotate']);
    expect(rotated.code).toBe(0);
    const [, retiredId, newId] = /Retired key (\S+) [\s\S]*New signing key (\S+)\./.exec(rotated.stdout)!;
    const generated = await cli(['report', 'generate', '--type', 'daily_security_summary', '--from', '2026-01-03T00:00:00Z', '--to', '2026-01-04T00:00:00Z']);
    expect(generated.code).toBe(0);
    const reportOffline = /report (\d+)/.exec(generated.stdout)![1]!;

    // Redis is down: the command still succeeds, and its event is on disk before it exits.
    const created = await cli(['apikey', 'create', '--name', 'priv-spooled', '--scopes', 'ingest'], { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(created.code).toBe(0);
    const spooledKeyId = /Created API key (\S+)/.exec(created.stdout)![1]!;
    expect(created.stderr).toMatch(/spool/);
    expect(spoolSegments(ns.dataDir).length).toBeGreaterThan(0);
    expect(spooledEvents(ns.dataDir).filter((e) => e.event_type === 'api_key_created' && (e as { entity_id?: string }).entity_id === spooledKeyId)).toHaveLength(1);

    // Recovery: the next start replays the spool, and the worker writes what waited in Redis.
    stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
    const spooled = await theEvent('api_key_created', spooledKeyId);
    expect(spooled).toMatchObject({ ...asCli('apikey create'), next: { name: 'priv-spooled' } });
    await eventually(async () => spoolSegments(ns.dataDir).length === 0);
    expect(await theEvent('signing_key_rotated', newId!)).toMatchObject({ ...asCli('keys rotate'), previous: { key_id: retiredId }, next: { key_id: newId } });
    expect(await theEvent('report_generated', reportOffline)).toMatchObject({ ...asCli('report generate'), next: { period_start: '2026-01-03T00:00:00.000Z' } });
  }, 180_000);

  it('no action was recorded twice, once everything is written', async () => {
    await stack.writer!.flushAll();
    for (const c of checked) {
      const rows = await auditRows(c.type, c.entityId, c.by);
      expect({ ...c, events: rows.length }).toEqual({ ...c, events: 1 });
    }
  }, 60_000);
});

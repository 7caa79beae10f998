import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import { AdminAccountService } from '../../src/features/admin/admin-account.service';
import { AdministratorRepository } from '../../src/features/admin/administrator.repository';
import { LoginGuard } from '../../src/features/auth/login-guard';
import { api, type ErrorBody, signUp } from '../helpers/accounts';
import { createApiKey, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually, SHORT_SETTINGS_CACHE, settingsCacheExpired } from '../helpers/test-env';

/**
 * Issue 12 §10: settings and retention that could break or blind the
 * product. A level-4 administrator took every session route down with one
 * PATCH, switched lockout off, flipped is_mutable, and a retention key set
 * the audit trail's retention to 0 days.
 */
const ns = createNamespace('settingsabuse');
let stack: Awaited<ReturnType<typeof startStack>>;
let pg: Pool;
let four: string;
let five: string;
let retentionKey: string;
const PASSWORD = 'admin passphrase of some length';
const notices: Record<string, unknown>[] = [];
const hook = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    notices.push(JSON.parse(body));
    res.writeHead(200).end();
  });
});

async function adminToken(email: string, level: number): Promise<string> {
  await new AdminAccountService(new AdministratorRepository(pg), new LoginGuard(pg)).create({ email, password: PASSWORD, admin_level: level });
  const login = await api<{ token: string }>(stack.url, 'POST', '/admin/login', { body: { email, password: PASSWORD } });
  expect(login.status).toBe(200);
  return login.body.token;
}

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100', ...SHORT_SETTINGS_CACHE, WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32', WEBHOOK_BACKOFF_MS: '200' });
  pg = new Pool({ connectionString: ns.databaseUrl, max: 2 });
  four = await adminToken('four@example.com', 4);
  five = await adminToken('five@example.com', 5);
  retentionKey = await createApiKey(ns, 'dpo', ['retention']);
  const riskKey = await createApiKey(ns, 'soc-app', ['risk']);
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  expect((await api(stack.url, 'PUT', '/v1/webhook', { token: riskKey, body: { url, events: ['protection.weakened'] } })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await pg?.end();
  await stack?.stop();
  hook.close();
  await ns.cleanup();
});

const patch = (key: string, body: unknown, token = four) => api<ErrorBody>(stack.url, 'PATCH', `/admin/settings/${key}`, { token, body });

const securityEvents = (like: string) =>
  queryRows<{ severity_level: string; event_description: string }>(
    stack.clickhouse!,
    `SELECT severity_level, event_description FROM security_events WHERE event_type = 'PROTECTION_WEAKENED' AND event_description LIKE {like:String}`,
    { like },
  );

it('a huge idle timeout is refused with the allowed range, and session routes keep working', async () => {
  const res = await patch('session.idle_timeout_minutes', { setting_value: '99999999999999' });
  expect(res.status).toBe(400);
  expect(res.body.error.message).toBe('session.idle_timeout_minutes must be from 1 to 1440 (got 99999999999999)');
  const user = await signUp(stack.url, ns, 'still.works@example.com');
  expect((await api(stack.url, 'GET', '/me', { token: user.token })).status).toBe(200);
});

it('a value written straight into PostgreSQL breaks no route: the default is used', async () => {
  await pg.query(`UPDATE system_settings SET setting_value = '99999999999999' WHERE setting_key = 'session.idle_timeout_minutes'`);
  await pg.query(`UPDATE system_settings SET setting_value = '1000000' WHERE setting_key = 'lockout.threshold'`);
  await settingsCacheExpired();
  const user = await signUp(stack.url, ns, 'stored.garbage@example.com');
  expect((await api(stack.url, 'GET', '/me', { token: user.token })).status).toBe(200);
  expect((await api(stack.url, 'GET', '/admin/settings', { token: five })).status).toBe(200);
  // Lockout still locks at the default threshold (5), not at a million.
  for (let i = 0; i < 5; i++) await api(stack.url, 'POST', '/auth/login', { body: { email: 'stored.garbage@example.com', password: 'wrong password here' } });
  expect((await api(stack.url, 'POST', '/auth/login', { body: { email: 'stored.garbage@example.com', password: 'wrong password here' } })).status).toBe(423);
  // The level-5 administrator can put it right through the API.
  expect((await patch('session.idle_timeout_minutes', { setting_value: '30' }, five)).status).toBe(200);
  expect((await patch('lockout.threshold', { setting_value: '5' }, five)).status).toBe(200);
}, 60_000);

it('lockout off and year-long sessions are refused; a longer session within range is accepted but raised as HIGH, with a webhook notice', async () => {
  expect((await patch('lockout.threshold', { setting_value: '1000000' })).body.error.message).toMatch(/lockout\.threshold must be from 1 to 20/);
  expect((await patch('session.absolute_timeout_minutes', { setting_value: '525600000' })).status).toBe(400);
  expect((await api<ErrorBody>(stack.url, 'POST', '/admin/settings', { token: four, body: { setting_key: 'risk.mode', setting_value: 'off', setting_type: 'string' } })).body.error.message).toBe(
    'risk.mode must be one of enforce, audit_only',
  );
  expect((await api(stack.url, 'POST', '/admin/settings', { token: four, body: { setting_key: 'risk.mode', setting_value: 'enforce', setting_type: 'string' } })).status).toBe(201);
  expect((await patch('risk.mode', { setting_value: 'off' })).body.error.message).toBe('risk.mode must be one of enforce, audit_only');

  expect((await patch('session.absolute_timeout_minutes', { setting_value: '1440' })).status).toBe(200);
  expect((await patch('lockout.threshold', { setting_value: '10' })).status).toBe(200);
  expect((await patch('risk.mode', { setting_value: 'audit_only' })).status).toBe(200);
  // Tightening is not a weakening.
  expect((await patch('session.idle_timeout_minutes', { setting_value: '15' })).status).toBe(200);

  const raised = await eventually(async () => {
    const rows = await securityEvents('%');
    return rows.length >= 3 && rows;
  });
  expect(raised.map((r) => r.severity_level)).toEqual(['HIGH', 'HIGH', 'HIGH']);
  expect(raised.map((r) => r.event_description).sort()).toEqual([
    'lockout.threshold changed from 5 to 10: more password guesses before an account locks',
    'risk.mode changed from enforce to audit_only: the risk engine only records, and locks and blocks nothing',
    'session.absolute_timeout_minutes changed from 720 to 1440: sessions live longer',
  ]);
  await eventually(async () => notices.length >= 3);
  expect(notices.map((n) => n.setting_key).sort()).toEqual(['lockout.threshold', 'risk.mode', 'session.absolute_timeout_minutes']);
  expect(notices.every((n) => n.type === 'protection.weakened')).toBe(true);
}, 60_000);

it('is_mutable cannot be flipped through the API', async () => {
  expect((await api(stack.url, 'POST', '/admin/settings', { token: four, body: { setting_key: 'app.edition', setting_value: 'enterprise', setting_type: 'string', is_mutable: false } })).status).toBe(
    201,
  );
  const flip = await patch('app.edition', { is_mutable: true });
  expect(flip.status).toBe(400);
  expect(flip.body.error.message).toMatch(/is_mutable cannot be changed through the API/);
  expect((await patch('app.edition', { setting_value: 'free' })).status).toBe(403);
  expect((await api(stack.url, 'DELETE', '/admin/settings/app.edition', { token: four })).status).toBe(403);
  expect((await patch('session.idle_timeout_minutes', { is_mutable: false }, five)).status).toBe(400);
});

it('retention of audit, auth and security records has a floor; a cut elsewhere is raised as HIGH', async () => {
  for (const table of ['audit_logs', 'auth_audit_log', 'security_events', 'failed_login_attempts']) {
    const res = await api<ErrorBody>(stack.url, 'PATCH', `/v1/retention-policies/${table}`, { token: retentionKey, body: { retention_period_days: 0, delete_after_days: 0 } });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(new RegExp(`must be at least 365 days for ${table}.*RETENTION_MIN_DAYS`));
  }
  const { rows } = await pg.query(`SELECT retention_period_days FROM data_retention_policies WHERE table_name = 'audit_logs'`);
  expect(rows[0].retention_period_days).toBe(2557);
  // At or above the floor is fine; a cut is a HIGH security event.
  expect((await api(stack.url, 'PATCH', '/v1/retention-policies/audit_logs', { token: retentionKey, body: { retention_period_days: 400, delete_after_days: 400 } })).status).toBe(200);
  expect((await api(stack.url, 'PATCH', '/v1/retention-policies/api_access_log', { token: retentionKey, body: { retention_period_days: 30, delete_after_days: 30 } })).status).toBe(200);
  const cuts = await eventually(async () => {
    const r = await securityEvents('retention of %');
    return r.length >= 2 && r;
  });
  expect(cuts.map((c) => c.event_description).sort()).toEqual([
    'retention of api_access_log cut from 90 to 30 days: records are deleted sooner',
    'retention of audit_logs cut from 2557 to 400 days: records are deleted sooner',
  ]);
}, 60_000);

it('a weakening made by creating a setting the defaults stood for, or by deleting a tightened one, is raised as HIGH too', async () => {
  // No row yet: the code's default (30 guests an hour per IP, 15-minute IP blocks) is what is in force.
  const create = (setting_key: string, setting_value: string) => api(stack.url, 'POST', '/admin/settings', { token: four, body: { setting_key, setting_value, setting_type: 'integer' } });
  expect((await create('rate_limit.guest.per_ip', '10000')).status).toBe(201);
  expect((await create('risk.ip_block_minutes', '1')).status).toBe(201);
  // Tightened below the default, then deleted: back to the looser default.
  expect((await patch('lockout.threshold', { setting_value: '3' }, five)).status).toBe(200);
  expect((await api(stack.url, 'DELETE', '/admin/settings/lockout.threshold', { token: four })).status).toBe(204);

  // Wait for these three: the earlier tests' events are in the table too, so a count of all of them proves nothing.
  const raised = await eventually(async () => {
    const ours = (await securityEvents('%')).map((r) => r.event_description).filter((d) => /^(rate_limit\.guest|risk\.ip_block|lockout\.threshold changed from 3)/.test(d));
    return ours.length >= 3 && ours;
  });
  expect(raised.sort()).toEqual([
    'lockout.threshold changed from 3 to 5: more password guesses before an account locks',
    'rate_limit.guest.per_ip changed from 30 to 10000: guest may be called more often from one address',
    'risk.ip_block_minutes changed from 15 to 1: blocked IPs are let back in sooner',
  ]);
}, 60_000);

it('IP blocking cannot be switched off through never_block_ips; widening it, or narrowing known_bad_ips, is raised as HIGH by PATCH, POST and DELETE alike', async () => {
  const post = (setting_key: string, setting_value: string) => api<ErrorBody>(stack.url, 'POST', '/admin/settings', { token: four, body: { setting_key, setting_value, setting_type: 'string' } });
  // Every address never blocked: refused, with the reason, and nothing stored.
  const everyone = await post('risk.never_block_ips', '::/0, 0.0.0.0/0');
  expect(everyone.status).toBe(400);
  expect(everyone.body.error.message).toBe('risk.never_block_ips may not hold ranges wider than /8 (IPv4) or /16 (IPv6) (got ::/0, 0.0.0.0/0)');
  expect((await post('risk.never_block_ips', '::ffff:0:0/96')).status).toBe(400);
  expect((await pg.query(`SELECT 1 FROM system_settings WHERE setting_key = 'risk.never_block_ips'`)).rows).toHaveLength(0);

  // Created wider than the default (loopback), then widened again: each raised.
  expect((await post('risk.never_block_ips', '127.0.0.1, ::1, 192.0.2.0/24')).status).toBe(201);
  expect((await patch('risk.never_block_ips', { setting_value: '127.0.0.1, ::1, 192.0.2.0/24, 10.0.0.0/8' })).status).toBe(200);
  expect((await patch('risk.never_block_ips', { setting_value: '0.0.0.0/0' })).status).toBe(400);
  // Known-bad addresses: created, cut down, then deleted (back to none).
  expect((await post('risk.known_bad_ips', '198.51.100.0/24, 203.0.113.9')).status).toBe(201);
  expect((await patch('risk.known_bad_ips', { setting_value: '198.51.100.0/24' })).status).toBe(200);
  expect((await api(stack.url, 'DELETE', '/admin/settings/risk.known_bad_ips', { token: four })).status).toBe(204);

  const raised = await eventually(async () => {
    const rows = await securityEvents('risk.%_ips changed %');
    return rows.length >= 4 && rows;
  });
  expect(raised.every((r) => r.severity_level === 'HIGH')).toBe(true);
  expect(raised.map((r) => r.event_description).sort()).toEqual([
    'risk.known_bad_ips changed from 198.51.100.0/24 to : addresses known to be bad are no longer treated as such',
    'risk.known_bad_ips changed from 198.51.100.0/24, 203.0.113.9 to 198.51.100.0/24: addresses known to be bad are no longer treated as such',
    'risk.never_block_ips changed from 127.0.0.1, ::1 to 127.0.0.1, ::1, 192.0.2.0/24: more addresses are never blocked, however they attack',
    'risk.never_block_ips changed from 127.0.0.1, ::1, 192.0.2.0/24 to 127.0.0.1, ::1, 192.0.2.0/24, 10.0.0.0/8: more addresses are never blocked, however they attack',
  ]);
  await eventually(async () => notices.filter((n) => String(n.setting_key).endsWith('_ips')).length >= 4);
}, 60_000);

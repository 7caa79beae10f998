/**
 * A compliance officer holding a key restricted to app A (issue 13 §4, §5):
 * reports, the dashboard, key administration and resolutions, attacked the
 * way such an officer (or a careless administrator) would. App B shares the
 * deployment and even an event_id with A; nothing of B's may reach the
 * officer, and nothing done to A's events may touch B's.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { chromium, type Browser } from 'playwright-core';
import { AdminAccountService } from '../../src/features/admin/admin-account.service';
import { AdministratorRepository } from '../../src/features/admin/administrator.repository';
import { LoginGuard } from '../../src/features/auth/login-guard';
import { ensureDatabase } from '../../src/lib/pg';
import { migratePostgres, PG_MIGRATIONS_DIR } from '../../src/lib/pg-migrations';
import { directReader } from '../../src/queues/clickhouse-reader';
import { LegacyResolutions } from '../../src/features/admin/legacy-resolutions';
import { SCHEDULED_TASKS } from '../../src/roles/scheduler-role';
import type { Overview, Viewer } from '../../src/features/dashboard/dashboard.service';
import type { ReportVerification } from '../../src/features/reports/report-verification.service';
import { api, type ErrorBody, errorOf } from '../helpers/accounts';
import { createApiKey, drainIngest, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('restrictedofficer');
let stack: Awaited<ReturnType<typeof startStack>>;
let pg: Pool;
/** reports, restricted to app-a */
let officerA: string;
/** reports, every app */
let officerAll: string;
let ingestA: string;
let ingestB: string;
const admins = { five: { id: '', token: '' }, four: { id: '', token: '' } };
const PASSWORD = 'an administrator passphrase';

const DAY = { start: '2026-02-01T00:00:00Z', end: '2026-02-02T00:00:00Z' };
const AT = '2026-02-01T10:00:00Z';
/** Both apps chose these ids for their own events. */
const SHARED_SECURITY = randomUUID();
const SHARED_ERROR = randomUUID();
/** Used by both apps too, and never resolved through the API: left to the legacy test. */
const AMBIGUOUS = randomUUID();
/** Only app-a's. */
const ONLY_A = randomUUID();

const failed = (ip: string, email: string) => ({ kind: 'failed_login', email_address: email, failure_reason: 'INVALID_PASSWORD', ip_address: ip, occurred_at: AT });
const security = (id: string, description: string) => ({
  kind: 'security',
  event_id: id,
  event_type: 'SUSPICIOUS_PAYLOAD',
  severity_level: 'HIGH',
  event_source: 'WAF',
  event_description: description,
  occurred_at: AT,
});
const error = (id: string, message: string) => ({ kind: 'error', event_id: id, error_code: 'PAY-042', error_type: 'integration', severity_level: 'high', error_message: message, occurred_at: AT });

async function adminLogin(email: string, level: number): Promise<{ id: string; token: string }> {
  const admin = await new AdminAccountService(new AdministratorRepository(pg), new LoginGuard(pg)).create({ email, password: PASSWORD, admin_level: level });
  const login = await api<{ token: string }>(stack.url, 'POST', '/admin/login', { body: { email, password: PASSWORD } });
  expect(login.status).toBe(200);
  return { id: admin.id, token: login.body.token };
}

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  pg = new Pool({ connectionString: ns.databaseUrl, max: 2 });
  officerA = await createApiKey(ns, 'officer-a', ['reports'], 'officer-a', { apps: ['app-a'] });
  officerAll = await createApiKey(ns, 'officer-all', ['reports']);
  ingestA = await createApiKey(ns, 'app-a');
  ingestB = await createApiKey(ns, 'app-b');
  admins.five = await adminLogin('five@admin.example', 5);
  admins.four = await adminLogin('four@admin.example', 4);

  const sentA = await postEvents(stack.url, ingestA, [
    failed('203.0.113.10', 'a1@a.example'),
    failed('203.0.113.10', 'a1@a.example'),
    security(SHARED_SECURITY, 'app-a: blocked request'),
    security(AMBIGUOUS, 'app-a: ambiguous'),
    security(ONLY_A, 'app-a: only mine'),
    error(SHARED_ERROR, 'app-a: provider down'),
    // Now: for the overview's hourly traffic.
    { kind: 'audit', event_type: 'profile_updated', user_id: 'a-user' },
  ]);
  const sentB = await postEvents(stack.url, ingestB, [
    ...Array.from({ length: 5 }, () => failed('198.51.100.20', 'b1@b.example')),
    security(SHARED_SECURITY, 'app-b: blocked request'),
    security(AMBIGUOUS, 'app-b: ambiguous'),
    error(SHARED_ERROR, 'app-b: provider down'),
    ...Array.from({ length: 3 }, (_, i) => ({ kind: 'audit', event_type: 'profile_updated', user_id: `b-user-${i}` })),
  ]);
  expect([sentA.status, sentB.status]).toEqual([202, 202]);
  await drainIngest(stack, ns);
  const [both] = await queryRows<{ n: number }>(stack.clickhouse!, 'SELECT count() AS n FROM security_events WHERE event_id = {id:UUID}', { id: SHARED_SECURITY });
  expect(Number(both!.n)).toBe(2);
}, 120_000);

afterAll(async () => {
  await pg?.end();
  await stack?.stop();
  await ns.cleanup();
});

/** What POST /v1/reports answers. */
interface ReportMade {
  id: string;
  created: boolean;
  scope?: string[];
}
/** The parts of a report document these tests read. */
interface ReportDoc {
  content: {
    scope?: string[];
    failed_logins: { total: number };
    top_offending_ips?: unknown;
    top_offending_accounts?: unknown;
    security_events_by_severity?: Record<string, { open: number; resolved: number }>;
    integrity: { rows_verified?: number; tables: Record<string, unknown>[] };
  };
  total_records: number;
}
interface KeyCreated {
  key: string;
  api_key: { id: string };
}

const as = (token: string) => ({ token });
const generate = (token: string, body: Record<string, unknown> = {}) =>
  api<ReportMade>(stack.url, 'POST', '/v1/reports', { token, body: { type: 'daily_security_summary', period_start: DAY.start, period_end: DAY.end, ...body } });

describe('reports scoped to apps', () => {
  let reportA = '';
  let reportB = '';
  let reportGlobal = '';

  it("a restricted key's report covers its apps only: the figures, the signed scope, the cover and the CSV say so", async () => {
    const made = await generate(officerA);
    expect(made.status).toBe(201);
    expect(made.body.scope).toEqual(['app-a']);
    reportA = String(made.body.id);

    const doc = (await api<ReportDoc>(stack.url, 'GET', `/v1/reports/${reportA}`, as(officerA))).body;
    expect(doc.content.scope).toEqual(['app-a']);
    expect(doc.content.failed_logins).toEqual({ total: 2, by_reason: { INVALID_PASSWORD: 2 } });
    expect(doc.content.top_offending_ips).toEqual([{ ip_address: '203.0.113.10', failed_logins: 2 }]);
    expect(doc.content.top_offending_accounts).toEqual([{ email_address: 'a1@a.example', failed_logins: 2 }]);
    expect(JSON.stringify(doc)).not.toMatch(/198\.51\.100\.20|b1@b\.example/);

    // The scope is signed: it verifies, and the verification names it.
    const verified = (await api(stack.url, 'GET', `/v1/reports/${reportA}/verification`, as(officerA))).body;
    expect(verified).toMatchObject({ ok: true, scope: ['app-a'], chain: { previous_report_id: null, linked: true } });

    const csv = await (await fetch(`${stack.url}/v1/reports/${reportA}?format=csv`, { headers: { authorization: `Bearer ${officerA}` } })).text();
    expect(csv).toContain('"report","scope","","app-a",""');
    const pdf = Buffer.from(await (await fetch(`${stack.url}/v1/reports/${reportA}?format=pdf`, { headers: { authorization: `Bearer ${officerA}` } })).arrayBuffer());
    const file = path.join(ns.dataDir, 'scoped.pdf');
    fs.writeFileSync(file, pdf);
    expect(execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' })).toMatch(/Scope\s+app-a/);

    // The global report of the same day is a report of its own, over every app, and unchanged in form: no scope.
    const global = await generate(officerAll);
    expect(global.status).toBe(201);
    expect(global.body).toEqual({ id: global.body.id, created: true });
    reportGlobal = String(global.body.id);
    const globalDoc = (await api<ReportDoc>(stack.url, 'GET', `/v1/reports/${reportGlobal}`, as(officerAll))).body;
    expect(globalDoc.content.scope).toBeUndefined();
    expect(globalDoc.content.failed_logins.total).toBe(7);
    // Each scope is its own chain: the global one does not link to app-a's report.
    expect((await api(stack.url, 'GET', `/v1/reports/${reportGlobal}/verification`, as(officerAll))).body).toMatchObject({ ok: true, scope: null });
  }, 60_000);

  it('a restricted key cannot generate a report wider than its apps, or of another app', async () => {
    const before = Number((await pg.query('SELECT count(*) AS n FROM compliance_reports')).rows[0].n);
    for (const apps of [['app-a', 'app-b'], ['app-b'], ['app-b', 'app-a', 'app-a']]) {
      const res = await generate(officerA, { apps });
      expect({ apps, status: res.status }).toEqual({ apps, status: 403 });
    }
    expect(Number((await pg.query('SELECT count(*) AS n FROM compliance_reports')).rows[0].n)).toBe(before);
    // Asking for its own app by name is the report it already has.
    expect((await generate(officerA, { apps: ['app-a'] })).body).toEqual({ id: reportA, created: false, scope: ['app-a'] });
  });

  it("cannot read another app's report, or a global one, by id: 404 exactly as for a report that does not exist", async () => {
    const made = await generate(admins.five.token, { apps: ['app-b'] });
    expect(made.status).toBe(201);
    reportB = String(made.body.id);
    const missing = '987654321';
    const attempts = (id: string) => [
      api<ErrorBody>(stack.url, 'GET', `/v1/reports/${id}`, as(officerA)),
      api<ErrorBody>(stack.url, 'GET', `/v1/reports/${id}?format=pdf`, as(officerA)),
      api<ErrorBody>(stack.url, 'GET', `/v1/reports/${id}?format=csv`, as(officerA)),
      api<ErrorBody>(stack.url, 'GET', `/v1/reports/${id}/verification`, as(officerA)),
      api<ErrorBody>(stack.url, 'PATCH', `/v1/reports/${id}`, { token: officerA, body: { submitted_to_authority: true } }),
    ];
    const answer = (r: { status: number; body: { error: { code: string; message: string } } }) => ({ status: r.status, code: r.body.error.code, message: r.body.error.message });
    const absent = (await Promise.all(attempts(missing))).map(answer);
    expect(absent.every((a) => a.status === 404)).toBe(true);
    for (const id of [reportB, reportGlobal]) expect((await Promise.all(attempts(id))).map(answer)).toEqual(absent);
    expect((await pg.query('SELECT submitted_to_authority FROM compliance_reports WHERE id = $1', [reportB])).rows[0].submitted_to_authority).toBe(false);
    // An unrestricted key and the administrator read it.
    expect((await api<ReportDoc>(stack.url, 'GET', `/v1/reports/${reportB}`, as(officerAll))).body.content.failed_logins.total).toBe(5);
  }, 60_000);

  it('lists only reports scoped within its apps; naming another app in the filter is refused', async () => {
    const list = async (token: string, query = '') =>
      (await api<{ reports: { id: number; scope_apps: string[] | null }[] }>(stack.url, 'GET', `/v1/reports${query}`, as(token))).body.reports.map((r) => [String(r.id), r.scope_apps]);
    expect(await list(officerA)).toEqual([[reportA, ['app-a']]]);
    expect(await list(officerAll)).toEqual([
      [reportB, ['app-b']],
      [reportGlobal, null],
      [reportA, ['app-a']],
    ]);
    expect(await list(officerAll, '?app=app-b')).toEqual([[reportB, ['app-b']]]);
    expect(await list(officerA, '?app=app-a')).toEqual([[reportA, ['app-a']]]);
    for (const app of ['app-b', 'no-such-app']) expect((await api(stack.url, 'GET', `/v1/reports?app=${app}`, as(officerA))).status).toBe(403);
  });

  it('a report whose stored scope was rewritten in the database fails verification', async () => {
    const weekly = await generate(admins.five.token, { type: 'weekly_access_review', period_end: '2026-02-08T00:00:00Z', apps: ['app-b'] });
    expect(weekly.status).toBe(201);
    await pg.query(`UPDATE compliance_reports SET scope_apps = '{app-a}' WHERE id = $1`, [weekly.body.id]);
    try {
      // Who may read a report goes by the stored scope; its verification shows the rewrite.
      const verdict = (await api<ReportVerification>(stack.url, 'GET', `/v1/reports/${weekly.body.id}/verification`, as(officerA))).body;
      expect(verdict).toMatchObject({ ok: false, hash_matches: true, signature_valid: true, scope: ['app-b'] });
      expect(verdict.problems.join('; ')).toMatch(/stored scope \(app-a\) is not the signed one \(app-b\)/);
    } finally {
      await pg.query(`UPDATE compliance_reports SET scope_apps = '{app-b}' WHERE id = $1`, [weekly.body.id]);
    }
  });

  it('a scoped monthly report says whether the shared chains hold, not how many rows the other apps have', async () => {
    // The period check reads the seals made in the period: this test's, made in the last minutes.
    const end = new Date();
    const month = { type: 'monthly_compliance', period_start: new Date(end.getTime() - 86_400_000).toISOString(), period_end: end.toISOString() };
    const scoped = await generate(officerA, month);
    const global = await generate(officerAll, month);
    expect([scoped.status, global.status]).toEqual([201, 201]);
    const read = async (r: { body: ReportMade }) => (await api<ReportDoc>(stack.url, 'GET', `/v1/reports/${r.body.id}`, as(officerAll))).body;
    const [a, all] = await Promise.all([read(scoped), read(global)]);
    expect(all.content.integrity.rows_verified).toBeGreaterThan(0);
    expect(a.content.integrity).toMatchObject({ ok: true, covers: expect.stringMatching(/every application/) });
    expect(a.content.integrity).not.toHaveProperty('rows_verified');
    expect(a.content.integrity.tables.map((t: Record<string, unknown>) => Object.keys(t).sort())).toEqual(all.content.integrity.tables.map(() => ['ok', 'seals', 'table']));
    expect(a.total_records).toBe(0);
    expect(all.total_records).toBeGreaterThan(0);
  }, 60_000);

  it('scheduled reports stay global', () => {
    const reportJobs = SCHEDULED_TASKS.filter((t) => t.name.startsWith('report-')).map((t) => t.job({ start: new Date(DAY.start), end: new Date(DAY.end) }));
    expect(reportJobs.length).toBe(3);
    for (const job of reportJobs) expect(job).not.toHaveProperty('apps');
  });
});

describe('the dashboard for a restricted key', () => {
  it('says which apps it reads, and counts only their traffic, without the shared queues', async () => {
    const me = (await api(stack.url, 'GET', '/v1/dashboard/me', as(officerA))).body;
    expect(me).toMatchObject({ principal: { type: 'api_key', name: 'officer-a' }, apps: ['app-a'], can: { readReports: true, readIncidents: false } });
    const total = (o: { events_by_kind: Record<string, number[]> }) =>
      Object.values(o.events_by_kind)
        .flat()
        .reduce((a, b) => a + b, 0);
    const ofA = await eventually(async () => {
      const o = (await api<Overview>(stack.url, 'GET', '/v1/dashboard/overview?hours=24&app=app-a', as(admins.five.token))).body;
      return total(o) > 0 && o;
    });
    const ofB = (await api<Overview>(stack.url, 'GET', '/v1/dashboard/overview?hours=24&app=app-b', as(admins.five.token))).body;
    expect(total(ofB)).toBeGreaterThan(0);
    const restricted = await api<Overview>(stack.url, 'GET', '/v1/dashboard/overview?hours=24', as(officerA));
    expect(restricted.status).toBe(200);
    expect(restricted.body.events_by_kind).toEqual(ofA.events_by_kind);
    expect(restricted.body.queues).toBeNull();
    expect((await api<Overview>(stack.url, 'GET', '/v1/dashboard/overview?hours=24&app=app-a', as(officerA))).body.events_by_kind).toEqual(ofA.events_by_kind);
    // An unrestricted key still sees everything, queues included.
    const all = (await api<Overview>(stack.url, 'GET', '/v1/dashboard/overview?hours=24', as(officerAll))).body;
    expect(total(all)).toBeGreaterThanOrEqual(total(ofA) + total(ofB));
    expect(all.queues!.length).toBeGreaterThan(0);
  });

  it('refuses a forged app filter for another app (or one that does not exist) instead of answering it', async () => {
    for (const app of ['app-b', 'auditflow', 'no-such-app', "app-a' OR 1=1 --"]) {
      const res = await api<Partial<Overview>>(stack.url, 'GET', `/v1/dashboard/overview?app=${encodeURIComponent(app)}`, as(officerA));
      expect({ app, status: res.status }).toEqual({ app, status: 403 });
      expect(res.body.events_by_kind).toBeUndefined();
    }
    expect((await api(stack.url, 'GET', '/v1/dashboard/apps', as(officerA))).body).toEqual({ apps: ['app-a'] });
    expect((await api<{ apps: string[] }>(stack.url, 'GET', '/v1/dashboard/apps', as(officerAll))).body.apps).toEqual(expect.arrayContaining(['app-a', 'app-b', 'auditflow']));
  });

  it('is still refused wherever a route reads every app at once, and never reaches the administrators’ pages', async () => {
    for (const route of ['/v1/integrity/verify', '/v1/integrity/runs']) {
      const res = await api<ErrorBody>(stack.url, 'GET', route, as(officerA));
      expect({ route, status: res.status }).toEqual({ route, status: 403 });
      expect(res.body.error.message).toMatch(/restricted to the apps app-a/);
    }
    for (const route of [
      '/v1/dashboard/failed-logins?app=app-a',
      '/v1/dashboard/locked-accounts?app=app-a',
      '/v1/dashboard/users/a-user/timeline?app=app-a',
      '/admin/security-events?app=app-a',
      '/admin/error-logs?app=app-a',
    ]) {
      expect({ route, status: (await api(stack.url, 'GET', route, as(officerA))).status }).toEqual({ route, status: 401 });
    }
  });

  it('in the browser: the officer sees only its apps, its reports, and no integrity page', async () => {
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(`${stack.url}/dashboard`);
      await page.fill('#key-login input[name=api_key]', officerA);
      await page.click('#key-login button[type=submit]');
      await page.locator('h1', { hasText: 'Overview' }).waitFor();
      await expect(page.locator('#nav a').allTextContents()).resolves.toEqual(['Overview', 'Compliance reports']);
      await expect(page.locator('#who').textContent()).resolves.toContain('apps: app-a');
      await page.locator('select[name=app] option[value="app-a"]').waitFor({ state: 'attached' });
      await expect(page.locator('select[name=app] option').allTextContents()).resolves.toEqual(['All my apps', 'app-a']);
      await expect(page.locator('#queues').count()).resolves.toBe(0);

      await page.evaluate(`location.hash = '#/reports'`);
      await page.locator('tr[data-report-id]').first().waitFor();
      const scopes = await page.locator('tr[data-report-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-scope')));
      expect(scopes.length).toBeGreaterThan(0);
      expect(new Set(scopes)).toEqual(new Set(['app-a']));
      await page.locator('select[name=scope] option[value="app-a"]').waitFor({ state: 'attached' });
      await expect(page.locator('select[name=scope] option').allTextContents()).resolves.toEqual(['All my apps (app-a)', 'app-a']);

      await page.evaluate(`location.hash = '#/integrity'`);
      await page.locator('h1', { hasText: 'Not available' }).waitFor();
      expect(problems).toEqual([]);
    } finally {
      await browser?.close();
    }
  }, 60_000);
});

describe('API keys through the admin API', () => {
  it('an administrator below level 5 cannot create or revoke keys; below 3 cannot list them; a key cannot at all', async () => {
    const body = { name: 'sneaky', scopes: ['admin', 'retention', 'query', 'reports'] };
    const four = await api<ErrorBody>(stack.url, 'POST', '/admin/api-keys', { token: admins.four.token, body });
    expect(four.status).toBe(403);
    expect(four.body.error.message).toMatch(/admin_level 5/);
    expect((await api(stack.url, 'DELETE', `/admin/api-keys/${randomUUID()}`, as(admins.four.token))).status).toBe(403);
    expect((await api(stack.url, 'GET', '/admin/api-keys', as(admins.four.token))).status).toBe(200);
    const two = await adminLogin('two@admin.example', 2);
    expect((await api(stack.url, 'GET', '/admin/api-keys', as(two.token))).status).toBe(403);
    const adminKey = await createApiKey(ns, 'ops-key', ['admin', 'reports']);
    expect((await api(stack.url, 'POST', '/admin/api-keys', { token: adminKey, body })).status).toBe(401);
    expect((await api(stack.url, 'POST', '/admin/api-keys', { token: officerA, body })).status).toBe(401);
    expect((await pg.query(`SELECT count(*) AS n FROM api_keys WHERE name = 'sneaky'`)).rows[0].n).toBe('0');
  });

  it('creates a restricted key as the CLI does: shown once, audited, working; revoked at once', async () => {
    const created = await api<KeyCreated>(stack.url, 'POST', '/admin/api-keys', {
      token: admins.five.token,
      body: { name: 'officer-ab', scopes: ['query', 'reports'], apps: ['app-a', 'app-b'], trusted_ip_reputation: false },
    });
    expect(created.status).toBe(201);
    const { key, api_key: record } = created.body;
    expect(key).toMatch(/^af_/);
    expect(record).toMatchObject({ name: 'officer-ab', app: 'officer-ab', scopes: ['query', 'reports'], apps: ['app-a', 'app-b'], trusted_ip_reputation: false, revoked_at: null });
    expect(record).not.toHaveProperty('key_hash');

    // Listed without the key or its hash.
    const listed = await api<{ api_keys: { id: string }[] }>(stack.url, 'GET', '/admin/api-keys', as(admins.five.token));
    expect(listed.body.api_keys.find((k) => k.id === record.id)).toMatchObject({ apps: ['app-a', 'app-b'], key_prefix: key.slice(0, 10) });
    expect(JSON.stringify(listed.body)).not.toContain(key);
    expect(JSON.stringify(listed.body)).not.toMatch(/key_hash/);

    // It works, restricted.
    expect((await api<Viewer>(stack.url, 'GET', '/v1/dashboard/me', as(key))).body.apps).toEqual(['app-a', 'app-b']);
    const scopes = (await api<{ reports: { scope_apps: string[] }[] }>(stack.url, 'GET', '/v1/reports', as(key))).body.reports.map((r) => r.scope_apps.join(','));
    expect([...new Set(scopes)].sort()).toEqual(['app-a', 'app-b']);

    // Audited as the CLI's creation is, with the administrator as the actor, and no secret in it.
    const audit = async (type: string) =>
      eventually(async () => {
        await stack.writer!.flushAll();
        const rows = await queryRows<{ triggered_by_type: string; triggered_by_id: string; next: string; action_type: string }>(
          stack.clickhouse!,
          `SELECT triggered_by_type, triggered_by_id, toJSONString(new_value) AS next, action_type FROM audit_logs WHERE event_type = {t:String} AND entity_id = {id:String}`,
          { t: type, id: record.id },
        );
        return rows.length === 1 && rows[0];
      });
    const creation = await audit('api_key_created');
    expect(creation).toMatchObject({ triggered_by_type: 'admin', triggered_by_id: admins.five.id, action_type: 'CREATE' });
    expect(JSON.parse(creation.next)).toMatchObject({ name: 'officer-ab', apps: ['app-a', 'app-b'], scopes: ['query', 'reports'], revoked: false });
    expect(creation.next).not.toContain(key);

    const revoked = await api<{ api_key: { revoked_at: string | null } }>(stack.url, 'DELETE', `/admin/api-keys/${record.id}`, as(admins.five.token));
    expect(revoked.status).toBe(200);
    expect(revoked.body.api_key.revoked_at).toEqual(expect.any(String));
    // The API's own key cache is dropped: refused at the very next request.
    expect((await api(stack.url, 'GET', '/v1/dashboard/me', as(key))).status).toBe(401);
    expect((await api(stack.url, 'DELETE', `/admin/api-keys/${record.id}`, as(admins.five.token))).status).toBe(404);
    const revocation = await audit('api_key_revoked');
    expect(revocation).toMatchObject({ triggered_by_type: 'admin', triggered_by_id: admins.five.id, action_type: 'DELETE' });
  }, 60_000);

  it('validates as the CLI does', async () => {
    const create = (body: Record<string, unknown>) => api<KeyCreated>(stack.url, 'POST', '/admin/api-keys', { token: admins.five.token, body });
    const bad: Record<string, unknown>[] = [
      { name: 'x', app: 'auditflow', scopes: ['ingest'] },
      { name: 'x', scopes: ['ingest'], apps: [] },
      { name: 'x', scopes: ['root'] },
      { name: 'x', scopes: [] },
      { name: 'has space', scopes: ['ingest'] },
      { name: 'x', scopes: ['ingest'], apps: ['a,b'] },
      { name: 'x', scopes: ['ingest'], key_hash: 'chosen' },
    ];
    for (const body of bad) expect({ body, status: (await create(body)).status }).toEqual({ body, status: 400 });
    const trusted = await create({ name: 'sso-2026', app: 'sso', scopes: ['ingest'], trusted_ip_reputation: true });
    expect(trusted.body.api_key).toMatchObject({ name: 'sso-2026', app: 'sso', trusted_ip_reputation: true, apps: null });
  });
});

describe('resolutions keyed by app', () => {
  const list = async (kind: 'security-events' | 'error-logs', query: string) => {
    const res = await api<Record<string, unknown>>(stack.url, 'GET', `/admin/${kind}?${query}&limit=200`, as(admins.five.token));
    return res.body[kind === 'security-events' ? 'security_events' : 'error_logs'] as { source_app: string; event_id: string; is_resolved: boolean }[];
  };
  const pairs = (rows: { source_app: string; event_id: string }[], id: string) =>
    rows
      .filter((r) => r.event_id === id)
      .map((r) => r.source_app)
      .sort();

  it("resolving app A's security event leaves app B's, with the same event_id, open", async () => {
    expect(pairs(await list('security-events', 'resolved=false'), SHARED_SECURITY)).toEqual(['app-a', 'app-b']);
    const route = `/admin/security-events/${SHARED_SECURITY}/resolve`;
    const resolve = (body: Record<string, unknown>) => api(stack.url, 'POST', route, { token: admins.five.token, body: { analyst_notes: 'Checked with app A', ...body } });

    // Without the app, the id alone names two events: refused, nothing resolved.
    const ambiguous = await resolve({});
    expect(ambiguous.status).toBe(409);
    expect(errorOf(ambiguous).message).toMatch(/app-a, app-b/);
    expect(await resolve({ source_app: 'app-c' })).toMatchObject({ status: 404 });

    const a = await resolve({ source_app: 'app-a' });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ source_app: 'app-a', event_id: SHARED_SECURITY, is_resolved: true, event_description: 'app-a: blocked request' });
    expect(pairs(await list('security-events', 'resolved=false'), SHARED_SECURITY)).toEqual(['app-b']);
    expect(pairs(await list('security-events', 'resolved=true'), SHARED_SECURITY)).toEqual(['app-a']);
    expect((await list('security-events', 'app=app-b')).find((r) => r.event_id === SHARED_SECURITY)).toMatchObject({ is_resolved: false });

    // A's is resolved once; B's is its own event, resolved on its own.
    expect((await resolve({ source_app: 'app-a' })).status).toBe(409);
    expect((await resolve({ source_app: 'app-b', analyst_notes: 'Checked with app B' })).status).toBe(200);
    const { rows } = await pg.query(`SELECT source_app, resolution_notes FROM event_resolutions WHERE kind = 'security_event' AND event_id = $1 ORDER BY source_app`, [SHARED_SECURITY]);
    expect(rows).toEqual([
      { source_app: 'app-a', resolution_notes: 'Checked with app A' },
      { source_app: 'app-b', resolution_notes: 'Checked with app B' },
    ]);
  });

  it('error logs likewise', async () => {
    const route = `/admin/error-logs/${SHARED_ERROR}/resolve`;
    expect((await api(stack.url, 'POST', route, { token: admins.five.token, body: { resolution_notes: 'x' } })).status).toBe(409);
    const b = await api(stack.url, 'POST', route, { token: admins.five.token, body: { resolution_notes: 'B retried', source_app: 'app-b' } });
    expect(b.body).toMatchObject({ source_app: 'app-b', is_resolved: true, resolution_notes: 'B retried' });
    expect(pairs(await list('error-logs', 'resolved=false'), SHARED_ERROR)).toEqual(['app-a']);
    expect(pairs(await list('error-logs', 'resolved=true'), SHARED_ERROR)).toEqual(['app-b']);
  });

  it("a daily report counts each app's resolution for that app's event only", async () => {
    // app-a's ambiguous and only-mine events are open; its shared one is resolved (above).
    const made = await generate(officerA, { type: 'daily_security_summary', period_start: DAY.start, period_end: '2026-02-01T12:00:00Z' });
    expect(made.status).toBe(201);
    const doc = (await api<ReportDoc>(stack.url, 'GET', `/v1/reports/${made.body.id}`, as(officerA))).body;
    expect(doc.content.security_events_by_severity).toEqual({ HIGH: { open: 2, resolved: 1 } });
  });

  it('resolutions made before they named the app are attached to the one app that had the event then, or to none', async () => {
    // As migration 016 leaves them: source_app ''.
    await pg.query(
      `INSERT INTO event_resolutions (kind, source_app, event_id, resolved_by_admin_id, resolution_notes) VALUES ('security_event', '', $1, $3, 'old, only A had it'), ('security_event', '', $2, $3, 'old, both had it')`,
      [ONLY_A, AMBIGUOUS, admins.five.id],
    );
    expect(await new LegacyResolutions(pg, directReader(stack.clickhouse!)).settle()).toBe(1);
    const { rows } = await pg.query(`SELECT source_app, event_id::text FROM event_resolutions WHERE event_id = ANY($1::uuid[]) ORDER BY resolution_notes DESC`, [[ONLY_A, AMBIGUOUS]]);
    expect(rows).toEqual([
      { source_app: 'app-a', event_id: ONLY_A },
      // Which app's was meant cannot be told: it applies to neither.
      { source_app: '', event_id: AMBIGUOUS },
    ]);
    const open = await list('security-events', 'resolved=false');
    expect(pairs(open, ONLY_A)).toEqual([]);
    expect(pairs(open, AMBIGUOUS)).toEqual(['app-a', 'app-b']);
  });

  it('migration 016 keeps every existing resolution, keyed by app from then on', async () => {
    const old = createNamespace('resolutions016');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-migrations-'));
    try {
      for (const f of fs.readdirSync(PG_MIGRATIONS_DIR).filter((f) => f < '016')) fs.copyFileSync(path.join(PG_MIGRATIONS_DIR, f), path.join(dir, f));
      await ensureDatabase(old.databaseUrl);
      const pool = new Pool({ connectionString: old.databaseUrl, max: 1 });
      try {
        await migratePostgres(pool, dir);
        const id = randomUUID();
        await pool.query(`INSERT INTO event_resolutions (kind, event_id, resolved_by_admin_id, resolution_notes) VALUES ('error_log', $1, $2, 'before')`, [id, randomUUID()]);
        expect((await migratePostgres(pool))[0]).toBe('016_resolutions_by_app.sql');
        expect((await pool.query('SELECT source_app, event_id::text, resolution_notes FROM event_resolutions')).rows).toEqual([{ source_app: '', event_id: id, resolution_notes: 'before' }]);
        // From now on one resolution per app's event, two apps' with one id side by side.
        const admin = randomUUID();
        await pool.query(`INSERT INTO event_resolutions (kind, source_app, event_id, resolved_by_admin_id, resolution_notes) VALUES ('error_log', 'a', $1, $2, 'x'), ('error_log', 'b', $1, $2, 'y')`, [
          id,
          admin,
        ]);
        await expect(
          pool.query(`INSERT INTO event_resolutions (kind, source_app, event_id, resolved_by_admin_id, resolution_notes) VALUES ('error_log', 'a', $1, $2, 'z')`, [id, admin]),
        ).rejects.toThrow(/duplicate key/);
      } finally {
        await pool.end();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await old.cleanup();
    }
  });
});

import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createControlQueue } from '../../src/queues/queues';
import { enqueueScheduled, SCHEDULED_TASKS } from '../../src/roles/scheduler-role';
import { api } from '../helpers/accounts';
import { runCliAsync } from '../helpers/child';
import { createApiKey, postEvents, startStack } from '../helpers/stack';
import { createNamespace, eventually, REDIS_URL } from '../helpers/test-env';

const ns = createNamespace('reports');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;

const IN = '2026-01-01T10:00:00Z';
const OUT = '2026-01-02T01:00:00Z';

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  key = await createApiKey(ns, 'compliance', ['ingest', 'reports']);
  const failed = (reason: string, at: string) => ({ kind: 'failed_login', email_address: 'v@example.com', failure_reason: reason, ip_address: '203.0.113.5', occurred_at: at });
  const events = [
    failed('INVALID_PASSWORD', IN),
    failed('INVALID_PASSWORD', IN),
    failed('INVALID_PASSWORD', IN),
    failed('ACCOUNT_LOCKED', IN),
    failed('INVALID_PASSWORD', OUT),
    { kind: 'security', event_type: 'AUTHENTICATION_FAILURE', severity_level: 'HIGH', action_taken: 'ACCOUNT_LOCKED', occurred_at: IN },
    { kind: 'security', event_type: 'SUSPICIOUS_ACTIVITY', severity_level: 'HIGH', is_resolved: true, occurred_at: IN },
    { kind: 'security', event_type: 'RATE_LIMIT_EXCEEDED', severity_level: 'LOW', occurred_at: IN },
    { kind: 'security', event_type: 'RATE_LIMIT_EXCEEDED', severity_level: 'LOW', occurred_at: OUT },
    { kind: 'auth', event_type: 'login_success', risk_score: 80, occurred_at: IN },
    { kind: 'auth', event_type: 'login_failed', risk_score: 95, occurred_at: IN },
    { kind: 'auth', event_type: 'login_success', risk_score: 10, occurred_at: IN },
    { kind: 'audit', event_type: 'role_changed', triggered_by_type: 'admin', triggered_by_id: 'adm-1', user_id: 'u9', occurred_at: '2026-01-03T10:00:00Z' },
    { kind: 'audit', event_type: 'gdpr_request', user_id: 'u9', new_value: { request_type: 'export' }, occurred_at: '2026-01-10T10:00:00Z' },
  ];
  expect((await postEvents(stack.url, key, events)).status).toBe(202);
  await new Promise((r) => setTimeout(r, 300));
  await stack.writer!.flushAll();
});

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

const listReports = async () =>
  (await api<{ reports: { id: string; report_type: string; report_hash: string; previous_report_hash: string }[] }>(stack.url, 'GET', '/v1/reports', { token: key })).body.reports;

/** A report as GET /v1/reports/:id shows it (its content is compared whole). */
interface ReportDoc {
  content: Record<string, unknown>;
  total_records: number;
  report_hash: string;
  previous_report_hash: string | null;
}
/** What POST /v1/reports answers. */
interface ReportMade {
  id: string;
  created: boolean;
}

describe('compliance reports', () => {
  it('the cron trigger for a fixed day produces one report with that day’s figures, even from two schedulers', async () => {
    const task = SCHEDULED_TASKS.find((t) => t.name === 'report-daily_security_summary')!;
    const tick = new Date('2026-01-02T00:05:00Z');
    // Two scheduler processes firing on the same tick.
    const redisA = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const redisB = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const [qa, qb] = [createControlQueue(redisA, ns.config()), createControlQueue(redisB, ns.config())];
    try {
      await Promise.all([enqueueScheduled(qa, task, tick), enqueueScheduled(qb, task, tick)]);
      const [report] = await eventually(async () => {
        const r = (await listReports()).filter((x) => x.report_type === 'daily_security_summary');
        return r.length > 0 && r;
      }, 20_000);
      // A late third trigger after the job is gone still makes no second report.
      await enqueueScheduled(qa, task, new Date('2026-01-02T00:06:00Z'));
      await new Promise((r) => setTimeout(r, 1500));
      expect((await listReports()).filter((x) => x.report_type === 'daily_security_summary')).toHaveLength(1);

      const doc = (await api<ReportDoc>(stack.url, 'GET', `/v1/reports/${report!.id}?format=json`, { token: key })).body;
      expect(doc).toMatchObject({ report_type: 'daily_security_summary', period_start: '2026-01-01T00:00:00.000Z', period_end: '2026-01-02T00:00:00.000Z' });
      expect(doc.content).toEqual({
        failed_logins: { total: 4, by_reason: { ACCOUNT_LOCKED: 1, INVALID_PASSWORD: 3 } },
        lockouts: { ACCOUNT_LOCKED: 1 },
        high_risk_auth_events: { total: 2, by_type: { login_failed: 1, login_success: 1 } },
        security_events_by_severity: { HIGH: { open: 1, resolved: 1 }, LOW: { open: 1, resolved: 0 } },
        top_offending_ips: [{ ip_address: '203.0.113.5', failed_logins: 4 }],
        top_offending_accounts: [{ email_address: 'v@example.com', failed_logins: 4 }],
        // No verification has run in this namespace yet: the report says so.
        integrity_last_run: null,
      });
      expect(doc.total_records).toBe(4 + 1 + 2 + 3);
    } finally {
      await Promise.all([qa.close(), qb.close()]);
      await Promise.all([redisA.quit(), redisB.quit()]);
    }
  }, 60_000);

  it('a scheduled slot fired early by a wall clock stepped forward waits until its period has ended on the database clock', async () => {
    const task = SCHEDULED_TASKS.find((t) => t.name === 'report-daily_security_summary')!;
    // What a scheduler whose clock runs two days ahead enqueues: a period that has not ended yet.
    const tick = new Date(Date.now() + 2 * 86_400_000);
    const period = task.period(tick);
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = createControlQueue(redis, ns.config());
    try {
      await enqueueScheduled(queue, task, tick);
      const jobId = `${task.name}@${period.end.getTime()}`;
      const job = await eventually(async () => {
        const j = await queue.getJob(jobId);
        return j && (await j.getState()) === 'delayed' && j;
      }, 20_000);
      // Delayed until the period's end, not failed, and no report made early.
      expect(job.timestamp + job.delay).toBeGreaterThanOrEqual(period.end.getTime());
      expect(job.attemptsMade).toBe(0);
      expect(
        (await listReports()).filter((r) => r.report_type === 'daily_security_summary' && new Date((r as { report_period_end?: string }).report_period_end ?? 0).getTime() === period.end.getTime()),
      ).toHaveLength(0);
      await job.remove();
      // A job for an unfinished period that no scheduler asked for is refused, not delayed.
      const manual = await queue.add('report', { type: 'report', reportType: 'daily_security_summary', start: period.start.toISOString(), end: period.end.toISOString(), generatedBy: 'api' });
      const failed = await eventually(async () => {
        const j = await queue.getJob(manual.id!);
        return j && (await j.getState()) === 'failed' && j;
      }, 20_000);
      expect(failed.failedReason).toMatch(/has not (started|ended)/);
    } finally {
      await queue.close();
      await redis.quit();
    }
  }, 60_000);

  it('generates on demand once per period, chains reports, and records submission to an authority', async () => {
    const body = { type: 'weekly_access_review', period_start: '2026-01-01T00:00:00Z', period_end: '2026-01-08T00:00:00Z' };
    const first = await api<ReportMade>(stack.url, 'POST', '/v1/reports', { token: key, body });
    expect(first.status).toBe(201);
    const again = await api(stack.url, 'POST', '/v1/reports', { token: key, body });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ id: first.body.id, created: false });
    const weekly = (await api<ReportDoc>(stack.url, 'GET', `/v1/reports/${first.body.id}`, { token: key })).body;
    expect(weekly.content.role_and_permission_changes).toEqual({ permission_granted: 0, permission_revoked: 0, role_changed: 1 });
    expect(weekly.content.admin_actions).toEqual({ total: 1, by_type: { role_changed: 1 } });

    const monthly = await api<ReportMade>(stack.url, 'POST', '/v1/reports', {
      token: key,
      body: { type: 'monthly_compliance', period_start: '2026-01-01T00:00:00Z', period_end: '2026-02-01T00:00:00Z' },
    });
    const monthlyDoc = (await api<ReportDoc>(stack.url, 'GET', `/v1/reports/${monthly.body.id}`, { token: key })).body;
    expect(monthlyDoc.content).toMatchObject({ gdpr_requests: 1, integrity: { ok: true } });
    expect(monthlyDoc.previous_report_hash).toBe(weekly.report_hash);

    const patched = await api<{ submission_date: string | null }>(stack.url, 'PATCH', `/v1/reports/${monthly.body.id}`, {
      token: key,
      body: { submitted_to_authority: true, authority_acknowledgment: 'CNIL-2026-0042' },
    });
    expect(patched.body).toMatchObject({ submitted_to_authority: true, authority_acknowledgment: 'CNIL-2026-0042' });
    expect(patched.body.submission_date).toBeTruthy();

    expect((await api(stack.url, 'POST', '/v1/reports', { token: key, body: { type: 'weekly_access_review', period_start: '2026-01-08T00:00:00Z', period_end: '2026-01-01T00:00:00Z' } })).status).toBe(
      400,
    );
    const noScope = await createApiKey(ns, 'ingest-only', ['ingest']);
    expect((await api(stack.url, 'GET', '/v1/reports', { token: noScope })).status).toBe(403);
  }, 60_000);

  it('downloads as CSV and PDF; the JSON verifies offline, and one changed byte fails', async () => {
    const [report] = await listReports();
    const csv = await fetch(`${stack.url}/v1/reports/${report!.id}?format=csv`, { headers: { authorization: `Bearer ${key}` } });
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    expect(await csv.text()).toMatch(/"report","report_hash","","[0-9a-f]{64}",""/);
    const pdf = await fetch(`${stack.url}/v1/reports/${report!.id}?format=pdf`, { headers: { authorization: `Bearer ${key}` } });
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');

    const json = await fetch(`${stack.url}/v1/reports/${report!.id}?format=json`, { headers: { authorization: `Bearer ${key}` } });
    const file = path.join(ns.dataDir, 'report.json');
    fs.writeFileSync(file, await json.text());
    const pem = path.join(ns.dataDir, 'public.pem');
    fs.writeFileSync(pem, (await runCliAsync(['keys', 'export-public'], ns.env())).stdout);
    const ok = await runCliAsync(['report', 'verify', file, '--public-key', pem], ns.env());
    expect(ok.stdout).toMatch(/^OK: /);
    expect(ok.code).toBe(0);

    const text = fs.readFileSync(file, 'utf8');
    const at = text.indexOf('"total_records": ') + '"total_records": '.length;
    const tampered = text.slice(0, at) + (text[at] === '9' ? '8' : '9') + text.slice(at + 1);
    fs.writeFileSync(file, tampered);
    const bad = await runCliAsync(['report', 'verify', file, '--public-key', pem], ns.env());
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/FAILED: content does not match report_hash/);

    // An officer handed the wrong file as the key is told what is wrong with it, not OpenSSL's decoder error.
    const garbage = path.join(ns.dataDir, 'garbage.pem');
    fs.writeFileSync(garbage, 'not a key\n');
    const rsa = path.join(ns.dataDir, 'rsa.pem');
    fs.writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }));
    for (const [keyFile, message] of [
      [garbage, /garbage\.pem: not a public key in PEM/],
      [rsa, /rsa\.pem: a rsa key, but reports and seals are signed with Ed25519/],
      [path.join(ns.dataDir, 'missing.pem'), /missing\.pem: no such file/],
    ] as const) {
      const wrongKey = await runCliAsync(['report', 'verify', file, '--public-key', keyFile], ns.env());
      expect({ code: wrongKey.code, stderr: wrongKey.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(message) });
    }
  }, 60_000);
});

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { reportHash, type SignedReport } from '../../src/domain/report';
import { api } from '../helpers/accounts';
import { createApiKey, postEvents, startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

/**
 * Reports chart what happened over their period: the builder counts per hour
 * (daily report) or per day (weekly, monthly) into `trends`, which the
 * signature covers, and the PDF draws each series under its section. Pages
 * are rendered with pdftoppm into test-results/reports/ to be looked at.
 */

const ns = createNamespace('report-trends');
const PAGES = path.resolve(__dirname, '..', '..', 'test-results', 'reports');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;

const DAY = '2026-02-03';
const at = (date: string, hour: number, minute = 10) => `${date}T${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:00Z`;

beforeAll(async () => {
  fs.mkdirSync(PAGES, { recursive: true });
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  key = await createApiKey(ns, 'compliance', ['ingest', 'reports']);
  const failed = (hour: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      kind: 'failed_login',
      email_address: `user${i % 3}@example.com`,
      failure_reason: i % 4 ? 'INVALID_PASSWORD' : 'USER_NOT_FOUND',
      ip_address: `203.0.113.${i % 5}`,
      occurred_at: at(DAY, hour, i),
    }));
  const security = (hour: number, severity: string, action?: string) => ({
    kind: 'security',
    event_type: action ? 'AUTHENTICATION_FAILURE' : 'SUSPICIOUS_ACTIVITY',
    severity_level: severity,
    ...(action ? { action_taken: action } : {}),
    occurred_at: at(DAY, hour),
  });
  const audit = (date: string, event_type: string, extra: Record<string, unknown> = {}) => ({ kind: 'audit', event_type, user_id: 'u-7', occurred_at: at(date, 11), ...extra });
  const admin = { triggered_by_type: 'admin', triggered_by_id: 'adm-1' };
  const events = [
    // A burst of guessing in the morning, a trickle at night.
    ...failed(2, 3),
    ...failed(9, 12),
    ...failed(10, 7),
    ...failed(21, 2),
    security(9, 'HIGH', 'ACCOUNT_LOCKED'),
    security(9, 'HIGH', 'ACCOUNT_LOCKED'),
    security(10, 'CRITICAL', 'IP_BLOCKED'),
    security(11, 'MEDIUM'),
    security(15, 'LOW'),
    security(15, 'LOW'),
    security(16, 'HIGH', 'ACCOUNT_UNLOCKED'),
    // The week of Monday 2 February: access changes on three days.
    audit('2026-02-02', 'role_changed', admin),
    audit('2026-02-04', 'permission_granted', admin),
    audit('2026-02-04', 'permission_granted', admin),
    audit('2026-02-06', 'permission_revoked', admin),
    audit('2026-02-06', 'account_suspended', admin),
    // The month: personal data operations and retention.
    audit('2026-02-10', 'gdpr_request', { new_value: { request_type: 'export' } }),
    audit('2026-02-11', 'data_exported'),
    audit('2026-02-20', 'account_deleted'),
    audit('2026-02-28', 'retention_pruned'),
  ];
  expect((await postEvents(stack.url, key, events)).status).toBe(202);
  await new Promise((r) => setTimeout(r, 300));
  await stack.writer!.flushAll();
});

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

/** A signed report as JSON, read by the figures this test checks. */
type Series = Record<string, number[]>;
interface ReportJson {
  report_hash: string;
  content: { failed_logins: { total: number } };
  trends: {
    bucket_seconds: number;
    buckets: string[];
    series: {
      failed_logins: { attempts: number[] };
      lockouts: Series;
      security_events_by_severity: Series & { LOW: number[] };
      admin_actions: { actions: number[] };
      role_and_permission_changes: Series;
      data_subject_activity: { gdpr_request: number[] };
      retention_actions: { retention_pruned: number[] };
    };
  };
}

async function generate(type: string, start: string, end: string) {
  const res = await api<{ id: string }>(stack.url, 'POST', '/v1/reports', { token: key, body: { type, period_start: start, period_end: end } });
  expect(res.status).toBe(201);
  const id = res.body.id;
  return { id, report: (await api<ReportJson>(stack.url, 'GET', `/v1/reports/${id}?format=json`, { token: key })).body };
}

/** The PDF's text (pdftotext) and its pages as PNGs (pdftoppm), kept under test-results/reports/<name>-N.png. */
async function pdfOf(id: string, name: string): Promise<{ text: string; pages: string[] }> {
  const res = await fetch(`${stack.url}/v1/reports/${id}?format=pdf`, { headers: { authorization: `Bearer ${key}` } });
  const file = path.join(ns.dataDir, `${name}.pdf`);
  fs.mkdirSync(ns.dataDir, { recursive: true });
  fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  for (const old of fs.readdirSync(PAGES).filter((f) => f.startsWith(`${name}-`))) fs.rmSync(path.join(PAGES, old));
  execFileSync('pdftoppm', ['-png', '-r', '70', file, path.join(PAGES, name)]);
  return { text: execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }), pages: fs.readdirSync(PAGES).filter((f) => f.startsWith(`${name}-`) && f.endsWith('.png')) };
}

async function csvOf(id: string): Promise<string[]> {
  const res = await fetch(`${stack.url}/v1/reports/${id}?format=csv`, { headers: { authorization: `Bearer ${key}` } });
  return (await res.text()).split('\r\n');
}

describe('trend charts in reports', () => {
  it('the daily summary counts failed logins, lockouts and security events by severity per hour, signed, and charts them', async () => {
    const { id, report } = await generate('daily_security_summary', `${DAY}T00:00:00Z`, '2026-02-04T00:00:00Z');
    expect(report.trends.bucket_seconds).toBe(3600);
    expect(report.trends.buckets).toHaveLength(24);
    expect(report.trends.buckets[9]).toBe(`${DAY}T09:00:00.000Z`);
    const hours = (values: number[]) => Object.fromEntries(values.map((v, h) => [h, v]).filter(([, v]) => v));
    expect(hours(report.trends.series.failed_logins.attempts)).toEqual({ 2: 3, 9: 12, 10: 7, 21: 2 });
    expect(Object.fromEntries(Object.entries(report.trends.series.lockouts).map(([k, v]) => [k, hours(v as number[])]))).toEqual({
      ACCOUNT_LOCKED: { 9: 2 },
      ACCOUNT_UNLOCKED: { 16: 1 },
      IP_BLOCKED: { 10: 1 },
    });
    expect(Object.keys(report.trends.series.security_events_by_severity).sort()).toEqual(['CRITICAL', 'HIGH', 'LOW', 'MEDIUM']);
    expect(hours(report.trends.series.security_events_by_severity.LOW)).toEqual({ 15: 2 });
    // The trends agree with the section totals beside them.
    expect(report.trends.series.failed_logins.attempts.reduce((a: number, b: number) => a + b, 0)).toBe(report.content.failed_logins.total);

    const { text, pages } = await pdfOf(id, 'daily');
    for (const title of ['Failed logins', 'Lockouts and blocks', 'Security events by severity']) expect(text).toContain(title);
    expect(text).toContain('Attempts per hour (UTC)');
    expect(text).toContain('Actions per hour (UTC)');
    expect(text).toContain('Events per hour (UTC)');
    expect(text).toMatch(/Account locked\s+Account unlocked\s+IP blocked/s);
    // The legend reads most severe first, as the bars stack from the axis up.
    expect(text).toMatch(/CRITICAL\s+HIGH\s+MEDIUM\s+LOW/);
    const total = Number((text.match(/Page \d+ of (\d+)/) ?? [])[1]);
    expect(pages).toHaveLength(total);

    const csv = await csvOf(id);
    expect(csv).toContain(`"failed_logins_per_hour","${DAY}T09:00:00.000Z","attempts","12","attempts"`);
    expect(csv).toContain(`"security_events_by_severity_per_hour","${DAY}T15:00:00.000Z","LOW","2","events"`);
  }, 90_000);

  it('the weekly review and the monthly report count per day, and chart only what happened', async () => {
    const weekly = await generate('weekly_access_review', '2026-02-02T00:00:00Z', '2026-02-09T00:00:00Z');
    expect(weekly.report.trends.bucket_seconds).toBe(86400);
    expect(weekly.report.trends.buckets).toHaveLength(7);
    expect(weekly.report.trends.series.admin_actions.actions).toEqual([1, 0, 2, 0, 2, 0, 0]);
    expect(weekly.report.trends.series.role_and_permission_changes).toEqual({
      permission_granted: [0, 0, 2, 0, 0, 0, 0],
      permission_revoked: [0, 0, 0, 0, 1, 0, 0],
      role_changed: [1, 0, 0, 0, 0, 0, 0],
    });
    const weeklyPdf = await pdfOf(weekly.id, 'weekly');
    expect(weeklyPdf.text).toContain('Actions per day (UTC)');
    expect(weeklyPdf.text).toContain('Changes per day (UTC)');
    expect(weeklyPdf.pages.length).toBeGreaterThanOrEqual(2);

    const monthly = await generate('monthly_compliance', '2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z');
    expect(monthly.report.trends.buckets).toHaveLength(28);
    expect(monthly.report.trends.series.data_subject_activity.gdpr_request[9]).toBe(1);
    expect(monthly.report.trends.series.retention_actions.retention_pruned[27]).toBe(1);
    const monthlyPdf = await pdfOf(monthly.id, 'monthly');
    expect(monthlyPdf.text).toContain('Personal data activity');
    expect(monthlyPdf.text).toContain('Operations per day (UTC)');
    expect(monthlyPdf.text).toContain('Integrity of the period');
    expect(monthlyPdf.pages.length).toBeGreaterThanOrEqual(2);

    // A period with nothing counted has its trends (zeros) but no chart.
    const empty = await generate('daily_security_summary', '2026-02-05T00:00:00Z', '2026-02-06T00:00:00Z');
    expect(empty.report.trends.series.failed_logins.attempts).toEqual(new Array(24).fill(0));
    expect((await pdfOf(empty.id, 'daily-empty')).text).not.toContain('per hour (UTC)');
  }, 120_000);

  it('signs the trends: a changed count fails verification', async () => {
    const { id } = await generate('daily_security_summary', '2026-02-02T00:00:00Z', '2026-02-03T00:00:00Z');
    const verification = await api(stack.url, 'GET', `/v1/reports/${id}/verification`, { token: key });
    expect(verification.body).toMatchObject({ hash_matches: true, signature_valid: true });
    const report = (await api<SignedReport & ReportJson>(stack.url, 'GET', `/v1/reports/${id}?format=json`, { token: key })).body;
    expect(reportHash(report)).toBe(report.report_hash);
    report.trends.series.failed_logins.attempts[0]! += 1;
    expect(reportHash(report)).not.toBe(report.report_hash);
  }, 60_000);
});

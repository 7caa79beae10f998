import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createControlQueue } from '../../src/queues/queues';
import { enqueueScheduled, SCHEDULED_TASKS } from '../../src/roles/scheduler-role';
import { api } from '../helpers/accounts';
import { createApiKey, postEvents, startStack } from '../helpers/stack';
import { createNamespace, eventually, REDIS_URL } from '../helpers/test-env';

const ns = createNamespace('report-document');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;

const AT = '2026-01-01T10:00:00Z';

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  key = await createApiKey(ns, 'compliance', ['ingest', 'reports']);
  const failed = (ip: string, email: string) => ({ kind: 'failed_login', email_address: email, failure_reason: 'INVALID_PASSWORD', ip_address: ip, occurred_at: AT });
  const events = [
    failed('203.0.113.5', 'victim@example.com'),
    failed('203.0.113.5', 'victim@example.com'),
    failed('203.0.113.5', 'other@example.com'),
    failed('198.51.100.7', 'victim@example.com'),
    { kind: 'security', event_type: 'AUTHENTICATION_FAILURE', severity_level: 'HIGH', action_taken: 'ACCOUNT_LOCKED', occurred_at: AT },
    { kind: 'auth', event_type: 'login_failed', risk_score: 95, occurred_at: AT },
  ];
  expect((await postEvents(stack.url, key, events)).status).toBe(202);
  await new Promise((r) => setTimeout(r, 300));
  await stack.writer!.flushAll();
});

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

async function download(id: string, format: 'pdf' | 'csv'): Promise<Buffer> {
  const res = await fetch(`${stack.url}/v1/reports/${id}?format=${format}`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

async function generate(type: string, start: string, end: string): Promise<string> {
  const res = await api<{ id: string }>(stack.url, 'POST', '/v1/reports', { token: key, body: { type, period_start: start, period_end: end } });
  expect(res.status).toBe(201);
  return res.body.id;
}

/** Writes the PDF, extracts its text with pdftotext and renders its pages with pdftoppm. */
function inspect(pdf: Buffer, name: string): { text: string; pages: string[] } {
  const dir = path.join(ns.dataDir, name);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'report.pdf');
  fs.writeFileSync(file, pdf);
  const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
  execFileSync('pdftoppm', ['-png', '-r', '40', file, path.join(dir, 'page')]);
  const pages = fs.readdirSync(dir).filter((f) => f.endsWith('.png'));
  return { text, pages };
}

describe('compliance reports as documents', () => {
  it('the daily PDF has a cover, described sections as tables, integrity status, signature block and page numbers', async () => {
    const id = await generate('daily_security_summary', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z');
    const report = (await api<{ generated_at: string; report_hash: string; key_id: string }>(stack.url, 'GET', `/v1/reports/${id}?format=json`, { token: key })).body;
    const { text, pages } = inspect(await download(id, 'pdf'), 'daily');

    // Cover
    expect(text).toContain('Daily security summary');
    expect(text).toMatch(/Period\s+2026-01-01T00:00:00.000Z to 2026-01-02T00:00:00.000Z/);
    expect(text).toMatch(/Scope\s+All applications/);
    expect(text).toMatch(new RegExp(`Generated\\s+${report.generated_at.replace(/\./g, '\\.')}`));
    expect(text).toMatch(new RegExp(`Report id\\s+${id}`));
    // Sections: heading, what it measures, a table with labels and units
    for (const title of ['Failed logins', 'Lockouts and blocks', 'High-risk authentication events', 'Security events by severity', 'Top offending IP addresses', 'Top targeted accounts'])
      expect(text).toContain(title);
    expect(text).toContain('Login attempts that were refused');
    expect(text).toMatch(/Reason\s+Attempts/);
    expect(text).toMatch(/Invalid password\s+4/);
    expect(text).toMatch(/Severity\s+Open \(events\)\s+Resolved \(events\)\s+Total \(events\)/);
    expect(text).toMatch(/HIGH\s+1\s+0\s+1/);
    expect(text).toMatch(/203\.0\.113\.5\s+3/);
    expect(text).toMatch(/victim@example\.com\s+3/);
    // Integrity status: no run recorded yet in this namespace, and the report says so
    expect(text).toContain('Integrity status');
    expect(text).toContain('Last recorded verification run: none recorded');
    // Signature block
    expect(text).toContain(report.report_hash);
    expect(text).toContain('(first report of the chain)');
    expect(text).toMatch(new RegExp(`Key id\\s+${report.key_id}`));
    expect(text).toContain('npx auditflow report verify <file> --public-key <pem>');
    // Page numbers on every page, and every page renders
    const total = (text.match(/Page \d+ of (\d+)/) ?? [])[1];
    expect(Number(total)).toBeGreaterThanOrEqual(2);
    for (let n = 1; n <= Number(total); n++) expect(text).toContain(`Page ${n} of ${total}`);
    expect(pages).toHaveLength(Number(total));

    const csv = (await download(id, 'csv')).toString('utf8').split('\r\n');
    expect(csv[0]).toBe('section,dimension,measure,value,unit');
    expect(csv).toContain('"failed_logins","INVALID_PASSWORD","count","4","attempts"');
    expect(csv).toContain('"security_events_by_severity","HIGH","open","1","events"');
    expect(csv).toContain('"top_offending_ips","203.0.113.5","failed_logins","3","failed logins"');
    expect(csv).toContain('"top_offending_accounts","other@example.com","failed_logins","1","failed logins"');
  }, 60_000);

  it('the monthly PDF states the integrity of the period, OK per table, after a recorded verification run', async () => {
    // A nightly verification run is recorded first: the report states it.
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const control = createControlQueue(redis, ns.config());
    try {
      await enqueueScheduled(control, SCHEDULED_TASKS.find((t) => t.name === 'integrity-verify')!, new Date('2026-01-02T02:30:00Z'));
      // A run verifies every table, and the store's first one is slow cold (integrity-runs.test.ts): a minute, not the default 20 s.
      await eventually(async () => (await api<{ runs: unknown[] }>(stack.url, 'GET', '/v1/integrity/runs', { token: key })).body.runs.length === 1, 60_000);
    } finally {
      await control.close();
      await redis.quit();
    }
    const id = await generate('monthly_compliance', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z');
    const { text, pages } = inspect(await download(id, 'pdf'), 'monthly');
    expect(text).toContain('Monthly compliance report');
    expect(text).toContain('Personal data activity');
    expect(text).toContain('Retention actions');
    expect(text).toContain('Integrity of the period');
    expect(text).toMatch(/Table\s+Status\s+Seals\s+Rows/);
    expect(text).toMatch(/failed_login_attempts\s+OK/);
    expect(text).toMatch(/Period check: OK\. \d+ rows verified across \d+ tables\./);
    expect(text).toMatch(/Last recorded verification run \(scheduled, finished .*\): OK\. \d+ rows verified\./);
    expect(pages.length).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('a weekly PDF with nothing to report says so in words instead of a page of bare zeros', async () => {
    const id = await generate('weekly_access_review', '2026-01-05T00:00:00Z', '2026-01-12T00:00:00Z');
    const { text, pages } = inspect(await download(id, 'pdf'), 'weekly');
    expect(text).toContain('Weekly access review');
    expect(text).toContain('No matching events were stored for this period');
    for (const title of ['Administrator actions', 'Role and permission changes', 'Suspensions', 'Accounts created and deleted']) expect(text).toContain(title);
    expect(text).toContain('None recorded in this period.');
    expect(text).toMatch(/Role changed\s+0/);
    expect(pages.length).toBeGreaterThanOrEqual(2);
  }, 60_000);
});

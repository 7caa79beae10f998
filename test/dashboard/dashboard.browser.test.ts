import fs from 'node:fs';
import path from 'node:path';
import { Pool } from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { AdminAccountService } from '../../src/features/admin/admin-account.service';
import { AdministratorRepository } from '../../src/features/admin/administrator.repository';
import { LoginGuard } from '../../src/features/auth/login-guard';
import type { Viewer } from '../../src/features/dashboard/dashboard.service';
import { api, signUp } from '../helpers/accounts';
import { createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

/**
 * The dashboard in headless Chromium against the real stack: an
 * administrator logs in, opens every page, acts on it, and the effects are
 * checked in PostgreSQL and ClickHouse. Screenshots go to test-results/dashboard.
 */

const ns = createNamespace('dashboard');
const SHOTS = path.resolve(__dirname, '..', '..', 'test-results', 'dashboard');
const ADMIN = { email: 'officer@admin.example', password: 'a long admin passphrase' };
const PASSWORD = 'correct horse battery staple';

/** Payloads that would run if any page put event data into HTML. */
const XSS_SCRIPT = '<script>window.__xss = "script"</script>';
const XSS_IMG = '<img src=x onerror="window.__xss = \'img\'">';

let stack: Awaited<ReturnType<typeof startStack>>;
let pg: Pool;
let browser: Browser;
let page: Page;
let adminToken = '';
let reportsKey = '';
const lockedUser = { id: '', email: 'locked.out@example.com' };
const timelineUser = { id: '', email: 'timeline.person@example.com' };
/** Everything the page reported as an error: a CSP violation or a script error fails the test. */
const pageProblems: string[] = [];

async function clickHouseCount(sql: string, params: Record<string, unknown> = {}): Promise<number> {
  const [row] = await queryRows<{ n: number }>(stack.clickhouse!, sql, params);
  return Number(row?.n ?? 0);
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function openPage(hash: string, heading: string): Promise<void> {
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  await page.locator('h1', { hasText: heading }).waitFor();
}

beforeAll(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  pg = new Pool({ connectionString: ns.databaseUrl, max: 2 });
  await new AdminAccountService(new AdministratorRepository(pg), new LoginGuard(pg)).create({ email: ADMIN.email, password: ADMIN.password, admin_level: 5 });
  reportsKey = await createApiKey(ns, 'compliance-officer', ['reports']);
  const ingestKey = await createApiKey(ns, 'acme-shop', ['ingest']);

  // Real accounts: one to follow on the timeline, one locked out by wrong passwords.
  timelineUser.id = (await signUp(stack.url, ns, timelineUser.email)).userId;
  lockedUser.id = (await signUp(stack.url, ns, lockedUser.email)).userId;
  for (let i = 0; i < 5; i++) await api(stack.url, 'POST', '/auth/login', { body: { email: lockedUser.email, password: 'not the password' }, headers: { 'x-forwarded-for': '203.0.113.9' } });
  expect((await pg.query('SELECT locked_until > now() AS locked FROM users WHERE id = $1', [lockedUser.id])).rows[0]).toEqual({ locked: true });

  // Events from an app, with attacker-controlled text in the fields the pages show.
  const sent = await postEvents(stack.url, ingestKey, [
    {
      kind: 'security',
      event_type: 'SUSPICIOUS_PAYLOAD',
      severity_level: 'HIGH',
      user_id: timelineUser.id,
      user_email: timelineUser.email,
      event_source: 'WAF',
      event_description: `Blocked request ${XSS_SCRIPT} ${XSS_IMG}`,
      ip_address: '198.51.100.66',
      action_taken: 'REQUEST_BLOCKED',
      metadata: { payload: XSS_IMG },
    },
    { kind: 'security', event_type: 'PRIVILEGE_ESCALATION', severity_level: 'CRITICAL', event_source: 'IAM', event_description: 'Role changed outside the change window', ip_address: '198.51.100.67' },
    ...['a@victim.example', 'b@victim.example', 'c@victim.example'].map((email) => ({
      kind: 'failed_login',
      email_address: email,
      failure_reason: 'INVALID_PASSWORD',
      ip_address: '192.0.2.200',
      attempt_number_in_window: 1,
    })),
    {
      kind: 'error',
      error_code: 'SHOP-PAY-042',
      error_type: 'integration',
      severity_level: 'high',
      error_message: `Payment provider said ${XSS_IMG}`,
      technical_details: { response: XSS_SCRIPT },
      request_path: '/checkout',
      http_status_code: 502,
    },
    {
      kind: 'audit',
      event_type: 'profile_updated',
      user_id: timelineUser.id,
      action_type: 'UPDATE',
      entity_type: 'USER_ACCOUNT',
      entity_id: timelineUser.id,
      triggered_by_type: 'user',
      triggered_by_id: timelineUser.id,
      previous_value: { display_name: 'Tim' },
      new_value: { display_name: XSS_IMG },
    },
    { kind: 'auth', event_type: 'login_success', user_id: timelineUser.id, event_status: 'SUCCESS', risk_score: 82, ip_address: '198.51.100.66' },
    // Yesterday, so the report form's default period (yesterday, which has ended) has something to count.
    {
      kind: 'auth',
      event_type: 'login_failed',
      user_id: 'yesterday-user',
      event_status: 'FAILURE',
      risk_score: 91,
      ip_address: '198.51.100.70',
      occurred_at: `${new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)}T12:00:00Z`,
    },
  ]);
  expect(sent.status).toBe(202);
  await eventually(
    async () =>
      (await clickHouseCount(`SELECT count() AS n FROM audit_logs WHERE event_type = 'profile_updated'`)) === 1 &&
      (await clickHouseCount(`SELECT count() AS n FROM error_logs WHERE error_code = 'SHOP-PAY-042'`)) === 1,
  );
  await eventually(async () => (await clickHouseCount(`SELECT count() AS n FROM failed_login_attempts WHERE email_address = {e:String}`, { e: lockedUser.email })) === 5);

  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of (40[134]|422)/.test(message.text())) pageProblems.push(`console: ${message.text()}`);
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await pg?.end();
  await stack?.stop();
  await ns.cleanup();
});

describe('the dashboard in a browser', () => {
  it('logs an administrator in and shows the overview from the materialized views', async () => {
    await page.goto(`${stack.url}/dashboard`);
    await page.locator('#admin-login input[name=password]').waitFor();
    await shot('01-login');
    await page.fill('#admin-login input[name=email]', ADMIN.email);
    await page.fill('#admin-login input[name=password]', 'wrong password');
    await page.click('#admin-login button[type=submit]');
    await page.locator('#admin-login .error', { hasText: 'invalid email or password' }).waitFor();

    await page.fill('#admin-login input[name=password]', ADMIN.password);
    await page.click('#admin-login button[type=submit]');
    await page.locator('h1', { hasText: 'Overview' }).waitFor();
    adminToken = (await page.evaluate(`JSON.parse(sessionStorage.getItem('auditflow.dashboard.credential') ?? '{}').token`)) as string;
    expect(adminToken).toMatch(/^afs_/);
    await expect(page.locator('#who').textContent()).resolves.toContain(ADMIN.email);
    await page.locator('#chart-kinds canvas').first().waitFor();
    const total = await page.locator('#events-total .value').textContent();
    expect(Number(total!.replace(/,/g, ''))).toBeGreaterThanOrEqual(10);
    await expect(page.locator('#kind-totals tr', { hasText: 'failed_login' }).textContent()).resolves.toMatch(/failed_login\s*[1-9]/);
    await expect(page.locator('#queues tbody tr').count()).resolves.toBe(3);
    await shot('02-overview');
  });

  it('lists security events as text, filters them, and resolves one with notes', async () => {
    await openPage('#/security', 'Security events');
    const row = page.locator('tr', { hasText: 'SUSPICIOUS_PAYLOAD' });
    await row.waitFor();
    // The payloads are shown as the text they are, and nothing ran.
    await expect(row.locator('td').nth(3).textContent()).resolves.toBe(`Blocked request ${XSS_SCRIPT} ${XSS_IMG}`);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    await expect(page.locator('main img').count()).resolves.toBe(0);

    await page.selectOption('select[name=severity]', 'CRITICAL');
    await page.locator('tr', { hasText: 'PRIVILEGE_ESCALATION' }).waitFor();
    await page.locator('tr', { hasText: 'SUSPICIOUS_PAYLOAD' }).waitFor({ state: 'detached' });
    await page.selectOption('select[name=severity]', 'HIGH');
    await row.waitFor();
    await shot('03-security-events');

    await row.locator('button.resolve').click();
    await row.locator('textarea[name=notes]').fill('WAF blocked it; the payload never reached the app.');
    await row.locator('input[name=false_positive]').check();
    await row.locator('button[type=submit]').click();
    // Open events only: the resolved one leaves the list.
    await page.locator('tr', { hasText: 'SUSPICIOUS_PAYLOAD' }).waitFor({ state: 'detached' });
    await page.selectOption('select[name=resolved]', 'true');
    await page.locator('tr', { hasText: 'SUSPICIOUS_PAYLOAD' }).locator('text=WAF blocked it').waitFor();
    await shot('04-security-event-resolved');
    const { rows } = await pg.query(`SELECT resolution_notes, false_positive FROM event_resolutions WHERE kind = 'security_event'`);
    expect(rows).toEqual([{ resolution_notes: 'WAF blocked it; the payload never reached the app.', false_positive: true }]);
  });

  it('shows failed logins by IP and by account, the locked account, and unlocks it', async () => {
    await openPage('#/failed-logins', 'Failed logins and lockouts');
    await page.locator('#failed-by-ip tr', { hasText: '192.0.2.200' }).waitFor();
    await expect(page.locator('#failed-by-ip tr', { hasText: '192.0.2.200' }).locator('td').nth(1).textContent()).resolves.toBe('3');
    await expect(page.locator('#failed-by-ip tr', { hasText: '192.0.2.200' }).locator('td').nth(2).textContent()).resolves.toBe('3');
    const account = page.locator('#failed-by-account tr', { hasText: lockedUser.email });
    await account.waitFor();
    await expect(account.locator('td').nth(1).textContent()).resolves.toBe('5');
    await page.locator('#auth-risk tr', { hasText: new Date().toISOString().slice(0, 10) }).waitFor();
    const locked = page.locator(`#locked-accounts tr[data-user-id="${lockedUser.id}"]`);
    await locked.waitFor();
    await expect(locked.textContent()).resolves.toContain('password');
    await shot('05-failed-logins');

    // Another app's account, locked by the risk worker (risk_subjects): listed with its app, and no Unlock of ours.
    await pg.query(`INSERT INTO risk_subjects (source_app, subject_id, locked_until, lock_reason, lock_count) VALUES ('acme-shop', 'shop-user-7', now() + interval '1 hour', 'risk', 1)`);
    await page.click('button:has-text("Refresh")');
    const otherLock = page.locator('#locked-accounts tr[data-source-app="acme-shop"][data-user-id="shop-user-7"]');
    await otherLock.waitFor();
    await expect(otherLock.locator('td').first().textContent()).resolves.toBe('app: acme-shop');
    await expect(otherLock.locator('button', { hasText: 'Unlock' }).count()).resolves.toBe(0);
    await expect(locked.locator('td').first().textContent()).resolves.toBe('auditflow');
    // The app filter: one app's locks at a time, through the API's `app` parameter.
    await page.selectOption('select[name=app]', 'acme-shop');
    await locked.waitFor({ state: 'detached' });
    await otherLock.waitFor();
    // Failed logins too: acme-shop's attempts stay, the API's own leave (their page is redrawn on its own).
    await page.locator('#failed-by-account tr', { hasText: lockedUser.email }).waitFor({ state: 'detached' });
    await page.locator('#failed-by-account tr', { hasText: 'a@victim.example' }).waitFor();
    await page.locator('#failed-by-ip tr', { hasText: '192.0.2.200' }).waitFor();
    await page.selectOption('select[name=app]', 'auditflow');
    await otherLock.waitFor({ state: 'detached' });
    await locked.waitFor();
    await page.locator('#failed-by-ip tr', { hasText: '192.0.2.200' }).waitFor({ state: 'detached' });
    await page.locator('#failed-by-account tr', { hasText: 'a@victim.example' }).waitFor({ state: 'detached' });
    await page.locator('#failed-by-account tr', { hasText: lockedUser.email }).waitFor();
    await shot('05b-locked-accounts-by-app');
    expect((await api(stack.url, 'GET', '/v1/dashboard/locked-accounts?app=', { token: adminToken })).status).toBe(400);
    const acme = await api(stack.url, 'GET', `/v1/dashboard/locked-accounts?app=${encodeURIComponent("acme-shop' OR 1=1 --")}`, { token: adminToken });
    expect(acme.status).toBe(200);
    expect((acme.body as { accounts: unknown[] }).accounts).toEqual([]);

    await locked.locator('input[name=reason]').fill('Customer called from the registered number');
    await locked.locator('button', { hasText: 'Unlock' }).click();
    await locked.waitFor({ state: 'detached' });
    const { rows } = await pg.query('SELECT locked_until, failed_login_attempts, lock_source FROM users WHERE id = $1', [lockedUser.id]);
    expect(rows[0]).toEqual({ locked_until: null, failed_login_attempts: 0, lock_source: null });
    expect((await api(stack.url, 'POST', '/auth/login', { body: { email: lockedUser.email, password: PASSWORD } })).status).toBe(200);
    await eventually(async () => (await clickHouseCount(`SELECT count() AS n FROM audit_logs WHERE event_type = 'account_unlocked' AND user_id = {u:String}`, { u: lockedUser.id })) === 1);
  });

  it('charts failed logins, lockouts and security events by severity per hour, drawn from the trends API', async () => {
    // The figures behind the charts: the failed logins above, the lock they caused, the two security events sent.
    const trends = (await api(stack.url, 'GET', '/v1/dashboard/security-trends?hours=24', { token: adminToken })).body as {
      hours: string[];
      failed_logins: number[];
      lockouts: Record<string, number[]>;
      security_events_by_severity: Record<string, number[]>;
    };
    const sum = (values: number[] = []) => values.reduce((a, b) => a + b, 0);
    expect(trends.hours).toHaveLength(24);
    expect(sum(trends.failed_logins)).toBeGreaterThanOrEqual(8);
    expect(sum(trends.lockouts.ACCOUNT_LOCKED)).toBeGreaterThanOrEqual(1);
    expect(sum(trends.security_events_by_severity.CRITICAL)).toBeGreaterThanOrEqual(1);
    expect(sum(trends.security_events_by_severity.HIGH)).toBeGreaterThanOrEqual(1);
    expect((await api(stack.url, 'GET', '/v1/dashboard/security-trends?hours=0', { token: adminToken })).status).toBe(400);
    expect((await api(stack.url, 'GET', '/v1/dashboard/security-trends', { token: reportsKey })).status).toBe(401);

    /** Pixels of a chart's canvas painted in a series' colour: the bars were drawn with data. */
    const painted = async (chart: string, [r, g, b]: [number, number, number]) =>
      (await page.evaluate(`(() => {
        const canvas = document.querySelector(${JSON.stringify(`${chart} canvas`)});
        if (!canvas) return -1;
        const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
        let n = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i] === ${r} && data[i + 1] === ${g} && data[i + 2] === ${b} && data[i + 3] === 255) n++;
        return n;
      })()`)) as number;

    await openPage('#/failed-logins', 'Failed logins and lockouts');
    await page.locator('#chart-failed-logins canvas').waitFor();
    await page.locator('#chart-lockouts canvas').waitFor();
    await expect(page.locator('#chart-failed-logins .u-title').textContent()).resolves.toBe('Failed logins per hour, last 24 hours');
    await expect(page.locator('#chart-lockouts .u-legend').textContent()).resolves.toMatch(/account locked.*IP blocked.*account unlocked|account unlocked.*IP blocked.*account locked/);
    expect(await painted('#chart-failed-logins', [0xe0, 0x7a, 0x00])).toBeGreaterThan(20);
    expect(await painted('#chart-lockouts', [0xd3, 0x2f, 0x2f])).toBeGreaterThan(20);
    await shot('05d-failed-logins-charts');

    await openPage('#/security', 'Security events');
    await page.locator('#chart-severity canvas').waitFor();
    // Seven days read as seven bars, one per day.
    await expect(page.locator('#chart-severity .u-title').textContent()).resolves.toBe('Security events by severity per day, last 7 days');
    await expect(page.locator('#chart-severity .u-legend').textContent()).resolves.toMatch(/LOW.*MEDIUM.*HIGH.*CRITICAL/);
    expect(await painted('#chart-severity', [0x7f, 0x00, 0x00])).toBeGreaterThan(5);
    expect(await painted('#chart-severity', [0xd3, 0x2f, 0x2f])).toBeGreaterThan(5);
    await shot('05e-security-events-chart');
    // One app's events only: auditflow's own sent no CRITICAL, and the chart is redrawn without it.
    try {
      await page.selectOption('select[name=app]', 'auditflow');
      await eventually(async () => (await painted('#chart-severity', [0x7f, 0x00, 0x00])) === 0, 10_000);
    } finally {
      await page.selectOption('select[name=app]', '');
    }
  });

  it('shows times in UTC or in local time, as the header switch says, and keeps the choice', async () => {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Emulation.setTimezoneOverride', { timezoneId: 'Asia/Kolkata' });
    try {
      await openPage('#/security', 'Security events');
      await page.selectOption('select[name=resolved]', '');
      // Resolved earlier, so shown only once the list of all has been drawn.
      await page.locator('tr', { hasText: 'SUSPICIOUS_PAYLOAD' }).waitFor();
      const row = page.locator('tr', { hasText: 'PRIVILEGE_ESCALATION' });
      await row.waitFor();
      const utc = (await row.locator('td').first().textContent())!;
      expect(utc).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
      // IP addresses never break mid-address.
      // Found and measured in one step in the page: the list may be redrawn (the app selector loads) between two steps, detaching the element.
      await expect(page.evaluate("getComputedStyle(document.querySelector('tr .ip')).whiteSpace")).resolves.toBe('nowrap');

      await page.selectOption('#time-zone', 'local');
      await row.locator('td', { hasText: 'UTC+05:30' }).waitFor();
      const local = (await row.locator('td').first().textContent())!;
      const at = new Date(utc.replace(' UTC', 'Z').replace(' ', 'T'));
      expect(local).toBe(`${new Date(at.getTime() + 330 * 60_000).toISOString().slice(0, 19).replace('T', ' ')} UTC+05:30`);
      await shot('05c-local-time');

      // The choice outlives a reload.
      await page.reload();
      await page.locator('h1', { hasText: 'Security events' }).waitFor();
      await expect(page.locator('#time-zone').inputValue()).resolves.toBe('local');
      await page.selectOption('#time-zone', 'utc');
      await page.locator('tr', { hasText: 'PRIVILEGE_ESCALATION' }).locator('td', { hasText: utc }).waitFor();
      expect(await page.evaluate(`localStorage.getItem('auditflow.timeZone')`)).toBe('utc');
    } finally {
      await cdp.send('Emulation.setTimezoneOverride', { timezoneId: '' }).catch(() => undefined);
      await cdp.detach();
    }
  });

  it('finds a user and shows every event about them, in order, with the values before and after', async () => {
    await openPage('#/timeline', 'User timeline');
    await page.fill('#user-search input[name=q]', 'timeline.person');
    await page.click('#user-search button[type=submit]');
    await page.locator('#user-results a.open-timeline').click();
    await page.locator('#timeline-user', { hasText: timelineUser.email }).waitFor();
    const audit = page.locator('#timeline-table tr', { hasText: 'profile_updated' });
    await audit.waitFor();
    await expect(audit.locator('td.before').textContent()).resolves.toContain('"display_name": "Tim"');
    await expect(audit.locator('td.after').textContent()).resolves.toContain(XSS_IMG.replace(/"/g, '\\"'));
    await page.locator('#timeline-table tr', { hasText: 'SUSPICIOUS_PAYLOAD' }).waitFor();
    await page.locator('#timeline-table tr[data-kind="auth"]', { hasText: 'login_success' }).first().waitFor();
    // Another app's event about the same user id is marked as that app's, never as auditflow's own.
    await expect(page.locator('#timeline-table tr', { hasText: 'SUSPICIOUS_PAYLOAD' }).locator('td.source').textContent()).resolves.toBe('app: acme-shop');
    const sources = await page.locator('#timeline-table tr[data-kind="auth"] td.source').allTextContents();
    expect(sources).toContain('auditflow');
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    const times = await page.locator('#timeline-table tbody tr td:first-child').allTextContents();
    expect(times.length).toBeGreaterThanOrEqual(5);
    expect([...times].sort().reverse()).toEqual(times);
    await shot('06-user-timeline');

    // Opening it was recorded as an administrator reading the account.
    await eventually(
      async () =>
        (await clickHouseCount(`SELECT count() AS n FROM audit_logs WHERE event_type = 'user_timeline_viewed' AND user_id = {u:String} AND triggered_by_type = 'admin'`, { u: timelineUser.id })) >= 1,
    );

    // Another app's user id (not a UUID): its timeline opens, and the page's own look-ups write nothing to Error logs.
    await openPage('#/timeline?user=u-42', 'User timeline');
    await page.locator('#timeline-other-apps').waitFor();
    await eventually(async () => (await clickHouseCount(`SELECT count() AS n FROM audit_logs WHERE event_type = 'user_timeline_viewed' AND user_id = 'u-42'`)) === 1);
    expect(await clickHouseCount(`SELECT count() AS n FROM error_logs WHERE request_path LIKE '/admin/users/%'`)).toBe(0);
  });

  it('generates a report, verifies its signature on the server, and downloads it', async () => {
    await openPage('#/reports', 'Compliance reports');
    // A period that has not ended is refused with the reason (a final report would keep partial figures for good)…
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    await page.fill('#generate-report input[name=period_start]', day(0));
    await page.fill('#generate-report input[name=period_end]', day(1));
    await page.click('#generate-report button[type=submit]');
    await page.locator('#reports-message', { hasText: 'a final report covers only a period that has ended' }).waitFor();
    // …and the form's default, yesterday, is generated: it holds the event sent with yesterday's time.
    await page.fill('#generate-report input[name=period_start]', day(-1));
    await page.fill('#generate-report input[name=period_end]', day(0));
    await page.click('#generate-report button[type=submit]');
    const notice = page.locator('#reports-message .notice', { hasText: /Report #\d+ generated/ });
    await notice.waitFor({ timeout: 45_000 });
    const id = /#(\d+)/.exec((await notice.textContent())!)![1]!;
    const row = page.locator(`tr[data-report-id="${id}"]`);
    expect(Number(await row.locator('td').nth(3).textContent())).toBeGreaterThan(0);
    await row.locator('button.verify').click();
    await row.locator('.badge', { hasText: 'signature valid' }).waitFor();
    await expect(row.locator('.verdict').textContent()).resolves.toContain('hash matches');

    const [json] = await Promise.all([page.waitForEvent('download'), row.locator('button.download-json').click()]);
    const report = JSON.parse(fs.readFileSync((await json.path())!, 'utf8'));
    const stored = (await pg.query('SELECT report_hash, generated_by FROM compliance_reports WHERE id = $1', [id])).rows[0];
    expect(report.report_hash).toBe(stored.report_hash);
    expect(stored.generated_by).toBe(`admin:${ADMIN.email}`);
    const [pdf] = await Promise.all([page.waitForEvent('download'), row.locator('button.download-pdf').click()]);
    expect(
      fs
        .readFileSync((await pdf.path())!)
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
    await shot('07-reports');
  }, 90_000);

  it('runs integrity verification and shows each table', async () => {
    await openPage('#/integrity', 'Integrity');
    await page.click('#run-integrity');
    await page.locator('#integrity-verdict', { hasText: 'Verified' }).waitFor({ timeout: 45_000 });
    await expect(page.locator('#integrity-result tbody tr').count()).resolves.toBe(8);
    // The run is recorded: the page shows it as the last run, as it shows the nightly one.
    await page.locator('#integrity-last-verdict', { hasText: /^OK: run \d+ \(api\)/ }).waitFor({ timeout: 10_000 });
    await shot('08-integrity');
  });

  it('lists error logs as text and resolves one', async () => {
    await openPage('#/errors', 'Error logs');
    const row = page.locator('tr', { hasText: 'SHOP-PAY-042' });
    await row.waitFor();
    await expect(row.locator('td').nth(3).textContent()).resolves.toBe(`Payment provider said ${XSS_IMG}`);
    await shot('09-error-logs');
    await row.locator('button.resolve').click();
    await row.locator('textarea[name=notes]').fill('Provider outage, retried by the shop.');
    await row.locator('button[type=submit]').click();
    await page.locator('tr', { hasText: 'SHOP-PAY-042' }).waitFor({ state: 'detached' });
    const { rows } = await pg.query(`SELECT resolution_notes FROM event_resolutions WHERE kind = 'error_log'`);
    expect(rows).toEqual([{ resolution_notes: 'Provider outage, retried by the shop.' }]);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
  });

  it('logs out: the session ends on the server and the page asks for a login again', async () => {
    await page.click('#logout');
    await page.locator('#admin-login').waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    expect((await api(stack.url, 'GET', '/admin/me', { token: adminToken })).status).toBe(401);
  });

  it('lets a compliance officer in with a reports key, to the report and integrity pages only', async () => {
    await page.fill('#key-login input[name=api_key]', 'af_not_a_key');
    await page.click('#key-login button[type=submit]');
    await page.locator('#key-login .error').waitFor();
    await page.fill('#key-login input[name=api_key]', reportsKey);
    await page.click('#key-login button[type=submit]');
    await page.locator('h1', { hasText: 'Overview' }).waitFor();
    await expect(page.locator('#nav a').allTextContents()).resolves.toEqual(['Overview', 'Compliance reports', 'Integrity']);
    await openPage('#/reports', 'Compliance reports');
    await page.locator('tr[data-report-id]').first().waitFor();
    await shot('10-reports-as-compliance-officer');
    await page.evaluate(`location.hash = '#/security'`);
    await page.locator('h1', { hasText: 'Not available' }).waitFor();
    expect(pageProblems).toEqual([]);
  });
});

describe('the dashboard API and page', () => {
  it('leads a newcomer from / to the dashboard, and a program to the docs; serves a favicon', async () => {
    const browser$ = await fetch(`${stack.url}/`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' }, redirect: 'manual' });
    expect(browser$.status).toBe(302);
    expect(browser$.headers.get('location')).toBe('/dashboard');
    const program = await fetch(`${stack.url}/`);
    expect(await program.json()).toMatchObject({ dashboard: '/dashboard', api_docs: '/docs', openapi: '/openapi.json' });
    const icon = await fetch(`${stack.url}/favicon.ico`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    await icon.text();
  });

  it('serves the page with a strict Content-Security-Policy and no inline script', async () => {
    const res = await fetch(`${stack.url}/dashboard`);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("require-trusted-types-for 'script'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const asset = await fetch(`${stack.url}/dashboard/vendor/uplot/uPlot.iife.min.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-security-policy')).toBe(csp);
    await asset.text();
  });

  it('gives a reports key the overview and reports but not users or incidents, and no actions', async () => {
    const me = await api<Viewer>(stack.url, 'GET', '/v1/dashboard/me', { token: reportsKey });
    expect(me.body.principal).toMatchObject({ type: 'api_key', name: 'compliance-officer' });
    expect(me.body.can).toMatchObject({ readReports: true, manageReports: true, readUsers: false, unlockUsers: false, resolveIncidents: false });
    expect((await api(stack.url, 'GET', '/v1/dashboard/overview', { token: reportsKey })).status).toBe(200);
    expect((await api(stack.url, 'GET', `/v1/reports/public-key`, { token: reportsKey })).body).toContain('BEGIN PUBLIC KEY');
    expect((await api(stack.url, 'GET', '/v1/dashboard/locked-accounts', { token: reportsKey })).status).toBe(401);
    expect((await api(stack.url, 'GET', `/v1/dashboard/users/${timelineUser.id}/timeline`, { token: reportsKey })).status).toBe(401);
    const ingestOnly = await createApiKey(ns, 'ingest-only', ['ingest']);
    expect((await api(stack.url, 'GET', '/v1/dashboard/overview', { token: ingestOnly })).status).toBe(403);
  });

  it('holds a level-1 administrator to reading', async () => {
    await new AdminAccountService(new AdministratorRepository(pg), new LoginGuard(pg)).create({ email: 'reader@admin.example', password: ADMIN.password, admin_level: 1 });
    const token = (await api<{ token: string }>(stack.url, 'POST', '/admin/login', { body: { email: 'reader@admin.example', password: ADMIN.password } })).body.token;
    const me = await api<Viewer>(stack.url, 'GET', '/v1/dashboard/me', { token });
    expect(me.body.can).toMatchObject({ readIncidents: true, readUsers: true, readReports: true, resolveIncidents: false, unlockUsers: false, manageReports: false });
    expect((await api(stack.url, 'GET', '/v1/dashboard/failed-logins?by=account', { token })).status).toBe(200);
    expect((await api(stack.url, 'POST', '/v1/reports', { token, body: { type: 'daily_security_summary', period_start: '2020-01-01T00:00:00Z', period_end: '2020-01-02T00:00:00Z' } })).status).toBe(
      403,
    );
    expect((await api(stack.url, 'POST', `/admin/users/${lockedUser.id}/unlock`, { token, body: {} })).status).toBe(403);
  });

  it('pages a timeline with a cursor, without repeating or skipping an event', async () => {
    // Not audit events: each first page records one, which could land mid-walk.
    const kinds = 'auth,security,session,api_access,failed_login';
    type TimelinePage = { events: { event_id: string }[]; next_cursor: string | null };
    const all = await api<TimelinePage>(stack.url, 'GET', `/v1/dashboard/users/${timelineUser.id}/timeline?limit=200&order=asc&kinds=${kinds}`, { token: await freshAdminToken() });
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: TimelinePage } = await api<TimelinePage>(
        stack.url,
        'GET',
        `/v1/dashboard/users/${timelineUser.id}/timeline?limit=2&order=asc&kinds=${kinds}${cursor ? `&cursor=${cursor}` : ''}`,
        { token: await freshAdminToken() },
      );
      ids.push(...res.body.events.map((e) => e.event_id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(ids).toEqual(all.body.events.map((e) => e.event_id));
    expect(ids.length).toBeGreaterThanOrEqual(3);
    const wrongOrder = await api(stack.url, 'GET', `/v1/dashboard/users/${timelineUser.id}/timeline?order=desc&cursor=${encodeURIComponent('bm90IGEgY3Vyc29y')}`, { token: await freshAdminToken() });
    expect(wrongOrder.status).toBe(400);
  });
});

let freshToken = '';
async function freshAdminToken(): Promise<string> {
  freshToken ||= (await api<{ token: string }>(stack.url, 'POST', '/admin/login', { body: ADMIN })).body.token;
  return freshToken;
}

import fs from 'node:fs';
import path from 'node:path';
import { Pool } from 'pg';
import { api, errorOf } from '../helpers/accounts';
import { queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually, SHORT_SETTINGS_CACHE, settingsCacheExpired } from '../helpers/test-env';

/**
 * Issue 12 §6: 25 forgot-password posts in one second sent 25 reset mails,
 * and 200 guest sessions took 13 s to create. The unauthenticated routes are
 * limited per IP and per address in Redis, mails per address and hour, and
 * each limit hit is a rate_limit event.
 */
const ns = createNamespace('ratelimits');
let stack: Awaited<ReturnType<typeof startStack>>;
let pg: Pool;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100', ...SHORT_SETTINGS_CACHE });
  pg = new Pool({ connectionString: ns.databaseUrl, max: 1 });
}, 60_000);
afterAll(async () => {
  await pg?.end();
  await stack?.stop();
  await ns.cleanup();
});

const from = (ip: string) => ({ 'x-forwarded-for': ip });
const mailsTo = (to: string) => (fs.existsSync(path.join(ns.dataDir, 'mail')) ? fs.readdirSync(path.join(ns.dataDir, 'mail')).filter((f) => f.includes(`-${to}-`)).length : 0);

it('25 forgot-password posts for one address in a second: 3 are taken, the rest get 429 with Retry-After, and at most 3 mails go out', async () => {
  const email = 'victim@example.com';
  await api(stack.url, 'POST', '/auth/register', { body: { email, password: 'correct horse battery staple' }, headers: from('198.51.100.1') });
  const answers = await Promise.all(Array.from({ length: 25 }, (_, i) => api(stack.url, 'POST', '/auth/password/forgot', { body: { email }, headers: from(`198.51.100.${10 + i}`) })));
  expect(answers.filter((a) => a.status === 202)).toHaveLength(3);
  const refused = answers.filter((a) => a.status === 429);
  expect(refused).toHaveLength(22);
  expect(Number(refused[0]!.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(errorOf(refused[0]!).message).toMatch(/too many requests to \/auth\/password\/forgot for this account/);
  await new Promise((r) => setTimeout(r, 500));
  expect(mailsTo(email)).toBeLessThanOrEqual(1 + 3); // the verification mail, then at most 3 reset mails
  // Each refusal is a rate_limit event (seed 003's rate_limit_violations).
  const events = await eventually(async () => {
    const rows = await queryRows<{ n: number }>(
      stack.clickhouse!,
      `SELECT count() AS n FROM rate_limit_violations WHERE endpoint = '/auth/password/forgot' AND violation_type = 'forgot_password_per_address'`,
    );
    return Number(rows[0]!.n) === 22 && rows;
  });
  expect(events).toBeTruthy();
});

it('guest sessions are limited per IP; another IP is not affected', async () => {
  const answers = [];
  for (let i = 0; i < 32; i++) answers.push((await api(stack.url, 'POST', '/auth/guest', { headers: from('203.0.113.50') })).status);
  expect(answers.filter((s) => s === 201)).toHaveLength(30);
  expect(answers.slice(30)).toEqual([429, 429]);
  expect((await api(stack.url, 'POST', '/auth/guest', { headers: from('203.0.113.51') })).status).toBe(201);
});

let nextIp = 20;
it.each([
  ['/auth/register', 'register', { email: 'reg@example.com', password: 'correct horse battery staple' }],
  ['/auth/verify-email/resend', 'verification_resend', { email: 'resend@example.com' }],
  ['/auth/password/reset', 'reset_password', { token: 'x'.repeat(43), password: 'correct horse battery staple' }],
  ['/auth/restore', 'restore', { email: 'restore@example.com', password: 'correct horse battery staple' }],
  ['/auth/login/confirm', 'login_confirm', { challenge: 'x'.repeat(43), code: '123456' }],
  ['/auth/restore/confirm', 'restore_confirm', { challenge: 'x'.repeat(43), code: '123456' }],
  ['/admin/login', 'admin_login', { email: 'admin@example.com', password: 'correct horse battery staple' }],
])(
  '%s is limited per IP (rate_limit.%s.per_ip)',
  async (route, name, body) => {
    // Three an hour here, below what the login guard and the risk engine would stop first.
    await pg.query(`INSERT INTO system_settings (setting_key, setting_value, setting_type) VALUES ($1, '3', 'integer') ON CONFLICT (setting_key) DO NOTHING`, [`rate_limit.${name}.per_ip`]);
    await settingsCacheExpired();
    // An address of its own: failed logins from one address across cases (restore's, then admin login's) let the risk worker block it, which answers 429 too.
    const ip = `192.0.2.${nextIp++}`;
    const answers = [];
    // A new address each time, so the per-IP limit is what stops it.
    for (let i = 0; i < 4; i++) answers.push(await api(stack.url, 'POST', route, { body: 'email' in body ? { ...body, email: `n${i}-${body.email}` } : body, headers: from(ip) }));
    expect(answers.slice(0, 3).map((a) => a.status)).not.toContain(429);
    expect(answers[3]!.status).toBe(429);
    expect(errorOf(answers[3]!).message).toMatch(new RegExp(`too many requests to ${route.replace(/\//g, '\\/')} from this address`));
    expect(Number(answers[3]!.headers.get('retry-after'))).toBeGreaterThan(0);
  },
  60_000,
);

it('the limits are settings with a range: an administrator may tune them but not switch them off', async () => {
  await pg.query(`INSERT INTO system_settings (setting_key, setting_value, setting_type) VALUES ('rate_limit.guest.per_ip', '2', 'integer')`);
  await settingsCacheExpired();
  const ip = '203.0.113.77';
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await api(stack.url, 'POST', '/auth/guest', { headers: from(ip) })).status);
  expect(statuses).toEqual([201, 201, 429]);
  // 0 would switch the limit off: a value outside the range is ignored, the default applies.
  await pg.query(`UPDATE system_settings SET setting_value = '0' WHERE setting_key = 'rate_limit.guest.per_ip'`);
  await settingsCacheExpired();
  expect((await api(stack.url, 'POST', '/auth/guest', { headers: from('203.0.113.78') })).status).toBe(201);
});

it('one IPv6 /64 is one caller: rotating the host half of the address does not reset the per-IP limit', async () => {
  // A single home or phone holds a whole /64 and may send from any of its 2^64 addresses.
  const statuses = [];
  for (let i = 1; i <= 32; i++) statuses.push((await api(stack.url, 'POST', '/auth/guest', { headers: from(`2001:db8:5:6:${i.toString(16)}::${(i * 7).toString(16)}`) })).status);
  expect(statuses.filter((s) => s === 201)).toHaveLength(30);
  expect(statuses.slice(30)).toEqual([429, 429]);
  // The next /64 is another caller.
  expect((await api(stack.url, 'POST', '/auth/guest', { headers: from('2001:db8:5:7::1') })).status).toBe(201);
});

it('one IPv6 /48 site gets 16 times the per-IP limit: rotating through its /64s does not start afresh either', async () => {
  // A provider gives one customer up to a /48: 65,536 /64s, each a caller of its own.
  await pg.query(
    `INSERT INTO system_settings (setting_key, setting_value, setting_type) VALUES ('rate_limit.reset_password.per_ip', '3', 'integer')
     ON CONFLICT (setting_key) DO UPDATE SET setting_value = '3'`,
  );
  await settingsCacheExpired();
  const body = { token: 'x'.repeat(43), password: 'correct horse battery staple' };
  const answers = [];
  for (let net = 0; net < 17; net++) {
    for (let i = 1; i <= 3; i++) answers.push(await api(stack.url, 'POST', '/auth/password/reset', { body, headers: from(`2001:db8:48:${net.toString(16)}::${i}`) }));
  }
  // Each /64 stays within its 3; the site's 16 × 3 = 48 are taken, then the site is refused.
  expect(answers.slice(0, 48).map((a) => a.status)).not.toContain(429);
  expect(answers.slice(48).map((a) => a.status)).toEqual([429, 429, 429]);
  expect(errorOf(answers[48]!).message).toMatch(/from this network \(IPv6 \/48\)/);
  // Another site, and IPv4, are not affected.
  expect((await api(stack.url, 'POST', '/auth/password/reset', { body, headers: from('2001:db8:49::1') })).status).not.toBe(429);
  const events = await eventually(async () => {
    const rows = await queryRows<{ violation_type: string; limit_threshold: number }>(
      stack.clickhouse!,
      `SELECT violation_type, limit_threshold FROM rate_limit_violations WHERE violation_type = 'reset_password_per_site'`,
    );
    return rows.length >= 3 ? rows : null;
  });
  expect(Number(events[0]!.limit_threshold)).toBe(48);
});

import { Client } from 'pg';
import { api, type LoginAnswer, signUp } from '../helpers/accounts';
import { drainIngest, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

// The risk worker counts an attempt once by its request id, so that our API's failed_login and
// login_failed events of one attempt are one guess. The request id is the caller's X-Request-Id
// when it sends one: an attacker sending the same X-Request-Id with every guess made all their
// guesses one attempt, so account_failures never grew, no step-up was asked for, and the login
// with the right password from the attacker's new network went straight in.
const ns = createNamespace('reqidmerge');
let stack: Awaited<ReturnType<typeof startStack>>;
const password = 'correct horse battery staple';

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

async function stepUpRequiredAt(userId: string): Promise<Date | null> {
  const client = new Client({ connectionString: ns.databaseUrl });
  await client.connect();
  try {
    return (await client.query(`SELECT step_up_required_at FROM users WHERE id = $1`, [userId])).rows[0].step_up_required_at;
  } finally {
    await client.end();
  }
}

const scored = (table: 'auth_audit_log' | 'failed_login_attempts', userId: string, n: number) =>
  eventually(async () => {
    const rows = await queryRows<{ n: number }>(
      stack.clickhouse!,
      `SELECT count() AS n FROM ${table} WHERE user_id = {u:String} AND risk_decided_at IS NOT NULL ${table === 'auth_audit_log' ? "AND event_type = 'login_success'" : ''}`,
      { u: userId },
    );
    return rows[0]!.n >= n;
  });

it('guesses sent with one X-Request-Id each count as a guess: the account is stepped up as for any other guesses', async () => {
  const email = 'reqid-victim@example.com';
  const { userId } = await signUp(stack.url, ns, email, password);
  const as = (ip: string, pw: string, headers: Record<string, string> = {}, device?: string) =>
    api<LoginAnswer>(stack.url, 'POST', '/auth/login', {
      headers: { 'x-forwarded-for': ip, ...headers },
      body: { email, password: pw, ...(device ? { device_fingerprint: device } : {}) },
    });

  // The owner at home: the laptop and 10.20.0.0/24 are known.
  expect((await as('10.20.0.5', password, {}, 'laptop')).status).toBe(200);
  await scored('auth_audit_log', userId, 2);

  // The attacker tries three passwords of a list from their own network, naming no device, with one request id.
  for (let i = 1; i <= 3; i++) expect((await as('198.18.60.1', `wrong password ${i}`, { 'x-request-id': 'same-every-time' })).status).toBe(401);
  await scored('failed_login_attempts', userId, 3);

  // Three guesses from a new network: the second already scores medium (5 + 15 + 10), so a step-up is asked for.
  const rows = await queryRows<{ factors: Record<string, number> }>(
    stack.clickhouse!,
    `SELECT risk_factors AS factors FROM failed_login_attempts WHERE user_id = {u:String} ORDER BY occurred_at DESC LIMIT 1`,
    { u: userId },
  );
  expect(rows[0]!.factors.account_failures).toBeGreaterThan(0);
  await new Promise((r) => setTimeout(r, 1000)); // enforcement runs beside the row's write
  expect(await stepUpRequiredAt(userId)).toBeInstanceOf(Date);

  // So the fourth password of the list, the right one, asks for the mailed code.
  const last = await as('198.18.60.1', password, { 'x-request-id': 'same-every-time' });
  expect(last.status).toBe(401);
  expect(last.body.error?.code).toBe('STEP_UP_REQUIRED');
}, 60_000);

it('a burst of guesses with one X-Request-Id from one IP is counted by the attempt rate and blocks the IP', async () => {
  // 60 login attempts a minute from one IP are an automated attack (attempt_rate, 50 points): the IP is blocked at
  // the login. Here they go to 4 unknown emails, which lock after 5 guesses each; the rest are refused as locked,
  // which are still attempts. With one request id on all of them, the attempt rate stayed at 1.
  const ip = '198.18.61.7';
  const statuses: number[] = [];
  for (let i = 0; i < 70; i++) {
    const res = await api(stack.url, 'POST', '/auth/login', {
      headers: { 'x-forwarded-for': ip, 'x-request-id': 'one-id' },
      body: { email: `nobody${i % 4}@example.com`, password: `guess ${i}` },
    });
    statuses.push(res.status);
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 300));
  }
  await drainIngest(stack, ns);
  await new Promise((r) => setTimeout(r, 1000)); // enforcement runs beside the rows' write
  // The probe uses the same request id, so it adds no attempt of its own to the count.
  const probe = await api(stack.url, 'POST', '/auth/login', { headers: { 'x-forwarded-for': ip, 'x-request-id': 'one-id' }, body: { email: 'nobody0@example.com', password: 'x' } });
  expect([...statuses, probe.status]).toContain(429);
}, 90_000);

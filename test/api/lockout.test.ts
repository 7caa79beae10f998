import { Client } from 'pg';
import { api, lastMailTo, signUp, tokenFromMail } from '../helpers/accounts';
import { queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually, SHORT_SETTINGS_CACHE, settingsCacheExpired } from '../helpers/test-env';

const ns = createNamespace('lockout');
let stack: Awaited<ReturnType<typeof startStack>>;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100', ...SHORT_SETTINGS_CACHE });
});
afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

async function pg<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ns.databaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const login = (email: string, password: string) => api(stack.url, 'POST', '/auth/login', { body: { email, password } });

describe('lockout', () => {
  it('a burst of 50 concurrent wrong passwords checks at most 5 and answers 423 to the rest', async () => {
    const { userId } = await signUp(stack.url, ns, 'burst@example.com');
    const responses = await Promise.all(Array.from({ length: 50 }, () => login('burst@example.com', 'wrong password!')));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 423)).toHaveLength(45);
    const locked = responses.find((r) => r.status === 423)!;
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800);

    // Each password check that failed is one INVALID_PASSWORD row; every refusal without a check is ACCOUNT_LOCKED.
    const rows = await eventually(async () => {
      const r = await queryRows<{ failure_reason: string; n: number }>(
        stack.clickhouse!,
        `SELECT failure_reason, count() AS n FROM failed_login_attempts WHERE email_address = 'burst@example.com' GROUP BY failure_reason ORDER BY failure_reason`,
      );
      return r.reduce((sum, x) => sum + Number(x.n), 0) === 50 && r;
    });
    expect(rows).toEqual([
      { failure_reason: 'ACCOUNT_LOCKED', n: 45 },
      { failure_reason: 'INVALID_PASSWORD', n: 5 },
    ]);
    // The right password is refused too while the lock holds.
    expect((await login('burst@example.com', 'correct horse battery staple')).status).toBe(423);

    const user = await pg(async (c) => (await c.query('SELECT failed_login_attempts, locked_until, lock_source FROM users WHERE id = $1', [userId])).rows[0]);
    expect(user.lock_source).toBe('password');
    expect(user.locked_until.getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);

    const security = await eventually(async () => {
      const r = await queryRows<{ action_taken: string }>(stack.clickhouse!, `SELECT action_taken FROM security_events WHERE user_id = {u:String}`, { u: userId });
      return r.length > 0 && r;
    });
    expect(security).toEqual([{ action_taken: 'ACCOUNT_LOCKED' }]);
  }, 60_000);

  it('lifts the lock by itself once it expires', async () => {
    await signUp(stack.url, ns, 'expiry@example.com');
    for (let i = 0; i < 5; i++) await login('expiry@example.com', 'wrong password!');
    expect((await login('expiry@example.com', 'correct horse battery staple')).status).toBe(423);
    // Fifteen minutes pass.
    await pg((c) => c.query(`UPDATE login_throttle SET locked_until = now() - interval '1 second' WHERE email = 'expiry@example.com'`));
    await pg((c) => c.query(`UPDATE users SET locked_until = now() - interval '1 second' WHERE email = 'expiry@example.com'`));
    expect((await login('expiry@example.com', 'correct horse battery staple')).status).toBe(200);
  });

  it('takes its three numbers from system settings', async () => {
    await pg((c) => c.query(`UPDATE system_settings SET setting_value = '2' WHERE setting_key = 'lockout.threshold'`));
    try {
      await settingsCacheExpired();
      await signUp(stack.url, ns, 'two@example.com');
      expect((await login('two@example.com', 'wrong password!')).status).toBe(401);
      expect((await login('two@example.com', 'wrong password!')).status).toBe(401);
      expect((await login('two@example.com', 'wrong password!')).status).toBe(423);
    } finally {
      await pg((c) => c.query(`UPDATE system_settings SET setting_value = '5' WHERE setting_key = 'lockout.threshold'`));
      await settingsCacheExpired();
    }
  });

  it('locks unknown emails the same way, so 423 does not reveal an account', async () => {
    const known = [];
    const unknown = [];
    await signUp(stack.url, ns, 'real@example.com');
    for (let i = 0; i < 6; i++) {
      known.push(await login('real@example.com', 'wrong password!'));
      unknown.push(await login('ghost@example.com', 'wrong password!'));
    }
    expect(known.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 423]);
    expect(unknown.map((r) => r.status)).toEqual(known.map((r) => r.status));
    expect(unknown[5]!.body).toEqual(known[5]!.body);
    expect(unknown[0]!.body).toEqual(known[0]!.body);
  });

  it('a password reset lifts the lock, so failed logins by others cannot keep the owner out', async () => {
    await signUp(stack.url, ns, 'owner@example.com');
    for (let i = 0; i < 5; i++) await login('owner@example.com', 'attacker guess');
    expect((await login('owner@example.com', 'correct horse battery staple')).status).toBe(423);
    await api(stack.url, 'POST', '/auth/password/forgot', { body: { email: 'owner@example.com' } });
    const token = tokenFromMail(await lastMailTo(ns, 'owner@example.com', /Reset/));
    expect((await api(stack.url, 'POST', '/auth/password/reset', { body: { token, password: 'owner chose this one' } })).status).toBe(200);
    expect((await login('owner@example.com', 'owner chose this one')).status).toBe(200);
  });
});

it("the user login cannot count failures against an administrator's lock", async () => {
  const res = await login('admin:boss@example.com', 'whatever');
  expect(res.status).toBe(400);
  const rows = await pg((c) => c.query(`SELECT 1 FROM login_throttle WHERE email = 'admin:boss@example.com'`));
  expect(rows.rowCount).toBe(0);
});

describe('enumeration', () => {
  it('an unknown email and a wrong password take a similar time', async () => {
    // Three accounts, four wrong passwords each: twelve pairs, each account under the lockout threshold.
    // (Four pairs were too few on a loaded machine: one slow request moved a median by half.)
    const accounts = ['timing-a@example.com', 'timing-b@example.com', 'timing-c@example.com'];
    for (const email of accounts) await signUp(stack.url, ns, email);
    const time = async (email: string) => {
      const started = performance.now();
      const res = await login(email, 'not it at all');
      expect(res.status).toBe(401);
      return performance.now() - started;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    // Alternate, and stay under the lockout threshold for each email.
    for (let i = 0; i < 12; i++) {
      known.push(await time(accounts[i % accounts.length]!));
      unknown.push(await time(`nobody-${i}@example.com`));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ratio = median(unknown) / median(known);
    expect(ratio).toBeGreaterThan(0.6);
    expect(ratio).toBeLessThan(1.6);
  });
});

/**
 * Attacks on account flows (issue 12 §1, §2, §7), each replayed against the
 * real API: /auth/restore as a password oracle that skipped the lockout, IP
 * blocks and step-up; password checks on the signed-in routes that were not
 * counted; a pending email change that outlived a password reset; and the
 * forgot-password answer whose timing told registered emails apart.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { api, lastMailTo, type LoginAnswer, signUp, tokenFromMail } from '../helpers/accounts';
import { capturingLogger } from '../helpers/captured-logs';
import { queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually, REDIS_URL } from '../helpers/test-env';

const ns = createNamespace('acctattacks');
const logs = capturingLogger('error');
let stack: Awaited<ReturnType<typeof startStack>>;
let redis: Redis;
const PASSWORD = 'correct horse battery staple';

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' }, logs.logger);
  redis = new Redis(REDIS_URL);
}, 60_000);
afterAll(async () => {
  redis?.disconnect();
  await stack?.stop();
  await ns.cleanup();
});

async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: ns.databaseUrl });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

const restore = (email: string, password: string, headers: Record<string, string> = {}) => api<LoginAnswer>(stack.url, 'POST', '/auth/restore', { headers, body: { email, password } });
const login = (email: string, password: string) => api(stack.url, 'POST', '/auth/login', { body: { email, password } });
const userRow = async (email: string) => (await sql(`SELECT status, deleted_at, failed_login_attempts FROM users WHERE email = $1`, [email]))[0]!;

/** failed_login rows of an email, as (failure_reason, route) pairs, once there are `n`. */
const failedLogins = (email: string, n: number) =>
  eventually(async () => {
    const rows = await queryRows<{ reason: string; route: string }>(
      stack.clickhouse!,
      `SELECT failure_reason AS reason, JSONExtractString(toJSONString(metadata), 'route') AS route
       FROM failed_login_attempts WHERE email_address = {e:String} ORDER BY occurred_at`,
      { e: email },
    );
    return rows.length >= n && rows;
  });

/** Mail files (under $DATA_DIR/mail) addressed to `to`. */
const mailsTo = (to: string) => {
  const dir = path.join(ns.dataDir, 'mail');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.includes(`-${to}-`)) : [];
};

async function deleted(email: string): Promise<void> {
  const { token } = await signUp(stack.url, ns, email);
  expect((await api(stack.url, 'DELETE', '/me', { token, body: { password: PASSWORD } })).status).toBe(200);
}

describe('§1 /auth/restore is no password oracle and goes through the login guard', () => {
  it('answers a right and a wrong password on a live account identically', async () => {
    await signUp(stack.url, ns, 'live@example.com');
    const right = await restore('live@example.com', PASSWORD);
    const wrong = await restore('live@example.com', 'not the password');
    const unknown = await restore('nobody-here@example.com', 'not the password');
    expect(right.status).toBe(401);
    expect(right.body).toEqual(wrong.body);
    expect(unknown.body).toEqual(wrong.body);
    expect((await userRow('live@example.com')).status).toBe('active');
  });

  it('counts every restore attempt toward the lockout, the right password included, and records each as a failed login', async () => {
    await signUp(stack.url, ns, 'counted@example.com');
    // Had the right password reset the counter, the fifth attempt would tell it apart from the others.
    for (let i = 0; i < 4; i++) expect((await restore('counted@example.com', `guess ${i}`)).status).toBe(401);
    expect((await restore('counted@example.com', PASSWORD)).status).toBe(401);
    const locked = await login('counted@example.com', PASSWORD);
    expect(locked.status).toBe(423);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    const rows = await failedLogins('counted@example.com', 6);
    expect(rows.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => ({ reason: 'INVALID_PASSWORD', route: 'restore' })));
    expect(rows[5]).toEqual({ reason: 'ACCOUNT_LOCKED', route: '' });
  });

  it('refuses a locked deleted account even with the right password, and opens no session', async () => {
    await deleted('locked-gone@example.com');
    for (let i = 0; i < 5; i++) expect((await restore('locked-gone@example.com', `guess ${i}`)).status).toBe(401);
    const res = await restore('locked-gone@example.com', PASSWORD);
    expect(res.status).toBe(423);
    expect(res.body.token).toBeUndefined();
    expect((await userRow('locked-gone@example.com')).status).toBe('deleted');
    expect(await sql(`SELECT 1 FROM user_sessions s JOIN users u ON u.id = s.user_id WHERE u.email = $1 AND s.is_active`, ['locked-gone@example.com'])).toHaveLength(0);
    const rows = await failedLogins('locked-gone@example.com', 6);
    expect(rows[5]).toEqual({ reason: 'ACCOUNT_LOCKED', route: 'restore' });
  });

  it('refuses an IP that the risk worker blocked, before any password is checked', async () => {
    await deleted('blocked-gone@example.com');
    await redis.set(`${ns.queuePrefix}:risk:block:198.51.100.7/32`, 'test', 'EX', 600); // an IPv4 caller is its /32 (domain/network callerOf)
    const res = await restore('blocked-gone@example.com', PASSWORD, { 'x-forwarded-for': '198.51.100.7' });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await userRow('blocked-gone@example.com')).status).toBe('deleted');
    expect(await failedLogins('blocked-gone@example.com', 1)).toEqual([{ reason: 'IP_BLOCKED', route: 'restore' }]);
    // From another address, the owner restores it.
    expect((await restore('blocked-gone@example.com', PASSWORD, { 'x-forwarded-for': '198.51.100.8' })).status).toBe(200);
  });

  it('asks for the mailed code when the risk worker asked for a step-up; a login challenge cannot restore', async () => {
    await deleted('stepped-gone@example.com');
    await sql(`UPDATE users SET step_up_required_at = now() WHERE email = 'stepped-gone@example.com'`);
    const asked = await restore('stepped-gone@example.com', PASSWORD, { 'x-forwarded-for': '198.51.100.20' });
    expect(asked.status).toBe(401);
    expect(asked.body.error).toMatchObject({ code: 'STEP_UP_REQUIRED', details: { method: 'email_code' } });
    expect((await userRow('stepped-gone@example.com')).status).toBe('deleted');
    const code = /Your login code: (\d{6})/.exec(await lastMailTo(ns, 'stepped-gone@example.com', /login code/))![1]!;
    const challenge = asked.body.error!.details.challenge;
    // The restore challenge does not open a plain login.
    expect((await api(stack.url, 'POST', '/auth/login/confirm', { body: { challenge, code } })).status).toBe(401);

    const again = await restore('stepped-gone@example.com', PASSWORD, { 'x-forwarded-for': '198.51.100.20' });
    const code2 = /Your login code: (\d{6})/.exec(await lastMailTo(ns, 'stepped-gone@example.com', /login code/))![1]!;
    const confirmed = await api<{ token: string }>(stack.url, 'POST', '/auth/restore/confirm', { body: { challenge: again.body.error!.details.challenge, code: code2 } });
    expect(confirmed.status).toBe(200);
    expect((await api<{ status: string }>(stack.url, 'GET', '/me', { token: confirmed.body.token })).body.status).toBe('active');
  });
});

describe('§1 every other route that takes a password is counted by the same guard', () => {
  it('wrong passwords on /me/email, /auth/password/change and DELETE /me lock the account, and a locked account is refused there', async () => {
    const { token } = await signUp(stack.url, ns, 'insider@example.com');
    const emailChange = (password: string) => api(stack.url, 'POST', '/me/email', { token, body: { new_email: 'elsewhere@example.com', password } });
    const change = (password: string) => api(stack.url, 'POST', '/auth/password/change', { token, body: { current_password: password, new_password: 'a brand new passphrase' } });
    const remove = (password: string) => api(stack.url, 'DELETE', '/me', { token, body: { password } });
    expect((await emailChange('guess one')).status).toBe(401);
    expect((await emailChange('guess two')).status).toBe(401);
    expect((await change('guess three')).status).toBe(401);
    expect((await change('guess four')).status).toBe(401);
    expect((await remove('guess five')).status).toBe(401);
    // Locked now: the right password is refused on each route, and at the login.
    expect((await emailChange(PASSWORD)).status).toBe(423);
    expect((await change(PASSWORD)).status).toBe(423);
    expect((await remove(PASSWORD)).status).toBe(423);
    expect((await login('insider@example.com', PASSWORD)).status).toBe(423);
    expect((await userRow('insider@example.com')).deleted_at).toBeNull();
    const rows = await failedLogins('insider@example.com', 9);
    expect(rows.slice(0, 8).map((r) => `${r.reason}/${r.route}`)).toEqual([
      'INVALID_PASSWORD/email_change',
      'INVALID_PASSWORD/email_change',
      'INVALID_PASSWORD/password_change',
      'INVALID_PASSWORD/password_change',
      'INVALID_PASSWORD/account_delete',
      'ACCOUNT_LOCKED/email_change',
      'ACCOUNT_LOCKED/password_change',
      'ACCOUNT_LOCKED/account_delete',
    ]);
  });
});

describe('§2 a pending email change dies with the password, and the old address is told', () => {
  async function pendingChange(owner: string, attackerAddress: string): Promise<{ token: string; confirm: string }> {
    const { token } = await signUp(stack.url, ns, owner);
    // The attacker knows the password and asks for the change to their address.
    expect((await api(stack.url, 'POST', '/me/email', { token, body: { new_email: attackerAddress, password: PASSWORD } })).status).toBe(202);
    return { token, confirm: tokenFromMail(await lastMailTo(ns, attackerAddress, /Confirm/)) };
  }
  const confirmChange = (confirm: string) => api(stack.url, 'POST', '/auth/email/confirm', { body: { token: confirm } });

  it('a password reset voids it', async () => {
    const { confirm } = await pendingChange('reset-owner@example.com', 'thief1@example.com');
    await api(stack.url, 'POST', '/auth/password/forgot', { body: { email: 'reset-owner@example.com' } });
    const reset = tokenFromMail(await lastMailTo(ns, 'reset-owner@example.com', /Reset/));
    expect((await api(stack.url, 'POST', '/auth/password/reset', { body: { token: reset, password: 'owner chose a new one' } })).status).toBe(200);
    expect((await confirmChange(confirm)).status).toBe(400);
    expect((await login('reset-owner@example.com', 'owner chose a new one')).status).toBe(200);
  });

  it('a password change voids it', async () => {
    const { token, confirm } = await pendingChange('change-owner@example.com', 'thief2@example.com');
    expect((await api(stack.url, 'POST', '/auth/password/change', { token, body: { current_password: PASSWORD, new_password: 'owner chose a new one' } })).status).toBe(200);
    expect((await confirmChange(confirm)).status).toBe(400);
  });

  it('logout-all voids it', async () => {
    const { token, confirm } = await pendingChange('logout-owner@example.com', 'thief3@example.com');
    expect((await api(stack.url, 'POST', '/auth/logout-all', { token })).status).toBe(200);
    expect((await confirmChange(confirm)).status).toBe(400);
    expect((await login('logout-owner@example.com', PASSWORD)).status).toBe(200);
  });

  it('mails the old address when the change is asked for and again when it is confirmed', async () => {
    const { confirm } = await pendingChange('told-owner@example.com', 'thief4@example.com');
    const notice = await lastMailTo(ns, 'told-owner@example.com', /about to change/);
    expect(notice).toContain('thief4@example.com');
    expect(notice).not.toMatch(/token=/);
    expect((await confirmChange(confirm)).status).toBe(200);
    expect(await lastMailTo(ns, 'told-owner@example.com', /was changed/)).toContain('thief4@example.com');
  });
});

describe('§7 forgot-password answers before it looks the email up', () => {
  it('answers 202 while the reset work is still blocked, then mails the link', async () => {
    await signUp(stack.url, ns, 'forgetful@example.com');
    const before = mailsTo('forgetful@example.com').length;
    // Hold account_tokens against writes: the reset work cannot finish until we let go.
    const holder = new Client({ connectionString: ns.databaseUrl });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE account_tokens IN EXCLUSIVE MODE');
      // On a route that did the work before answering, this would wait for the lock.
      const res = await api(stack.url, 'POST', '/auth/password/forgot', { body: { email: 'forgetful@example.com' } });
      expect(res.status).toBe(202);
      // The work did start, and is waiting on the lock: no mail yet.
      await eventually(async () => {
        const { rows } = await holder.query(`SELECT count(*)::int AS n FROM pg_locks WHERE relation = 'account_tokens'::regclass AND NOT granted`);
        return rows[0].n > 0;
      });
      expect(mailsTo('forgetful@example.com')).toHaveLength(before);
    } finally {
      await holder.query('COMMIT').catch(() => undefined);
      await holder.end();
    }
    expect(tokenFromMail(await lastMailTo(ns, 'forgetful@example.com', /Reset/))).toBeTruthy();
  });

  it('the same answer for an unknown address', async () => {
    const known = await api(stack.url, 'POST', '/auth/password/forgot', { body: { email: 'forgetful@example.com' } });
    const unknown = await api(stack.url, 'POST', '/auth/password/forgot', { body: { email: 'never-registered@example.com' } });
    expect([unknown.status, unknown.body]).toEqual([known.status, known.body]);
  });

  it('logs a failure of the deferred work instead of leaving it unhandled', async () => {
    await signUp(stack.url, ns, 'broken-reset@example.com');
    await sql('ALTER TABLE account_tokens RENAME TO account_tokens_away');
    try {
      expect((await api(stack.url, 'POST', '/auth/password/forgot', { body: { email: 'broken-reset@example.com' } })).status).toBe(202);
      await eventually(async () => logs.lines.some((l) => l.msg === 'could not handle a password reset request'));
    } finally {
      await sql('ALTER TABLE account_tokens_away RENAME TO account_tokens');
    }
  });
});

describe('verification resend answers before it looks the email up (as §7)', () => {
  it('answers 202 while the resend work is still blocked, then mails the link', async () => {
    // Registered, never verified: the one case in which a resend does work (a token and a mail).
    expect((await api(stack.url, 'POST', '/auth/register', { body: { email: 'unverified@example.com', password: PASSWORD } })).status).toBe(201);
    const before = mailsTo('unverified@example.com').length;
    const holder = new Client({ connectionString: ns.databaseUrl });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE account_tokens IN EXCLUSIVE MODE');
      // An unknown or verified address is answered at once; so must this one be, or the time tells them apart.
      const res = await fetch(`${stack.url}/auth/verify-email/resend`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'unverified@example.com' }),
        signal: AbortSignal.timeout(3000),
      });
      expect(res.status).toBe(202);
      await eventually(async () => {
        const { rows } = await holder.query(`SELECT count(*)::int AS n FROM pg_locks WHERE relation = 'account_tokens'::regclass AND NOT granted`);
        return rows[0].n > 0;
      });
      expect(mailsTo('unverified@example.com')).toHaveLength(before);
    } finally {
      await holder.query('COMMIT').catch(() => undefined);
      await holder.end();
    }
    await eventually(async () => mailsTo('unverified@example.com').length > before);
    const verified = await api(stack.url, 'POST', '/auth/verify-email', { body: { token: tokenFromMail(await lastMailTo(ns, 'unverified@example.com', /Verify/)) } });
    expect(verified.status).toBe(200);
  });

  it('the same answer for an unknown, an unverified and a verified address', async () => {
    const answer = async (email: string) => {
      const res = await api(stack.url, 'POST', '/auth/verify-email/resend', { body: { email } });
      return [res.status, res.body];
    };
    await signUp(stack.url, ns, 'resend-verified@example.com');
    expect((await api(stack.url, 'POST', '/auth/register', { body: { email: 'resend-unverified@example.com', password: PASSWORD } })).status).toBe(201);
    const unknown = await answer('never-registered-2@example.com');
    expect(await answer('resend-verified@example.com')).toEqual(unknown);
    expect(await answer('resend-unverified@example.com')).toEqual(unknown);
  });
});

describe('mass assignment', () => {
  it('registration and PATCH /me refuse role, status, verification and admin fields (400) and change nothing', async () => {
    const register = await api(stack.url, 'POST', '/auth/register', {
      body: { email: 'greedy-new@example.com', password: PASSWORD, role: 'admin', email_verified: true, is_admin: true },
    });
    expect(register.status).toBe(400);
    expect(await sql(`SELECT 1 FROM users WHERE email = 'greedy-new@example.com'`)).toHaveLength(0);

    const { token } = await signUp(stack.url, ns, 'greedy@example.com');
    for (const extra of [{ role: 'admin' }, { status: 'active', locked_until: null }, { is_admin: true }, { email: 'other@example.com' }, { admin_level: 5 }]) {
      expect((await api(stack.url, 'PATCH', '/me', { token, body: { first_name: 'G', ...extra } })).status).toBe(400);
    }
    expect(await sql(`SELECT role, status, first_name, email FROM users WHERE email = 'greedy@example.com'`)).toEqual([
      { role: 'user', status: 'active', first_name: null, email: 'greedy@example.com' },
    ]);
  });
});

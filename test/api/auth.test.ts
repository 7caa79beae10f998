import { Pool } from 'pg';
import { api, lastMailTo, signUp, tokenFromMail } from '../helpers/accounts';
import { queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('auth');
let stack: Awaited<ReturnType<typeof startStack>>;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
});
afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

describe('accounts', () => {
  it('registers, verifies by the mailed link, logs in and out', async () => {
    const { token, userId } = await signUp(stack.url, ns, 'ann@example.com');
    expect(token).toMatch(/^afs_/);
    const me = await api<{ password_hash?: unknown }>(stack.url, 'GET', '/me', { token });
    expect(me.body).toMatchObject({ id: userId, email: 'ann@example.com', email_verified: true });
    expect(me.body.password_hash).toBeUndefined();
    expect((await api(stack.url, 'POST', '/auth/logout', { token })).status).toBe(204);
    expect((await api(stack.url, 'GET', '/me', { token })).status).toBe(401);
  });

  it("sets a session's expiries on PostgreSQL's clock, the one that checks them", async () => {
    const { userId } = await signUp(stack.url, ns, 'clock@example.com');
    const pg = new Pool({ connectionString: ns.databaseUrl, max: 1 });
    try {
      // Computed from this process's clock, they drifted from created_at by the clocks' difference (an hour behind: expired at once).
      const { rows } = await pg.query<{ idle: string; absolute: string }>(
        `SELECT (idle_expires_at - last_activity_at)::text AS idle, (expires_at - created_at)::text AS absolute FROM user_sessions WHERE user_id = $1`,
        [userId],
      );
      expect(rows).toEqual([{ idle: '00:30:00', absolute: '12:00:00' }]);
    } finally {
      await pg.end();
    }
  });

  it('answers a wrong password and an unknown email alike', async () => {
    await signUp(stack.url, ns, 'bob@example.com');
    const wrong = await api(stack.url, 'POST', '/auth/login', { body: { email: 'bob@example.com', password: 'not the password' } });
    const unknown = await api(stack.url, 'POST', '/auth/login', { body: { email: 'nobody@example.com', password: 'not the password' } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
  });

  it('records login and session events in ClickHouse', async () => {
    const { userId } = await signUp(stack.url, ns, 'cy@example.com');
    const rows = await eventually(async () => {
      const r = await queryRows<{ event_type: string }>(stack.clickhouse!, `SELECT event_type FROM auth_audit_log WHERE user_id = {u:String} ORDER BY occurred_at`, { u: userId });
      return r.length >= 4 && r;
    });
    expect(rows.map((r) => r.event_type)).toEqual(['user_created', 'user_registered', 'email_verified', 'login_success']);
  });

  it('resets a forgotten password by mail and ends old sessions', async () => {
    const { token } = await signUp(stack.url, ns, 'dee@example.com');
    expect((await api(stack.url, 'POST', '/auth/password/forgot', { body: { email: 'dee@example.com' } })).status).toBe(202);
    const resetToken = tokenFromMail(await lastMailTo(ns, 'dee@example.com', /Reset/));
    expect((await api(stack.url, 'POST', '/auth/password/reset', { body: { token: resetToken, password: 'a brand new passphrase' } })).status).toBe(200);
    expect((await api(stack.url, 'GET', '/me', { token })).status).toBe(401);
    expect((await api(stack.url, 'POST', '/auth/password/reset', { body: { token: resetToken, password: 'another new passphrase' } })).status).toBe(400);
    expect((await api(stack.url, 'POST', '/auth/login', { body: { email: 'dee@example.com', password: 'a brand new passphrase' } })).status).toBe(200);
  });
});

import { Client } from 'pg';
import { api, lastMailTo, signUp, tokenFromMail, type ValidationErrorBody } from '../helpers/accounts';
import { queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('account');
let stack: Awaited<ReturnType<typeof startStack>>;
const PASSWORD = 'correct horse battery staple';

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
});
afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

async function auditRows(userId: string, type: string) {
  return eventually(async () => {
    const rows = await queryRows<{ previous: string; next: string; triggered_by_type: string; action_type: string }>(
      stack.clickhouse!,
      `SELECT toJSONString(previous_value) AS previous, toJSONString(new_value) AS next, triggered_by_type, action_type
       FROM audit_logs WHERE user_id = {u:String} AND event_type = {t:String}`,
      { u: userId, t: type },
    );
    return rows.length > 0 && rows;
  });
}

describe('own account', () => {
  it('updates the profile and records old and new values', async () => {
    const { token, userId } = await signUp(stack.url, ns, 'prof@example.com');
    await api(stack.url, 'PATCH', '/me', { token, body: { first_name: 'Ada' } });
    const res = await api(stack.url, 'PATCH', '/me', { token, body: { first_name: 'Grace', last_name: 'Hopper' } });
    expect(res.body).toMatchObject({ first_name: 'Grace', last_name: 'Hopper' });
    const rows = await eventually(async () => {
      const r = await auditRows(userId, 'profile_updated');
      return r.length === 2 && r;
    });
    const changes = rows.map((r) => [JSON.parse(r.previous), JSON.parse(r.next)]);
    expect(changes).toContainEqual([{ first_name: 'Ada' }, { first_name: 'Grace', last_name: 'Hopper' }]);
    expect(rows[0]!.triggered_by_type).toBe('user');
  });

  it('changes the email only once the new address confirms it', async () => {
    const { token, userId } = await signUp(stack.url, ns, 'old@example.com');
    expect((await api(stack.url, 'POST', '/me/email', { token, body: { new_email: 'new@example.com', password: 'wrong one' } })).status).toBe(401);
    expect((await api(stack.url, 'POST', '/me/email', { token, body: { new_email: 'new@example.com', password: PASSWORD } })).status).toBe(202);
    expect((await api<{ email: string }>(stack.url, 'GET', '/me', { token })).body.email).toBe('old@example.com');
    const confirm = tokenFromMail(await lastMailTo(ns, 'new@example.com', /Confirm/));
    expect((await api<{ email: string }>(stack.url, 'POST', '/auth/email/confirm', { body: { token: confirm } })).body.email).toBe('new@example.com');
    const [row] = await auditRows(userId, 'email_changed');
    expect([JSON.parse(row!.previous), JSON.parse(row!.next)]).toEqual([{ email: 'old@example.com' }, { email: 'new@example.com' }]);
  });

  it('soft-deletes the account, refuses its login, and restores it within the window', async () => {
    const { token, userId } = await signUp(stack.url, ns, 'gone@example.com');
    const deleted = await api<{ deleted_at: string; restore_until: string }>(stack.url, 'DELETE', '/me', { token, body: { password: PASSWORD } });
    expect(deleted.status).toBe(200);
    expect(new Date(deleted.body.restore_until).getTime() - new Date(deleted.body.deleted_at).getTime()).toBe(30 * 86_400_000);
    expect((await api(stack.url, 'GET', '/me', { token })).status).toBe(401);
    expect((await api(stack.url, 'POST', '/auth/login', { body: { email: 'gone@example.com', password: PASSWORD } })).status).toBe(403);
    const restored = await api<{ token: string }>(stack.url, 'POST', '/auth/restore', { body: { email: 'gone@example.com', password: PASSWORD } });
    expect(restored.status).toBe(200);
    expect((await api<{ status: string }>(stack.url, 'GET', '/me', { token: restored.body.token })).body.status).toBe('active');
    await auditRows(userId, 'account_deleted');
    await auditRows(userId, 'account_restored');
  });

  it('refuses to restore an account deleted more than 30 days ago', async () => {
    const { token } = await signUp(stack.url, ns, 'long-gone@example.com');
    await api(stack.url, 'DELETE', '/me', { token, body: { password: PASSWORD } });
    const pg = new Client({ connectionString: ns.databaseUrl });
    await pg.connect();
    await pg.query(`UPDATE users SET deleted_at = now() - interval '31 days' WHERE email = 'long-gone@example.com'`);
    await pg.end();
    expect((await api(stack.url, 'POST', '/auth/restore', { body: { email: 'long-gone@example.com', password: PASSWORD } })).status).toBe(410);
  });

  it('logs out of every session at once', async () => {
    const { token } = await signUp(stack.url, ns, 'many@example.com');
    const second = (await api<{ token: string }>(stack.url, 'POST', '/auth/login', { body: { email: 'many@example.com', password: PASSWORD } })).body.token;
    expect((await api(stack.url, 'POST', '/auth/logout-all', { token })).body).toEqual({ ended_sessions: 2 });
    expect((await api(stack.url, 'GET', '/me', { token: second })).status).toBe(401);
  });

  it('tracks guest sessions', async () => {
    const started = await api<{ guest_session_id: string }>(stack.url, 'POST', '/auth/guest');
    expect(started.status).toBe(201);
    const touched = await api(stack.url, 'GET', '/auth/guest', { headers: { 'x-guest-session': started.body.guest_session_id } });
    expect(touched.status).toBe(200);
    expect((await api(stack.url, 'GET', '/auth/guest', { headers: { 'x-guest-session': 'guest_nope' } })).status).toBe(401);
  });

  it('records each validation failure as an error event with a TODOAPP code, apart from the technical details', async () => {
    const res = await api<ValidationErrorBody>(stack.url, 'POST', '/auth/register', { body: { email: 'not-an-email', password: 'short' } });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'VALIDATION_FAILED', error_code: 'TODOAPP-VAL-001' });
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(['email', 'password']);
    const requestId = res.headers.get('x-request-id')!;
    const [row] = await eventually(async () => {
      const r = await queryRows<{ error_code: string; error_message: string; details: string; request_path: string; http_status_code: number }>(
        stack.clickhouse!,
        `SELECT error_code, error_message, toJSONString(technical_details) AS details, request_path, http_status_code
         FROM error_logs WHERE technical_details.request_id = {id:String}`,
        { id: requestId },
      );
      return r.length > 0 && r;
    });
    expect(row).toMatchObject({ error_code: 'TODOAPP-VAL-001', request_path: '/auth/register', http_status_code: 400 });
    expect(row!.error_message).toMatch(/email/);
    expect(JSON.parse(row!.details).details).toHaveLength(2);
  });

  it('records every request as an api_access row with route, status, time and user', async () => {
    const { token, userId } = await signUp(stack.url, ns, 'access@example.com');
    const me = await api(stack.url, 'GET', '/me', { token });
    const requestId = me.headers.get('x-request-id')!;
    const [row] = await eventually(async () => {
      const r = await queryRows<Record<string, unknown>>(
        stack.clickhouse!,
        `SELECT method, endpoint, response_status, response_time_ms, user_id, bytes_sent FROM api_access_log WHERE request_headers.\`x-request-id\` = {id:String}`,
        { id: requestId },
      );
      return r.length > 0 && r;
    });
    expect(row).toMatchObject({ method: 'GET', endpoint: '/me', response_status: 200, user_id: userId });
    expect(Number(row!.bytes_sent)).toBeGreaterThan(0);
  });
});

import { api, lastMailTo, tokenFromMail } from '../helpers/accounts';
import { queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('journey');
afterAll(() => ns.cleanup());

it('a user journey produces exactly the expected events in ClickHouse, by kind, type and count', async () => {
  const stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  try {
    let n = 0;
    const call = <T = unknown>(method: string, route: string, options: { token?: string; body?: unknown } = {}) =>
      api<T>(stack.url, method, route, { ...options, headers: { 'x-request-id': `journey-${++n}` } });
    const email = 'journey@example.com';
    const password = 'a long journey passphrase';

    expect((await call('POST', '/auth/register', { body: { email, password } })).status).toBe(201);
    const verifyToken = tokenFromMail(await lastMailTo(ns, email, /Verify/));
    expect((await call('POST', '/auth/verify-email', { body: { token: verifyToken } })).status).toBe(200);
    const login = await call<{ token: string }>('POST', '/auth/login', { body: { email, password } });
    expect(login.status).toBe(200);
    const token = login.body.token;
    const me = await call<{ id: string }>('GET', '/me', { token });
    const userId = me.body.id;

    const created = await call<{ id: string }>('POST', '/todos', { token, body: { title: 'Buy milk' } });
    expect(created.status).toBe(201);
    const todo = `/todos/${created.body.id}`;
    expect((await call('PATCH', todo, { token, body: { title: 'Buy oat milk' } })).status).toBe(200);
    expect((await call('POST', `${todo}/toggle`, { token })).status).toBe(200);
    expect((await call('DELETE', todo, { token })).status).toBeLessThan(300);
    expect((await call('POST', `${todo}/restore`, { token })).status).toBe(200);
    expect((await call('POST', '/auth/password/change', { token, body: { current_password: password, new_password: 'an even longer passphrase' } })).status).toBe(200);
    expect((await call('POST', '/auth/logout', { token })).status).toBe(204);

    const count = async (table: string, where: string, params: Record<string, unknown>) =>
      (await queryRows<{ event_type: string; n: number }>(stack.clickhouse!, `SELECT event_type, count() AS n FROM ${table} WHERE ${where} GROUP BY event_type ORDER BY event_type`, params)).map(
        (r) => `${r.event_type}×${r.n}`,
      );
    const expected = {
      auth: ['email_verified×1', 'login_success×1', 'logout×1', 'password_changed×1', 'user_created×1', 'user_registered×1'],
      audit: ['email_verified×1', 'password_changed×1', 'todo_completion_toggled×1', 'todo_created×1', 'todo_deleted×1', 'todo_restored×1', 'todo_updated×1', 'user_created×1', 'user_registered×1'],
      session: ['session_ended×1', 'session_started×1'],
      api_access: [`api_request×${n}`],
    };
    const byUser = { u: userId };
    const actual = await eventually(async () => {
      const got = {
        auth: await count('auth_audit_log', 'user_id = {u:String}', byUser),
        audit: await count('audit_logs', 'user_id = {u:String}', byUser),
        session: await count('user_sessions', 'user_id = {u:String}', byUser),
        api_access: await count('api_access_log', "startsWith(toString(request_headers.`x-request-id`), 'journey-')", {}),
      };
      return JSON.stringify(got) === JSON.stringify(expected) && got;
    }, 15_000).catch(async () => ({
      auth: await count('auth_audit_log', 'user_id = {u:String}', byUser),
      audit: await count('audit_logs', 'user_id = {u:String}', byUser),
      session: await count('user_sessions', 'user_id = {u:String}', byUser),
      api_access: await count('api_access_log', "startsWith(toString(request_headers.`x-request-id`), 'journey-')", {}),
    }));
    expect(actual).toEqual(expected);
    // Nothing went wrong along the way.
    for (const table of ['failed_login_attempts', 'security_events']) expect(await count(table, 'user_id = {u:String}', byUser)).toEqual([]);
    expect(await count('error_logs', "startsWith(toString(technical_details.request_id), 'journey-')", {})).toEqual([]);

    // Every step is in order, with old and new values where something changed.
    const steps = await queryRows<{ event_type: string; previous: string; next: string }>(
      stack.clickhouse!,
      `SELECT event_type, toJSONString(previous_value) AS previous, toJSONString(new_value) AS next FROM audit_logs WHERE entity_type = 'TODO' AND user_id = {u:String} ORDER BY occurred_at`,
      byUser,
    );
    expect(steps.map((s) => s.event_type)).toEqual(['todo_created', 'todo_updated', 'todo_completion_toggled', 'todo_deleted', 'todo_restored']);
    expect(JSON.parse(steps[1]!.previous)).toMatchObject({ title: 'Buy milk' });
    expect(JSON.parse(steps[1]!.next)).toMatchObject({ title: 'Buy oat milk' });
  } finally {
    await stack.stop();
  }
}, 60_000);

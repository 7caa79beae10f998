import { Pool } from 'pg';
import { AdminAccountService } from '../../src/features/admin/admin-account.service';
import { AdministratorRepository } from '../../src/features/admin/administrator.repository';
import { LoginGuard } from '../../src/features/auth/login-guard';
import { api, type ErrorBody, signUp } from '../helpers/accounts';
import { queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('admin');
let stack: Awaited<ReturnType<typeof startStack>>;
let pg: Pool;
const PASSWORD = 'correct horse battery staple';
const ADMIN_PASSWORD = 'admin passphrase of some length';

/** Tokens of administrators at level 5 (root), 4, 3 and 2. */
const tokens: Record<'root' | 'four' | 'three' | 'two', string> = { root: '', four: '', three: '', two: '' };
let rootId = '';

async function createAdmin(email: string, level: number): Promise<string> {
  const accounts = new AdminAccountService(new AdministratorRepository(pg), new LoginGuard(pg));
  return (await accounts.create({ email, password: ADMIN_PASSWORD, admin_level: level })).id;
}

async function adminLogin(email: string, password = ADMIN_PASSWORD) {
  return api<{ token: string; session_id: string }>(stack.url, 'POST', '/admin/login', { body: { email, password } });
}

interface AuditRow {
  previous: string;
  next: string;
  triggered_by_type: string;
  triggered_by_id: string;
  action_type: string;
  entity_type: string;
  duration_ms: number | null;
  reason: string | null;
}

/** Audit rows of one type about one user or entity, once at least `n` have arrived. */
async function auditRows(where: { user?: string; entity?: string }, type: string, n = 1): Promise<AuditRow[]> {
  return eventually(async () => {
    const rows = await queryRows<AuditRow>(
      stack.clickhouse!,
      `SELECT toJSONString(previous_value) AS previous, toJSONString(new_value) AS next, triggered_by_type, triggered_by_id,
              action_type, entity_type, duration_ms, reason
       FROM audit_logs WHERE event_type = {t:String} AND (user_id = {u:String} OR entity_id = {e:String}) ORDER BY occurred_at`,
      { t: type, u: where.user ?? '-', e: where.entity ?? '-' },
    );
    return rows.length >= n && rows;
  });
}

function expectByRoot(row: AuditRow): void {
  expect(row.triggered_by_type).toBe('admin');
  expect(row.triggered_by_id).toBe(rootId);
  expect(row.duration_ms).not.toBeNull();
}

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  pg = new Pool({ connectionString: ns.databaseUrl, max: 2 });
  rootId = await createAdmin('root@admin.example', 5);
  await createAdmin('four@admin.example', 4);
  await createAdmin('three@admin.example', 3);
  await createAdmin('two@admin.example', 2);
  for (const name of ['root', 'four', 'three', 'two'] as const) {
    const login = await adminLogin(`${name}@admin.example`);
    expect(login.status).toBe(200);
    tokens[name] = login.body.token;
  }
});
afterAll(async () => {
  await pg?.end();
  await stack?.stop();
  await ns.cleanup();
});

describe('administrator login', () => {
  it('opens an admin session and records login_success', async () => {
    const login = await adminLogin('root@admin.example');
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ token: expect.stringMatching(/^afs_/), expires_at: expect.any(String), administrator: { id: rootId, admin_level: 5 } });
    const me = await api<{ password_hash?: unknown }>(stack.url, 'GET', '/admin/me', { token: login.body.token });
    expect(me.body).toMatchObject({ id: rootId, email: 'root@admin.example', admin_level: 5 });
    expect(me.body.password_hash).toBeUndefined();
    const { rows } = await pg.query(`SELECT subject_type FROM user_sessions WHERE session_id = $1`, [login.body.session_id]);
    expect(rows[0]).toEqual({ subject_type: 'admin' });
    await eventually(async () => {
      const r = await queryRows<{ s: string }>(stack.clickhouse!, `SELECT toString(details.subject_type) AS s FROM auth_audit_log WHERE user_id = {u:String} AND event_type = 'login_success'`, {
        u: rootId,
      });
      return r.some((x) => x.s === 'admin');
    });
  });

  it('answers a wrong password and an unknown email alike, and records login_failed', async () => {
    const wrong = await adminLogin('root@admin.example', 'not the password');
    const unknown = await adminLogin('nobody@admin.example', 'not the password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    await eventually(async () => {
      const r = await queryRows<{ reason: string }>(stack.clickhouse!, `SELECT failure_reason AS reason FROM failed_login_attempts WHERE email_address = 'root@admin.example'`);
      return r.some((x) => x.reason === 'INVALID_PASSWORD');
    });
    // A failure does not lock on its own: the right password still works.
    expect((await adminLogin('root@admin.example')).status).toBe(200);
  });

  it('locks an administrator email after 5 failures, checked atomically, and unknown emails alike', async () => {
    await createAdmin('locked@admin.example', 5);
    const burst = await Promise.all(Array.from({ length: 12 }, () => adminLogin('locked@admin.example', 'wrong guess')));
    expect(burst.filter((r) => r.status === 401)).toHaveLength(5);
    expect(burst.filter((r) => r.status === 423)).toHaveLength(7);
    const right = await adminLogin('locked@admin.example');
    expect(right.status).toBe(423);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) await adminLogin('ghost@admin.example', 'wrong guess');
    expect((await adminLogin('ghost@admin.example', 'wrong guess')).status).toBe(423);
    // The lock is the administrator's: a user with the same email is not affected, and vice versa.
    const { rows } = await pg.query(`SELECT email FROM login_throttle WHERE email LIKE '%locked@admin.example' AND locked_until > now()`);
    expect(rows).toEqual([{ email: 'admin:locked@admin.example' }]);
  });

  it('refuses suspended and inactive administrators at login and on every request', async () => {
    const id = await createAdmin('benched@admin.example', 5);
    const token = (await adminLogin('benched@admin.example')).body.token;
    expect((await api(stack.url, 'GET', '/admin/users', { token })).status).toBe(200);
    await pg.query(`UPDATE administrators SET status = 'suspended' WHERE id = $1`, [id]);
    const refused = await api<ErrorBody>(stack.url, 'GET', '/admin/users', { token });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(/suspended/);
    expect((await adminLogin('benched@admin.example')).status).toBe(403);
    await pg.query(`UPDATE administrators SET status = 'inactive' WHERE id = $1`, [id]);
    expect((await adminLogin('benched@admin.example')).status).toBe(403);
    expect((await adminLogin('benched@admin.example', 'wrong guess')).status).toBe(401);
  });

  it('keeps users out of /admin and administrators out of user routes', async () => {
    const { token } = await signUp(stack.url, ns, 'plain@example.com');
    const asUser = await api<ErrorBody>(stack.url, 'GET', '/admin/users', { token });
    expect(asUser.status).toBe(403);
    expect(asUser.body.error.message).toBe('administrators only');
    expect((await api(stack.url, 'GET', '/admin/users')).status).toBe(401);
    // A user's credentials are not an administrator's.
    expect((await adminLogin('plain@example.com', PASSWORD)).status).toBe(401);
    expect((await api(stack.url, 'GET', '/me', { token: tokens.root })).status).toBe(403);
  });
});

describe('users', () => {
  it('lists and searches users without their password hashes, and records who viewed whom', async () => {
    const { userId } = await signUp(stack.url, ns, 'searchable.zed@example.com');
    const found = await api<{ users: unknown[] }>(stack.url, 'GET', '/admin/users?q=searchable.zed&limit=5', { token: tokens.two });
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ total: 1, limit: 5, offset: 0 });
    expect(found.body.users[0]).toMatchObject({ id: userId, email: 'searchable.zed@example.com', status: 'active' });
    expect(JSON.stringify(found.body)).not.toContain('password_hash');
    expect((await api<{ total: number }>(stack.url, 'GET', '/admin/users?status=suspended&q=searchable', { token: tokens.two })).body.total).toBe(0);

    const one = await api<{ password_hash?: unknown }>(stack.url, 'GET', `/admin/users/${userId}`, { token: tokens.root });
    expect(one.body).toMatchObject({ id: userId, permissions: [] });
    expect(one.body.password_hash).toBeUndefined();
    const [viewed] = await auditRows({ entity: userId }, 'user_viewed');
    expect(viewed!.action_type).toBe('READ');
    expectByRoot(viewed!);
    expect((await api(stack.url, 'GET', '/admin/users/00000000-0000-4000-8000-000000000000', { token: tokens.root })).status).toBe(404);
  });

  it('suspends a user: status, sessions ended, login refused, account_suspended and status_changed', async () => {
    const { token, userId } = await signUp(stack.url, ns, 'suspect@example.com');
    const res = await api(stack.url, 'POST', `/admin/users/${userId}/suspend`, { token: tokens.root, body: { reason: 'Policy violation: spam' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: userId, status: 'suspended' });
    expect((await pg.query('SELECT status FROM users WHERE id = $1', [userId])).rows[0]).toEqual({ status: 'suspended' });
    expect((await api(stack.url, 'GET', '/me', { token })).status).toBe(401);
    const login = await api<ErrorBody>(stack.url, 'POST', '/auth/login', { body: { email: 'suspect@example.com', password: PASSWORD } });
    expect(login.status).toBe(403);
    expect(login.body.error.message).toMatch(/suspended/);

    for (const type of ['account_suspended', 'status_changed']) {
      const [row] = await auditRows({ user: userId }, type);
      expect([JSON.parse(row!.previous), JSON.parse(row!.next)]).toEqual([{ status: 'active' }, { status: 'suspended' }]);
      expect(row!.reason).toBe('Policy violation: spam');
      expect(row!.entity_type).toBe('USER_ACCOUNT');
      expectByRoot(row!);
    }
    expect((await api(stack.url, 'POST', `/admin/users/${userId}/suspend`, { token: tokens.root, body: { reason: 'again' } })).status).toBe(409);

    const back = await api<{ status: string }>(stack.url, 'POST', `/admin/users/${userId}/reactivate`, { token: tokens.root });
    expect(back.body.status).toBe('active');
    expect((await api(stack.url, 'POST', '/auth/login', { body: { email: 'suspect@example.com', password: PASSWORD } })).status).toBe(200);
    const [reactivated] = await auditRows({ user: userId }, 'account_reactivated');
    expect([JSON.parse(reactivated!.previous), JSON.parse(reactivated!.next)]).toEqual([{ status: 'suspended' }, { status: 'active' }]);
    expectByRoot(reactivated!);
    expect((await api(stack.url, 'POST', `/admin/users/${userId}/reactivate`, { token: tokens.root })).status).toBe(409);
  });

  it('requires a reason to suspend, and admin_level 3', async () => {
    const { userId } = await signUp(stack.url, ns, 'reasonless@example.com');
    const missing = await api<ErrorBody>(stack.url, 'POST', `/admin/users/${userId}/suspend`, { token: tokens.root, body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details).toEqual([{ path: 'reason', message: 'is required' }]);
    const low = await api<ErrorBody>(stack.url, 'POST', `/admin/users/${userId}/suspend`, { token: tokens.two, body: { reason: 'x' } });
    expect(low.status).toBe(403);
    expect(low.body.error.message).toMatch(/admin_level 3/);
    expect((await api(stack.url, 'POST', '/admin/users/not-a-uuid/suspend', { token: tokens.root, body: { reason: 'x' } })).status).toBe(400);
    expect((await pg.query('SELECT status FROM users WHERE id = $1', [userId])).rows[0]).toEqual({ status: 'active' });
  });

  it('unlocks a locked-out user, who can then log in; account_unlocked and a security event', async () => {
    const { userId } = await signUp(stack.url, ns, 'forgetful@example.com');
    for (let i = 0; i < 5; i++) await api(stack.url, 'POST', '/auth/login', { body: { email: 'forgetful@example.com', password: 'wrong guess' } });
    expect((await api(stack.url, 'POST', '/auth/login', { body: { email: 'forgetful@example.com', password: PASSWORD } })).status).toBe(423);

    const res = await api(stack.url, 'POST', `/admin/users/${userId}/unlock`, { token: tokens.two, body: { reason: 'verified by phone' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ was_locked: true, locked_until: null, failed_login_attempts: 0 });
    const { rows } = await pg.query('SELECT locked_until, failed_login_attempts, lock_source FROM users WHERE id = $1', [userId]);
    expect(rows[0]).toEqual({ locked_until: null, failed_login_attempts: 0, lock_source: null });
    const throttle = await pg.query(`SELECT failures, locked_until FROM login_throttle WHERE email = 'forgetful@example.com'`);
    expect(throttle.rows[0]).toEqual({ failures: 0, locked_until: null });
    expect((await api(stack.url, 'POST', '/auth/login', { body: { email: 'forgetful@example.com', password: PASSWORD } })).status).toBe(200);

    const [row] = await auditRows({ user: userId }, 'account_unlocked');
    expect(JSON.parse(row!.previous)).toMatchObject({ status: 'locked', lock_source: 'password', failed_login_attempts: 5, lock_count: 1 });
    expect(JSON.parse(row!.next)).toEqual({ status: 'active', failed_login_attempts: 0, lock_count: 0 });
    expect(row!.triggered_by_type).toBe('admin');
    const security = await eventually(async () => {
      const r = await queryRows<{ action_taken: string; source: string }>(
        stack.clickhouse!,
        `SELECT action_taken, event_source AS source FROM security_events WHERE user_id = {u:String} AND event_type = 'ACCOUNT_UNLOCKED'`,
        { u: userId },
      );
      return r.length > 0 && r;
    });
    expect(security[0]).toEqual({ action_taken: 'ACCOUNT_UNLOCKED', source: 'ADMIN_PANEL' });
  });

  it('lifts a lock set by the risk worker (status locked, lock_source risk)', async () => {
    const { userId } = await signUp(stack.url, ns, 'risky@example.com');
    await pg.query(`UPDATE users SET status = 'locked', locked_until = now() + interval '1 day', lock_source = 'risk' WHERE id = $1`, [userId]);
    expect((await api(stack.url, 'POST', '/auth/login', { body: { email: 'risky@example.com', password: PASSWORD } })).status).toBe(423);
    expect((await api(stack.url, 'POST', `/admin/users/${userId}/unlock`, { token: tokens.two })).body).toMatchObject({ status: 'active', was_locked: true });
    expect((await api(stack.url, 'POST', '/auth/login', { body: { email: 'risky@example.com', password: PASSWORD } })).status).toBe(200);
    const [row] = await auditRows({ user: userId }, 'account_unlocked');
    expect(JSON.parse(row!.previous)).toMatchObject({ status: 'locked', lock_source: 'risk' });
  });

  it('changes a role from the documented list: role_changed with old and new role', async () => {
    const { userId } = await signUp(stack.url, ns, 'promoted@example.com');
    const bad = await api<{ error: { details: unknown[] } }>(stack.url, 'PUT', `/admin/users/${userId}/role`, { token: tokens.root, body: { role: 'superuser' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0]).toEqual({ path: 'role', message: 'must be one of user, support, auditor, admin' });
    expect((await api(stack.url, 'PUT', `/admin/users/${userId}/role`, { token: tokens.three, body: { role: 'auditor' } })).status).toBe(403);

    const res = await api<{ role: string }>(stack.url, 'PUT', `/admin/users/${userId}/role`, { token: tokens.root, body: { role: 'auditor' } });
    expect(res.body.role).toBe('auditor');
    expect((await pg.query('SELECT role FROM users WHERE id = $1', [userId])).rows[0]).toEqual({ role: 'auditor' });
    const [row] = await auditRows({ user: userId }, 'role_changed');
    expect([JSON.parse(row!.previous), JSON.parse(row!.next)]).toEqual([{ role: 'user' }, { role: 'auditor' }]);
    expectByRoot(row!);
  });

  it('grants, lists and revokes permissions: permission_granted and permission_revoked', async () => {
    const { userId } = await signUp(stack.url, ns, 'granted@example.com');
    const route = `/admin/users/${userId}/permissions`;
    expect((await api(stack.url, 'POST', route, { token: tokens.root, body: { permission: 'launch_missiles' } })).status).toBe(400);
    expect((await api(stack.url, 'POST', route, { token: tokens.three, body: { permission: 'view_reports' } })).status).toBe(403);

    const granted = await api(stack.url, 'POST', route, { token: tokens.root, body: { permission: 'view_reports' } });
    expect(granted.status).toBe(201);
    expect(granted.body).toMatchObject({ user_id: userId, permission: 'view_reports', granted_by: rootId });
    expect((await api(stack.url, 'POST', route, { token: tokens.root, body: { permission: 'view_reports' } })).status).toBe(200);
    expect((await api<{ permissions: { permission: string }[] }>(stack.url, 'GET', route, { token: tokens.two })).body.permissions.map((p: { permission: string }) => p.permission)).toEqual([
      'view_reports',
    ]);
    expect((await pg.query('SELECT permission FROM user_permissions WHERE user_id = $1', [userId])).rows).toEqual([{ permission: 'view_reports' }]);

    expect((await api(stack.url, 'DELETE', `${route}/view_reports`, { token: tokens.root })).status).toBe(204);
    expect((await api(stack.url, 'DELETE', `${route}/view_reports`, { token: tokens.root })).status).toBe(404);
    expect((await pg.query('SELECT permission FROM user_permissions WHERE user_id = $1', [userId])).rows).toEqual([]);

    const [grant] = await auditRows({ user: userId }, 'permission_granted');
    expect([grant!.previous, JSON.parse(grant!.next)]).toEqual([null, { permission: 'view_reports' }]);
    expectByRoot(grant!);
    const [revoke] = await auditRows({ user: userId }, 'permission_revoked');
    expect(JSON.parse(revoke!.previous)).toMatchObject({ permission: 'view_reports', granted_by: rootId });
    expect(revoke!.next).toBeNull();
    expect(revoke!.action_type).toBe('DELETE');
    // Only one grant was recorded: the repeated grant changed nothing.
    expect(await auditRows({ user: userId }, 'permission_granted')).toHaveLength(1);
  });
});

describe('system settings', () => {
  const SECRET = 'sk_live_very_secret_value_4242';

  it('stores encrypted values encrypted, shows them to level 4+, and never puts them in an event', async () => {
    const created = await api<{ id: string }>(stack.url, 'POST', '/admin/settings', {
      token: tokens.four,
      body: { setting_key: 'payments.api_key', setting_value: SECRET, setting_type: 'string', is_encrypted: true, description: 'payment provider key' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ setting_key: 'payments.api_key', setting_value: SECRET, is_encrypted: true });

    const { rows } = await pg.query('SELECT setting_value, modified_by_admin_id FROM system_settings WHERE setting_key = $1', ['payments.api_key']);
    expect(rows[0].setting_value).not.toContain(SECRET);
    expect(rows[0].setting_value).toMatch(/^v1:/);

    expect((await api<{ setting_value: string }>(stack.url, 'GET', '/admin/settings/payments.api_key', { token: tokens.root })).body.setting_value).toBe(SECRET);
    expect((await api<{ setting_value: string }>(stack.url, 'GET', '/admin/settings/payments.api_key', { token: tokens.three })).body.setting_value).toBe('[encrypted]');
    const listed = await api<{ settings: { setting_key: string }[] }>(stack.url, 'GET', '/admin/settings', { token: tokens.three });
    expect(listed.body.settings.find((s: { setting_key: string }) => s.setting_key === 'lockout.threshold')).toMatchObject({ setting_value: '5' });
    expect(JSON.stringify(listed.body)).not.toContain(SECRET);
    expect((await api(stack.url, 'GET', '/admin/settings', { token: tokens.two })).status).toBe(403);

    const rotated = `${SECRET}_rotated`;
    expect((await api<{ setting_value: string }>(stack.url, 'PATCH', '/admin/settings/payments.api_key', { token: tokens.four, body: { setting_value: rotated } })).body.setting_value).toBe(rotated);
    const created2 = await auditRows({ entity: created.body.id }, 'setting_updated');
    expect(JSON.parse(created2[0]!.next)).toMatchObject({ setting_value: '[encrypted]' });
    expect(created2[0]!.entity_type).toBe('SYSTEM_SETTING');
    expect(created2[0]!.triggered_by_type).toBe('admin');
    await auditRows({ entity: created.body.id }, 'setting_created');
    // Let the access and error events of these requests land too, then look everywhere.
    await new Promise((r) => setTimeout(r, 500));
    for (const table of ['audit_logs', 'auth_audit_log', 'security_events', 'error_logs', 'api_access_log', 'failed_login_attempts']) {
      const dump = await queryRows(stack.clickhouse!, `SELECT * FROM ${table}`);
      expect(JSON.stringify(dump)).not.toContain(SECRET);
    }
  });

  it('refuses to change or delete an immutable setting with 403', async () => {
    const created = await api<{ id: string }>(stack.url, 'POST', '/admin/settings', {
      token: tokens.root,
      body: { setting_key: 'app.version', setting_value: '1.0.0', setting_type: 'string', is_mutable: false },
    });
    expect(created.status).toBe(201);
    expect((await api(stack.url, 'PATCH', '/admin/settings/app.version', { token: tokens.root, body: { setting_value: '2.0.0' } })).status).toBe(403);
    expect((await api(stack.url, 'DELETE', '/admin/settings/app.version', { token: tokens.root })).status).toBe(403);
    expect((await pg.query(`SELECT setting_value FROM system_settings WHERE setting_key = 'app.version'`)).rows).toEqual([{ setting_value: '1.0.0' }]);
  });

  it('creates, updates and deletes a setting with audit events; level 3 cannot', async () => {
    const body = { setting_key: 'todos.max_per_user', setting_value: '1000', setting_type: 'integer' };
    expect((await api(stack.url, 'POST', '/admin/settings', { token: tokens.three, body })).status).toBe(403);
    const created = await api<{ id: string }>(stack.url, 'POST', '/admin/settings', { token: tokens.root, body });
    expect((await api(stack.url, 'POST', '/admin/settings', { token: tokens.root, body })).status).toBe(409);
    const bad = await api(stack.url, 'PATCH', '/admin/settings/todos.max_per_user', { token: tokens.root, body: { setting_value: 'lots' } });
    expect(bad.status).toBe(400);
    expect((await api(stack.url, 'PATCH', '/admin/settings/todos.max_per_user', { token: tokens.root, body: {} })).status).toBe(400);
    expect((await api<{ setting_value: string }>(stack.url, 'PATCH', '/admin/settings/todos.max_per_user', { token: tokens.root, body: { setting_value: '2000' } })).body.setting_value).toBe('2000');
    expect((await api(stack.url, 'DELETE', '/admin/settings/todos.max_per_user', { token: tokens.root })).status).toBe(204);
    expect((await api(stack.url, 'GET', '/admin/settings/todos.max_per_user', { token: tokens.root })).status).toBe(404);
    const [updated] = await auditRows({ entity: created.body.id }, 'setting_updated');
    expect([JSON.parse(updated!.previous).setting_value, JSON.parse(updated!.next).setting_value]).toEqual(['1000', '2000']);
    expectByRoot(updated!);
    const [deleted] = await auditRows({ entity: created.body.id }, 'setting_deleted');
    expect(deleted!.action_type).toBe('DELETE');
    expect((await api(stack.url, 'POST', '/admin/settings', { token: tokens.root, body: { ...body, setting_key: 'Bad Key' } })).status).toBe(400);
  });
});

describe('error logs and security events', () => {
  it('lists error logs by severity and resolution, and resolves one', async () => {
    // A validation failure is recorded as an error log.
    const { userId } = await signUp(stack.url, ns, 'erroneous@example.com');
    await api(stack.url, 'POST', `/admin/users/${userId}/suspend`, { token: tokens.root, body: { reason: '' } });
    const path = `/admin/users/${userId}/suspend`;
    const find = async (query: string) => {
      const res = await api<{ error_logs: { event_id: string; request_path: string }[] }>(stack.url, 'GET', `/admin/error-logs?${query}&limit=200`, { token: tokens.two });
      expect(res.status).toBe(200);
      return res.body.error_logs.find((e) => e.request_path === path);
    };
    const error = await eventually(() => find('severity=low&resolved=false'));
    expect(error).toMatchObject({ error_code: 'TODOAPP-VAL-001', severity_level: 'low', is_resolved: false, http_status_code: 400 });
    expect(await find('severity=critical')).toBeUndefined();

    const badNotes = await api(stack.url, 'POST', `/admin/error-logs/${error.event_id}/resolve`, { token: tokens.two, body: {} });
    expect(badNotes.status).toBe(400);
    const resolved = await api<{ resolved_verification_at: string | null }>(stack.url, 'POST', `/admin/error-logs/${error.event_id}/resolve`, {
      token: tokens.two,
      body: { resolution_notes: 'Empty reason; the message now says it is required.' },
    });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ event_id: error.event_id, is_resolved: true, resolution_notes: 'Empty reason; the message now says it is required.' });
    expect(resolved.body.resolved_verification_at).toEqual(expect.any(String));
    const { rows } = await pg.query(`SELECT kind, resolved_by_admin_id, resolution_notes FROM event_resolutions WHERE event_id = $1`, [error.event_id]);
    expect(rows).toEqual([{ kind: 'error_log', resolved_by_admin_id: expect.any(String), resolution_notes: 'Empty reason; the message now says it is required.' }]);

    expect(await find('resolved=false')).toBeUndefined();
    expect(await find('resolved=true')).toMatchObject({ is_resolved: true, resolution_notes: 'Empty reason; the message now says it is required.' });
    expect((await api(stack.url, 'POST', `/admin/error-logs/${error.event_id}/resolve`, { token: tokens.two, body: { resolution_notes: 'again' } })).status).toBe(409);
    expect((await api(stack.url, 'POST', '/admin/error-logs/00000000-0000-4000-8000-000000000000/resolve', { token: tokens.two, body: { resolution_notes: 'x' } })).status).toBe(404);

    const [audit] = await auditRows({ entity: error.event_id }, 'error_log_resolved');
    expect(audit!.entity_type).toBe('ERROR_LOG');
    expect(audit!.triggered_by_type).toBe('admin');
    expect([JSON.parse(audit!.previous), JSON.parse(audit!.next)]).toEqual([
      { is_resolved: false },
      { is_resolved: true, resolution_notes: 'Empty reason; the message now says it is required.', resolved_verification_at: resolved.body.resolved_verification_at },
    ]);
  });

  it('lists security events by severity, type and resolution, and resolves one as a false positive', async () => {
    for (let i = 0; i < 5; i++) await api(stack.url, 'POST', '/auth/login', { body: { email: 'hammered@example.com', password: 'wrong guess' } });
    const find = async (query: string) => {
      const res = await api<{ security_events: { event_id: string; user_email: string }[] }>(stack.url, 'GET', `/admin/security-events?${query}&limit=200`, { token: tokens.two });
      expect(res.status).toBe(200);
      return res.body.security_events.find((e) => e.user_email === 'hammered@example.com');
    };
    const event = await eventually(() => find('severity=high&type=AUTHENTICATION_FAILURE&resolved=false'));
    expect(event).toMatchObject({ action_taken: 'ACCOUNT_LOCKED', is_resolved: false, false_positive: false });
    expect(await find('severity=low')).toBeUndefined();
    expect((await api(stack.url, 'GET', '/admin/security-events?severity=bogus', { token: tokens.two })).status).toBe(400);
    expect((await api(stack.url, 'GET', '/admin/security-events?limit=100000', { token: tokens.two })).status).toBe(400);

    const route = `/admin/security-events/${event.event_id}/resolve`;
    expect((await api(stack.url, 'POST', route, { token: tokens.root, body: { analyst_notes: 'x', false_positive: 'yes' } })).status).toBe(400);
    const resolved = await api(stack.url, 'POST', route, { token: tokens.root, body: { analyst_notes: 'Load test from our QA range.', false_positive: true } });
    expect(resolved.body).toMatchObject({ is_resolved: true, false_positive: true, analyst_notes: 'Load test from our QA range.', resolved_by: rootId });
    expect((await pg.query('SELECT false_positive FROM event_resolutions WHERE kind = $1 AND event_id = $2', ['security_event', event.event_id])).rows).toEqual([{ false_positive: true }]);
    expect(await find('resolved=false')).toBeUndefined();
    expect(await find('resolved=true&type=AUTHENTICATION_FAILURE')).toMatchObject({ false_positive: true });

    const [audit] = await auditRows({ entity: event.event_id }, 'security_event_resolved');
    expect(audit!.entity_type).toBe('SECURITY_EVENT');
    expectByRoot(audit!);
    expect(JSON.parse(audit!.next)).toMatchObject({ is_resolved: true, false_positive: true });
  });

  it('needs admin_level 2 to resolve', async () => {
    const id = await createAdmin('one@admin.example', 1);
    const token = (await adminLogin('one@admin.example')).body.token;
    expect((await api(stack.url, 'GET', '/admin/error-logs', { token })).status).toBe(200);
    const refused = await api<ErrorBody>(stack.url, 'POST', '/admin/error-logs/00000000-0000-4000-8000-000000000000/resolve', { token, body: { resolution_notes: 'x' } });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toBe('this needs admin_level 2 or higher; yours is 1');
    expect(id).toBeTruthy();
  });
});

import { Pool } from 'pg';
import { AdminAccountService } from '../../src/features/admin/admin-account.service';
import { AdministratorRepository } from '../../src/features/admin/administrator.repository';
import { LoginGuard } from '../../src/features/auth/login-guard';
import { api, type ErrorBody } from '../helpers/accounts';
import { createApiKey, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('retentionapi');
let stack: Awaited<ReturnType<typeof startStack>>;
let pg: Pool;
let retentionKey: string;
const PASSWORD = 'admin passphrase of some length';

async function adminToken(email: string, level: number): Promise<string> {
  await new AdminAccountService(new AdministratorRepository(pg), new LoginGuard(pg)).create({ email, password: PASSWORD, admin_level: level });
  const login = await api<{ token: string }>(stack.url, 'POST', '/admin/login', { body: { email, password: PASSWORD } });
  expect(login.status).toBe(200);
  return login.body.token;
}

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  pg = new Pool({ connectionString: ns.databaseUrl, max: 2 });
  retentionKey = await createApiKey(ns, 'dpo', ['retention']);
});

afterAll(async () => {
  await pg?.end();
  await stack?.stop();
  await ns.cleanup();
});

describe('retention policies API', () => {
  it('lists every table’s policy with the documented defaults', async () => {
    const res = await api<{ policies: { table_name: string }[] }>(stack.url, 'GET', '/v1/retention-policies', { token: retentionKey });
    expect(res.status).toBe(200);
    const byTable = Object.fromEntries(res.body.policies.map((p: { table_name: string }) => [p.table_name, p]));
    expect(Object.keys(byTable)).toHaveLength(8);
    expect(byTable.audit_logs).toMatchObject({ retention_period_days: 2557, delete_after_days: 2557, archive_after_days: null, is_active: true, last_cleanup_at: null });
    expect(byTable.api_access_log).toMatchObject({ retention_period_days: 90 });
    expect(byTable.error_logs).toMatchObject({ retention_period_days: 365 });
  });

  it('a retention key changes a policy, and the change is audited with the old and new values', async () => {
    const res = await api(stack.url, 'PATCH', '/v1/retention-policies/api_access_log', {
      token: retentionKey,
      body: { retention_period_days: 180, archive_after_days: 30, delete_after_days: 200, reason: 'DPA amendment 4' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ table_name: 'api_access_log', retention_period_days: 180, archive_after_days: 30, delete_after_days: 200, is_active: true });
    const [event] = await eventually(async () => {
      const rows = await queryRows<{ previous: string; next: string; reason: string; entity_type: string; triggered_by_type: string }>(
        stack.clickhouse!,
        `SELECT toJSONString(previous_value) AS previous, toJSONString(new_value) AS next, reason, entity_type, triggered_by_type FROM audit_logs WHERE event_type = 'retention_policy_updated' AND entity_id = 'api_access_log'`,
      );
      return rows.length > 0 && rows;
    });
    expect(JSON.parse(event!.previous)).toMatchObject({ retention_period_days: 90, delete_after_days: 90 });
    // ClickHouse's JSON type keeps no nulls: "no archive" is an absent key.
    expect(JSON.parse(event!.previous).archive_after_days).toBeUndefined();
    expect(JSON.parse(event!.next)).toMatchObject({ retention_period_days: 180, archive_after_days: 30, delete_after_days: 200 });
    expect(event).toMatchObject({ reason: 'DPA amendment 4', entity_type: 'RETENTION_POLICY' });
  });

  it('refuses inconsistent or invalid policies and leaves the stored one as it was', async () => {
    const patch = (table: string, body: unknown) => api<ErrorBody>(stack.url, 'PATCH', `/v1/retention-policies/${table}`, { token: retentionKey, body });
    const early = await patch('error_logs', { delete_after_days: 100 });
    expect(early.status).toBe(400);
    expect(early.body.error.message).toMatch(/delete_after_days: must be at least retention_period_days \(365\)/);
    expect((await patch('error_logs', { archive_after_days: 400 })).status).toBe(400);
    expect((await patch('error_logs', { retention_period_days: -1 })).status).toBe(400);
    expect((await patch('error_logs', { retention_period_days: 1.5 })).status).toBe(400);
    expect((await patch('error_logs', {})).status).toBe(400);
    expect((await patch('error_logs', { is_active: false, drop: true })).status).toBe(400);
    expect((await patch('todos', { is_active: false })).status).toBe(400);
    const { rows } = await pg.query(`SELECT retention_period_days, archive_after_days, delete_after_days, is_active FROM data_retention_policies WHERE table_name = 'error_logs'`);
    expect(rows[0]).toEqual({ retention_period_days: 365, archive_after_days: null, delete_after_days: 365, is_active: true });
  });

  it('administrators need level 5 to change a policy; other keys get 403', async () => {
    const four = await adminToken('four@retention.example', 4);
    const five = await adminToken('five@retention.example', 5);
    expect((await api(stack.url, 'GET', '/v1/retention-policies', { token: four })).status).toBe(200);
    expect((await api(stack.url, 'PATCH', '/v1/retention-policies/user_sessions', { token: four, body: { is_active: false } })).status).toBe(403);
    const done = await api<{ is_active: boolean }>(stack.url, 'PATCH', '/v1/retention-policies/user_sessions', { token: five, body: { is_active: false } });
    expect(done.status).toBe(200);
    expect(done.body.is_active).toBe(false);
    const reportsKey = await createApiKey(ns, 'compliance', ['reports', 'admin']);
    expect((await api(stack.url, 'GET', '/v1/retention-policies', { token: reportsKey })).status).toBe(403);
    expect((await api(stack.url, 'PATCH', '/v1/retention-policies/user_sessions', { body: { is_active: true } })).status).toBe(401);
    const [event] = await eventually(async () => {
      const rows = await queryRows<{ triggered_by_type: string }>(
        stack.clickhouse!,
        `SELECT triggered_by_type FROM audit_logs WHERE event_type = 'retention_policy_updated' AND entity_id = 'user_sessions'`,
      );
      return rows.length > 0 && rows;
    });
    expect(event!.triggered_by_type).toBe('admin');
  });
});

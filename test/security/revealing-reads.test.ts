/**
 * Reads that reveal protected state and leave no trace. docs/security.md:
 * "Every action that changes or reveals protected state records one audit
 * event". An administrator from level 4 reads every encrypted setting's
 * value in the clear (GET /admin/settings, GET /admin/settings/:key), and
 * from level 1 lists up to 200 accounts' personal data at a time
 * (GET /admin/users), although viewing one account is recorded as
 * `user_viewed` "as it shows personal data". An insider (or a stolen admin
 * session) could walk off with the secrets and the user base unseen.
 */
import { Pool } from 'pg';
import { AdminAccountService } from '../../src/features/admin/admin-account.service';
import { AdministratorRepository } from '../../src/features/admin/administrator.repository';
import { LoginGuard } from '../../src/features/auth/login-guard';
import { api, signUp } from '../helpers/accounts';
import { queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('revealing-reads');
let stack: Awaited<ReturnType<typeof startStack>>;
let pg: Pool;
const ADMIN_PASSWORD = 'admin passphrase of some length';
const SECRET = 'sk_live_exfiltrated_without_a_trace';
let adminId = '';
let adminToken = '';

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  pg = new Pool({ connectionString: ns.databaseUrl, max: 2 });
  adminId = (await new AdminAccountService(new AdministratorRepository(pg), new LoginGuard(pg)).create({ email: 'insider@admin.example', password: ADMIN_PASSWORD, admin_level: 4 })).id;
  const login = await api<{ token: string }>(stack.url, 'POST', '/admin/login', { body: { email: 'insider@admin.example', password: ADMIN_PASSWORD } });
  expect(login.status).toBe(200);
  adminToken = login.body.token;
}, 60_000);
afterAll(async () => {
  await pg?.end();
  await stack?.stop();
  await ns.cleanup();
});

interface Row {
  event_type: string;
  action_type: string;
  entity_type: string;
  entity_id: string | null;
  next: string | null;
}

/** Creates a setting: an action recorded after the reads. Once its event has landed, so have any events of the reads. */
async function marker(key: string): Promise<string> {
  const created = await api<{ id: string }>(stack.url, 'POST', '/admin/settings', { token: adminToken, body: { setting_key: key, setting_value: 'x', setting_type: 'string' } });
  expect(created.status).toBe(201);
  return created.body.id;
}

/** The administrator's audit rows, once the setting_created of the marker setting `markerId` has arrived. */
async function adminRowsUpTo(markerId: string): Promise<Row[]> {
  return eventually(async () => {
    const rows = await queryRows<Row>(
      stack.clickhouse!,
      `SELECT event_type, action_type, entity_type, entity_id, toJSONString(new_value) AS next FROM audit_logs
       WHERE triggered_by_type = 'admin' AND triggered_by_id = {a:String} ORDER BY occurred_at`,
      { a: adminId },
    );
    return rows.some((r) => r.event_type === 'setting_created' && r.entity_id === markerId) && rows;
  });
}

it('reading an encrypted setting in the clear is recorded, never with its value', async () => {
  const created = await api<{ id: string }>(stack.url, 'POST', '/admin/settings', {
    token: adminToken,
    body: { setting_key: 'smtp.password', setting_value: SECRET, setting_type: 'string', is_encrypted: true },
  });
  expect(created.status).toBe(201);
  const one = await api<{ setting_value: string }>(stack.url, 'GET', '/admin/settings/smtp.password', { token: adminToken });
  expect(one.body.setting_value).toBe(SECRET);
  const all = await api<{ settings: { setting_value: string }[] }>(stack.url, 'GET', '/admin/settings', { token: adminToken });
  expect(all.body.settings.some((s) => s.setting_value === SECRET)).toBe(true);
  const rows = await adminRowsUpTo(await marker('marker.after_reads'));
  const reads = rows.filter((r) => r.entity_type === 'SYSTEM_SETTING' && r.action_type === 'READ' && r.entity_id === created.body.id);
  expect(reads.length).toBeGreaterThanOrEqual(2);
  expect(JSON.stringify(rows)).not.toContain(SECRET);
});

it('listing accounts is recorded as viewing one is', async () => {
  const { userId } = await signUp(stack.url, ns, 'listed-person@example.com');
  const listed = await api<{ users: { id: string; email: string }[] }>(stack.url, 'GET', '/admin/users?q=listed-person', { token: adminToken });
  expect(listed.body.users.map((u) => u.email)).toEqual(['listed-person@example.com']);
  const rows = await adminRowsUpTo(await marker('marker.after_list'));
  const reads = rows.filter((r) => r.entity_type === 'USER_ACCOUNT' && r.action_type === 'READ');
  // The listing names whom it showed.
  expect(reads.some((r) => (r.next ?? '').includes(userId))).toBe(true);
});

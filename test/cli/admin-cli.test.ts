import { Client } from 'pg';
import { api } from '../helpers/accounts';
import { runCli, runCliAsync } from '../helpers/child';
import { queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('admincli');
const PASSWORD = 'an operator passphrase';
let stack: Awaited<ReturnType<typeof startStack>> | undefined;

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

async function adminRow(email: string) {
  const pg = new Client({ connectionString: ns.databaseUrl });
  await pg.connect();
  try {
    return (await pg.query('SELECT id, admin_level, status, email_verified, password_hash FROM administrators WHERE email = $1', [email])).rows[0];
  } finally {
    await pg.end();
  }
}

describe('auditflow admin', () => {
  it('creates a verified level-5 administrator with an Argon2id hash and prints its id', async () => {
    const created = runCli(['admin', 'create', '--email', 'Boss@Example.com', '--password', PASSWORD], ns.env());
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const id = created.stdout.trim().split('\n').at(-1)!;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const row = await adminRow('boss@example.com');
    expect(row).toMatchObject({ id, admin_level: 5, status: 'active', email_verified: true });
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(created.stdout).not.toContain(PASSWORD);
  });

  it('refuses a duplicate email with a clear message and a non-zero exit code', () => {
    const again = runCli(['admin', 'create', '--email', 'boss@example.com', '--password', 'another passphrase'], ns.env());
    expect(again.code).not.toBe(0);
    expect(again.stderr.trim()).toBe('auditflow: an administrator with email boss@example.com already exists');
  });

  it('validates the level, email and password', () => {
    const level = runCli(['admin', 'create', '--email', 'x@example.com', '--password', PASSWORD, '--level', '9'], ns.env());
    expect(level.code).toBe(2);
    expect(level.stderr).toMatch(/admin_level: must be 1-5/);
    const email = runCli(['admin', 'create', '--email', 'not-an-email', '--password', PASSWORD], ns.env());
    expect(email.code).toBe(2);
    expect(email.stderr).toMatch(/email: must be a valid email address/);
    const short = runCli(['admin', 'create', '--email', 'y@example.com', '--password', 'short'], ns.env());
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/password: must be at least 10 characters/);
  });

  it('lists administrators with their level, never their hashes', () => {
    expect(runCli(['admin', 'create', '--email', 'reader@example.com', '--password', PASSWORD, '--level', '1'], ns.env()).code).toBe(0);
    const listed = runCli(['admin', 'list'], ns.env());
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/boss@example\.com {2}level 5 {2}active {2}never logged in/);
    expect(listed.stdout).toMatch(/reader@example\.com {2}level 1 {2}active/);
    expect(listed.stdout).not.toContain('argon2');
  });

  it('lets the created administrator log in over HTTP, and unlocks a locked-out one', async () => {
    stack = await startStack(ns);
    const login = await api<{ administrator: unknown }>(stack.url, 'POST', '/admin/login', { body: { email: 'boss@example.com', password: PASSWORD } });
    expect(login.status).toBe(200);
    expect(login.body.administrator).toMatchObject({ email: 'boss@example.com', admin_level: 5 });

    for (let i = 0; i < 5; i++) await api(stack.url, 'POST', '/admin/login', { body: { email: 'reader@example.com', password: 'wrong guess' } });
    expect((await api(stack.url, 'POST', '/admin/login', { body: { email: 'reader@example.com', password: PASSWORD } })).status).toBe(423);
    expect((await runCliAsync(['admin', 'list'], ns.env())).stdout).toMatch(/reader@example\.com .* locked until/);
    const unlocked = await runCliAsync(['admin', 'unlock', 'reader@example.com'], ns.env());
    expect(unlocked.code).toBe(0);
    expect((await api(stack.url, 'POST', '/admin/login', { body: { email: 'reader@example.com', password: PASSWORD } })).status).toBe(200);
    expect((await runCliAsync(['admin', 'unlock', 'nobody@example.com'], ns.env())).code).toBe(2);
  });

  it('suspends an administrator who leaves: every session of theirs ends at once, login is refused, and it is audited; reactivate lets them back', async () => {
    stack ??= await startStack(ns);
    expect((await runCliAsync(['admin', 'create', '--email', 'leaver@example.com', '--password', PASSWORD, '--level', '4'], ns.env())).code).toBe(0);
    const login = await api<{ token: string; administrator: { id: string } }>(stack.url, 'POST', '/admin/login', { body: { email: 'leaver@example.com', password: PASSWORD } });
    const { token } = login.body;
    expect((await api(stack.url, 'GET', '/todos', { token })).status).toBe(200);

    const suspended = await runCliAsync(['admin', 'suspend', 'Leaver@Example.com', '--reason', 'left the company'], ns.env());
    expect(suspended.stderr).toBe('');
    expect(suspended.code).toBe(0);
    expect(suspended.stdout).toMatch(/Suspended administrator leaver@example\.com; ended 1 session/);
    // The old token is dead everywhere, not only on the /admin routes that read the status.
    for (const [method, route] of [
      ['GET', '/admin/me'],
      ['GET', '/todos'],
      ['POST', '/auth/logout-all'],
    ] as const) {
      expect((await api(stack.url, method, route, { token })).status).toBe(401);
    }
    expect((await api(stack.url, 'POST', '/admin/login', { body: { email: 'leaver@example.com', password: PASSWORD } })).status).toBe(403);
    const event = await eventually(async () => {
      const rows = await queryRows<{ triggered_by_type: string; reason: string; previous: string; next: string }>(
        stack!.clickhouse!,
        `SELECT triggered_by_type, reason, toJSONString(previous_value) AS previous, toJSONString(new_value) AS next
           FROM audit_logs WHERE event_type = 'administrator_suspended' AND entity_id = {id:String}`,
        { id: login.body.administrator.id },
      );
      return rows[0];
    });
    expect(event).toMatchObject({ triggered_by_type: 'cli', reason: 'left the company' });
    expect(JSON.parse(event.next)).toMatchObject({ email: 'leaver@example.com', status: 'suspended' });

    const again = await runCliAsync(['admin', 'suspend', 'leaver@example.com', '--reason', 'twice'], ns.env());
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/is suspended and cannot be suspended/);
    expect((await runCliAsync(['admin', 'suspend', 'nobody@example.com', '--reason', 'x'], ns.env())).code).toBe(2);

    expect((await runCliAsync(['admin', 'reactivate', 'leaver@example.com'], ns.env())).code).toBe(0);
    expect((await api(stack.url, 'POST', '/admin/login', { body: { email: 'leaver@example.com', password: PASSWORD } })).status).toBe(200);
  }, 60_000);
});

/**
 * An administrator's password: changed by its owner, who suspects it leaked
 * (the sessions it may have opened for someone else end), or set by an
 * operator for one who forgot it or was locked out for good. Attacked with a
 * stolen session (no current password), guesses through the change route,
 * and a password on the operator's command line.
 */
import { Client } from 'pg';
import { api } from '../helpers/accounts';
import { runCliAsync } from '../helpers/child';
import { queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('adminpw');
let stack: Awaited<ReturnType<typeof startStack>>;
const PASSWORD = 'an operator passphrase';

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

async function createAdmin(email: string, level = 5): Promise<void> {
  const created = await runCliAsync(['admin', 'create', '--email', email, '--password-stdin', '--level', String(level)], ns.env(), `${PASSWORD}\n`);
  expect(created.stderr).toBe('');
  expect(created.code).toBe(0);
}

const login = (email: string, password: string) => api<{ token: string; administrator: { id: string } }>(stack.url, 'POST', '/admin/login', { body: { email, password } });
const change = (token: string, body: unknown) => api<{ status: string; ended_sessions: number }>(stack.url, 'POST', '/admin/password/change', { token, body });

async function auditEvent(type: string, id: string) {
  return eventually(async () => {
    const rows = await queryRows<{ triggered_by_type: string; triggered_by_id: string; previous: string; next: string; metadata: string }>(
      stack.clickhouse!,
      `SELECT triggered_by_type, triggered_by_id, toJSONString(previous_value) AS previous, toJSONString(new_value) AS next, toJSONString(metadata) AS metadata
         FROM audit_logs WHERE event_type = {type:String} AND entity_id = {id:String}`,
      { type, id },
    );
    return rows[0];
  });
}

describe('an administrator changes their own password', () => {
  it('with the current one: the old stops working, every other session ends, and it is audited with them as the actor', async () => {
    await createAdmin('owner@admin.example', 2);
    const here = await login('owner@admin.example', PASSWORD);
    const elsewhere = await login('owner@admin.example', PASSWORD);
    const changed = await change(here.body.token, { current_password: PASSWORD, new_password: 'a brand new passphrase' });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({ status: 'password_changed', ended_sessions: 1 });

    expect((await api(stack.url, 'GET', '/admin/me', { token: elsewhere.body.token })).status).toBe(401);
    expect((await api(stack.url, 'GET', '/admin/me', { token: here.body.token })).status).toBe(200);
    expect((await login('owner@admin.example', PASSWORD)).status).toBe(401);
    expect((await login('owner@admin.example', 'a brand new passphrase')).status).toBe(200);

    const event = await auditEvent('administrator_password_changed', here.body.administrator.id);
    expect(event).toMatchObject({ triggered_by_type: 'admin', triggered_by_id: here.body.administrator.id });
    expect(JSON.parse(event.next)).toMatchObject({ email: 'owner@admin.example', password_changed_at: expect.any(String) });
    expect(JSON.parse(event.metadata)).toMatchObject({ ended_sessions: 1 });
    // Neither password is in the record.
    expect(JSON.stringify(event)).not.toMatch(/passphrase/);
  });

  it('a stolen session cannot change it without the current password, and guesses there count toward the lockout', async () => {
    await createAdmin('stolen@admin.example');
    const { token } = (await login('stolen@admin.example', PASSWORD)).body;
    expect((await change(token, { new_password: 'the thief picks this' })).status).toBe(400);
    for (let i = 0; i < 5; i++) {
      expect((await change(token, { current_password: `guess ${i}`, new_password: 'the thief picks this' })).status).toBe(401);
    }
    // Locked as a login would be: the route is no way around the lockout.
    expect((await change(token, { current_password: PASSWORD, new_password: 'the thief picks this' })).status).toBe(423);
    expect((await login('stolen@admin.example', PASSWORD)).status).toBe(423);
    const failures = await eventually(async () => {
      const rows = await queryRows<{ n: string }>(
        stack.clickhouse!,
        "SELECT count() AS n FROM failed_login_attempts WHERE email_address = 'stolen@admin.example' AND toJSONString(metadata) LIKE '%password_change%'",
      );
      return Number(rows[0]!.n) >= 5 ? rows : null;
    });
    expect(Number(failures[0]!.n)).toBeGreaterThanOrEqual(5);
  });

  it('refuses a weak new password and a user session, and changes nothing', async () => {
    await createAdmin('weak@admin.example');
    const { token } = (await login('weak@admin.example', PASSWORD)).body;
    const weak = await change(token, { current_password: PASSWORD, new_password: 'short' });
    expect(weak.status).toBe(400);
    expect(JSON.stringify(weak.body)).toMatch(/at least 10 characters/);
    expect((await change(token, { current_password: PASSWORD, new_password: 'long enough passphrase', admin_level: 5 })).status).toBe(400);
    expect((await login('weak@admin.example', PASSWORD)).status).toBe(200);
    expect((await change('not-a-token', { current_password: PASSWORD, new_password: 'long enough passphrase' })).status).toBe(401);
  });
});

describe('auditflow admin set-password', () => {
  it('reads the password from stdin, lifts the login lock, ends every session, and records the operator', async () => {
    await createAdmin('forgot@admin.example');
    const old = await login('forgot@admin.example', PASSWORD);
    // An attacker who knows the email keeps the administrator locked out.
    for (let i = 0; i < 5; i++) await login('forgot@admin.example', `guess ${i}`);
    expect((await login('forgot@admin.example', PASSWORD)).status).toBe(423);

    const set = await runCliAsync(['admin', 'set-password', 'Forgot@Admin.example', '--password-stdin'], ns.env(), 'the operator sets this one\n');
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/Set the password of administrator forgot@admin\.example; ended 1 session/);
    expect(set.stdout).not.toContain('the operator sets this one');

    expect((await api(stack.url, 'GET', '/admin/me', { token: old.body.token })).status).toBe(401);
    expect((await login('forgot@admin.example', PASSWORD)).status).toBe(401);
    expect((await login('forgot@admin.example', 'the operator sets this one')).status).toBe(200);

    const event = await auditEvent('administrator_password_set', old.body.administrator.id);
    expect(event.triggered_by_type).toBe('cli');
    expect(JSON.parse(event.next)).toMatchObject({ email: 'forgot@admin.example', password_changed_at: expect.any(String) });
    expect(JSON.parse(event.metadata)).toMatchObject({ command: 'admin set-password', ended_sessions: 1, lock_lifted: true });
  });

  it('refuses a weak password, both sources at once, and an unknown administrator, changing nothing', async () => {
    await createAdmin('kept@admin.example');
    const hashBefore = await passwordHash('kept@admin.example');
    const weak = await runCliAsync(['admin', 'set-password', 'kept@admin.example', '--password-stdin'], ns.env(), 'short\n');
    expect(weak.code).toBe(2);
    expect(weak.stderr).toMatch(/password: must be at least 10 characters/);
    const both = await runCliAsync(['admin', 'set-password', 'kept@admin.example', '--password-stdin', '--password', 'long enough passphrase'], ns.env(), 'x\n');
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/not both/);
    const unknown = await runCliAsync(['admin', 'set-password', 'nobody@admin.example', '--password-stdin'], ns.env(), 'long enough passphrase\n');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no administrator with email nobody@admin\.example/);
    expect(await passwordHash('kept@admin.example')).toBe(hashBefore);
  });
});

async function passwordHash(email: string): Promise<string> {
  const pg = new Client({ connectionString: ns.databaseUrl });
  await pg.connect();
  try {
    return (await pg.query('SELECT password_hash FROM administrators WHERE email = $1', [email])).rows[0].password_hash;
  } finally {
    await pg.end();
  }
}

/**
 * A pending email change outlives the account being shut: a thief who had the
 * password and a session asked for the account's email to move to their own
 * address; the administrator then suspends the account (or the owner deletes
 * it). The confirmation link in the thief's mailbox still moved the email,
 * after which the account's reset links go to the thief: a reset (allowed on
 * a suspended account) hands them the password for when it is reactivated,
 * and a deleted account can be restored by them under their address.
 */
import { Pool } from 'pg';
import { AdminAccountService } from '../../src/features/admin/admin-account.service';
import { AdministratorRepository } from '../../src/features/admin/administrator.repository';
import { LoginGuard } from '../../src/features/auth/login-guard';
import { api, lastMailTo, signUp, tokenFromMail } from '../helpers/accounts';
import { startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

const ns = createNamespace('email-shutdown');
let stack: Awaited<ReturnType<typeof startStack>>;
let pg: Pool;
let adminToken = '';
const PASSWORD = 'correct horse battery staple';
const ADMIN_PASSWORD = 'admin passphrase of some length';

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  pg = new Pool({ connectionString: ns.databaseUrl, max: 2 });
  await new AdminAccountService(new AdministratorRepository(pg), new LoginGuard(pg)).create({ email: 'ops@admin.example', password: ADMIN_PASSWORD, admin_level: 3 });
  const login = await api<{ token: string }>(stack.url, 'POST', '/admin/login', { body: { email: 'ops@admin.example', password: ADMIN_PASSWORD } });
  expect(login.status).toBe(200);
  adminToken = login.body.token;
}, 60_000);
afterAll(async () => {
  await pg?.end();
  await stack?.stop();
  await ns.cleanup();
});

/** The owner's account, with an email change to `thief` asked for by whoever held the password and a session. */
async function pendingChange(owner: string, thief: string): Promise<{ token: string; userId: string; confirm: string }> {
  const { token, userId } = await signUp(stack.url, ns, owner);
  expect((await api(stack.url, 'POST', '/me/email', { token, body: { new_email: thief, password: PASSWORD } })).status).toBe(202);
  return { token, userId, confirm: tokenFromMail(await lastMailTo(ns, thief, /Confirm/)) };
}
const confirmChange = (confirm: string) => api(stack.url, 'POST', '/auth/email/confirm', { body: { token: confirm } });
const emailOf = async (userId: string) => (await pg.query<{ email: string }>('SELECT email FROM users WHERE id = $1', [userId])).rows[0]!.email;

describe('a pending email change dies with the account being shut', () => {
  it('an administrator suspending the account voids it: the thief cannot take the account over for when it is reactivated', async () => {
    const { userId, confirm } = await pendingChange('suspended-owner@example.com', 'thief-s@example.com');
    const suspended = await api(stack.url, 'POST', `/admin/users/${userId}/suspend`, { token: adminToken, body: { reason: 'compromised' } });
    expect(suspended.status).toBe(200);

    // The thief follows the link in their mailbox, then asks for a reset link at what would now be the account's address.
    const confirmed = await confirmChange(confirm);
    expect((await api(stack.url, 'POST', '/auth/password/forgot', { body: { email: 'thief-s@example.com' } })).status).toBe(202);
    const resetMail = await lastMailTo(ns, 'thief-s@example.com', /Reset/).catch(() => null);
    if (resetMail) await api(stack.url, 'POST', '/auth/password/reset', { body: { token: tokenFromMail(resetMail), password: 'the thief chose this one' } });
    // The owner has talked to the administrator, who lets the account back in.
    expect((await api(stack.url, 'POST', `/admin/users/${userId}/reactivate`, { token: adminToken, body: { reason: 'owner verified' } })).status).toBe(200);

    expect(confirmed.status).toBeGreaterThanOrEqual(400);
    expect(await emailOf(userId)).toBe('suspended-owner@example.com');
    expect((await api(stack.url, 'POST', '/auth/login', { body: { email: 'thief-s@example.com', password: 'the thief chose this one' } })).status).toBe(401);
    expect((await api(stack.url, 'POST', '/auth/login', { body: { email: 'suspended-owner@example.com', password: PASSWORD } })).status).toBe(200);
  });

  it('the owner deleting the account voids it, so the thief cannot restore it under their address', async () => {
    const { token, userId, confirm } = await pendingChange('deleted-owner@example.com', 'thief-d@example.com');
    expect((await api(stack.url, 'DELETE', '/me', { token, body: { password: PASSWORD } })).status).toBe(200);

    const res = await confirmChange(confirm);
    const restored = await api<{ token?: string }>(stack.url, 'POST', '/auth/restore', { body: { email: 'thief-d@example.com', password: PASSWORD } });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(await emailOf(userId)).toBe('deleted-owner@example.com');
    expect(restored.status).toBe(401);
    expect(restored.body.token).toBeUndefined();
  });
});

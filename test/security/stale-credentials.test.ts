/**
 * Mailed credentials that outlive what they were issued under, each replayed
 * against the real API: a reset link after the password changed, the email
 * changed or the account was deleted, and a login code asked for with a
 * password the owner has since replaced.
 */
import { Client } from 'pg';
import { api, lastMailTo, type LoginAnswer, signUp, tokenFromMail } from '../helpers/accounts';
import { startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

const ns = createNamespace('stalecreds');
let stack: Awaited<ReturnType<typeof startStack>>;
const PASSWORD = 'correct horse battery staple';

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

async function sql(text: string, params: unknown[] = []): Promise<void> {
  const client = new Client({ connectionString: ns.databaseUrl });
  await client.connect();
  try {
    await client.query(text, params);
  } finally {
    await client.end();
  }
}

const login = (email: string, password: string, headers: Record<string, string> = {}) => api<LoginAnswer>(stack.url, 'POST', '/auth/login', { headers, body: { email, password } });
const resetWith = (token: string, password: string) => api(stack.url, 'POST', '/auth/password/reset', { body: { token, password } });

/** Asks for a reset link for `email` and returns its token (the link in the mail). */
async function resetLink(email: string): Promise<string> {
  expect((await api(stack.url, 'POST', '/auth/password/forgot', { body: { email } })).status).toBe(202);
  return tokenFromMail(await lastMailTo(ns, email, /Reset/));
}

describe('a reset link dies with what it was mailed under', () => {
  it('a password change voids a reset link mailed before it', async () => {
    const email = 'changed-then-reset@example.com';
    const { token } = await signUp(stack.url, ns, email);
    const link = await resetLink(email);
    // The owner, suspecting a leak, changes the password while signed in.
    expect((await api(stack.url, 'POST', '/auth/password/change', { token, body: { current_password: PASSWORD, new_password: 'owner chose a new one' } })).status).toBe(200);
    expect((await resetWith(link, 'thief sets this one')).status).toBe(400);
    expect((await login(email, 'owner chose a new one')).status).toBe(200);
  });

  it('an email change voids a reset link mailed to the old address', async () => {
    const { token } = await signUp(stack.url, ns, 'left-behind@example.com');
    // Whoever reads the old mailbox asked for a link before the owner moved away from it.
    const link = await resetLink('left-behind@example.com');
    expect((await api(stack.url, 'POST', '/me/email', { token, body: { new_email: 'moved-on@example.com', password: PASSWORD } })).status).toBe(202);
    const confirm = tokenFromMail(await lastMailTo(ns, 'moved-on@example.com', /Confirm/));
    expect((await api(stack.url, 'POST', '/auth/email/confirm', { body: { token: confirm } })).status).toBe(200);

    expect((await resetWith(link, 'old mailbox takes over')).status).toBe(400);
    expect((await login('moved-on@example.com', 'old mailbox takes over')).status).toBe(401);
    expect((await login('moved-on@example.com', PASSWORD)).status).toBe(200);
  });

  it('a deleted account cannot be reset by a link mailed before the deletion', async () => {
    const email = 'reset-after-delete@example.com';
    const { token } = await signUp(stack.url, ns, email);
    const link = await resetLink(email);
    expect((await api(stack.url, 'DELETE', '/me', { token, body: { password: PASSWORD } })).status).toBe(200);
    // Forgot-password mails no link for a deleted account; an older link must not stand in for one.
    expect((await resetWith(link, 'restored by the link')).status).toBe(400);
    expect((await api(stack.url, 'POST', '/auth/restore', { body: { email, password: 'restored by the link' } })).status).toBe(401);
  });
});

describe('a login code asked for with the old password', () => {
  /** A login with the right password from a new network, after the risk worker asked for a step-up: the challenge and its mailed code. */
  async function pendingChallenge(email: string, ip: string): Promise<{ session: string; pending: { challenge: string; code: string } }> {
    const { token, userId } = await signUp(stack.url, ns, email);
    await sql(`UPDATE users SET step_up_required_at = now() WHERE id = $1`, [userId]);
    const asked = await login(email, PASSWORD, { 'x-forwarded-for': ip });
    expect(asked.body.error).toMatchObject({ code: 'STEP_UP_REQUIRED' });
    const code = /Your login code: (\d{6})/.exec(await lastMailTo(ns, email, /login code/))![1]!;
    return { session: token, pending: { challenge: asked.body.error!.details.challenge, code } };
  }
  const confirm = (c: { challenge: string; code: string }) => api<LoginAnswer>(stack.url, 'POST', '/auth/login/confirm', { body: c });

  it('opens no session once the owner has reset the password (as the code mail tells them to)', async () => {
    const email = 'phished-code@example.com';
    // The thief has the password and talks the owner out of the code.
    const { pending } = await pendingChallenge(email, '198.51.100.31');
    expect((await resetWith(await resetLink(email), 'owner chose a new one')).status).toBe(200);
    const res = await confirm(pending);
    expect(res.status).toBe(401);
    expect(res.body.token).toBeUndefined();
  });

  it('opens no session once the owner has changed the password', async () => {
    const email = 'phished-code-2@example.com';
    const { session, pending } = await pendingChallenge(email, '198.51.100.32');
    expect((await api(stack.url, 'POST', '/auth/password/change', { token: session, body: { current_password: PASSWORD, new_password: 'owner chose a new one' } })).status).toBe(200);
    const res = await confirm(pending);
    expect(res.status).toBe(401);
    expect(res.body.token).toBeUndefined();
  });
});

describe('a session whose row landed after its user was shut out', () => {
  // Suspending or deleting an account ends its sessions; a login racing the change can insert its session
  // just after. Its end state is made here directly: the status changed, the session still active.
  it.each(['suspended', 'deleted'])('is refused once the user is %s', async (status) => {
    const { token, userId } = await signUp(stack.url, ns, `raced-${status}@example.com`);
    expect((await api(stack.url, 'GET', '/me', { token })).status).toBe(200);
    await sql('UPDATE users SET status = $2 WHERE id = $1', [userId, status]);
    expect((await api(stack.url, 'GET', '/me', { token })).status).toBe(401);
    expect((await api(stack.url, 'GET', '/todos', { token })).status).toBe(401);
  });
});

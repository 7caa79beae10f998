/**
 * The hourly mail cap of an address (10) is spent by anyone with an account:
 * POST /me/email mails a confirmation link to whatever new address it is
 * given, and no limit bounds how often or to which address. Ten of them at a
 * victim's address use up the victim's cap, and the password reset the owner
 * then asks for is silently dropped. Kept up (ten requests an hour) beside
 * five guesses every lock, this defeats "a password reset lifts the lock:
 * whoever holds the mailbox can always get back in" until the lock becomes
 * permanent (docs/security.md, "Why lockout cannot keep a user out forever").
 */
import fs from 'node:fs';
import path from 'node:path';
import { api, lastMailTo, signUp } from '../helpers/accounts';
import { startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

const ns = createNamespace('email-mail-cap');
let stack: Awaited<ReturnType<typeof startStack>>;
const PASSWORD = 'correct horse battery staple';

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

/** Mail files addressed to `to`. */
const mailsTo = (to: string) => {
  const dir = path.join(ns.dataDir, 'mail');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.includes(`-${to}-`)).length : 0;
};

it('email-change requests aimed at a victim cannot use up the mail cap that the victim needs for a password reset', async () => {
  const victim = 'mailbox-owner@example.com';
  await signUp(stack.url, ns, victim);
  // The attacker's own account, registered from another address.
  const { token } = await signUp(stack.url, ns, 'mail-flooder@example.com');
  const answers: number[] = [];
  for (let i = 0; i < 12; i++) {
    answers.push((await api(stack.url, 'POST', '/me/email', { token, body: { new_email: victim, password: PASSWORD }, headers: { 'x-forwarded-for': `203.0.113.${i + 1}` } })).status);
  }
  // However many of them were taken, the owner's reset link must still arrive.
  const before = mailsTo(victim);
  expect((await api(stack.url, 'POST', '/auth/password/forgot', { body: { email: victim }, headers: { 'x-forwarded-for': '198.51.100.200' } })).status).toBe(202);
  const mail = await lastMailTo(ns, victim, /Reset/).catch(() => null);
  expect({ answers, reset_mail_arrived: mail !== null, mails_after_the_flood: mailsTo(victim) - before }).toMatchObject({ reset_mail_arrived: true, mails_after_the_flood: 1 });
});

import { Client } from 'pg';
import { api, lastMailTo, type LoginAnswer, signUp } from '../helpers/accounts';
import { queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

// Step-up for our own users, end to end: the risk worker scores an attempt step_up →
// users.step_up_required_at → the next login from an unfamiliar device or network must
// confirm a code mailed to the account; familiar logins go through.
const ns = createNamespace('stepup');
let stack: Awaited<ReturnType<typeof startStack>>;
const email = 'stepper@example.com';
const password = 'correct horse battery staple';
let userId: string;

async function stepUpRequiredAt(): Promise<Date | null> {
  const client = new Client({ connectionString: ns.databaseUrl });
  await client.connect();
  try {
    return (await client.query(`SELECT step_up_required_at FROM users WHERE id = $1`, [userId])).rows[0].step_up_required_at;
  } finally {
    await client.end();
  }
}

const login = (ip: string, device: string, pw = password) =>
  api<LoginAnswer>(stack.url, 'POST', '/auth/login', { headers: { 'x-forwarded-for': ip }, body: { email, password: pw, device_fingerprint: device } });

/** Waits until the risk worker has scored `n` login successes of the user. */
const scoredSuccesses = (n: number) =>
  eventually(async () => {
    const rows = await queryRows<{ n: number }>(
      stack.clickhouse!,
      `SELECT count() AS n FROM auth_audit_log WHERE user_id = {u:String} AND event_type = 'login_success' AND risk_decided_at IS NOT NULL`,
      { u: userId },
    );
    return rows[0]!.n >= n;
  });

/** The second half of the login, from the same client. */
const confirm = (ip: string, challenge: string, code: string) => api<{ token: string }>(stack.url, 'POST', '/auth/login/confirm', { headers: { 'x-forwarded-for': ip }, body: { challenge, code } });

const codeFromMail = async () => /Your login code: (\d{6})/.exec(await lastMailTo(ns, email, /login code/))![1]!;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  ({ userId } = await signUp(stack.url, ns, email, password));
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

it('after a step_up decision, a login from a new device needs the mailed code; one from a known device and network does not', async () => {
  expect((await login('10.20.0.5', 'laptop')).status).toBe(200);
  await scoredSuccesses(2); // the sign-up's login and this one: laptop on 10.20.0.0/24 is known now
  expect(await stepUpRequiredAt()).toBeNull();

  // Someone else tries the password from a new device and network: medium risk, step_up.
  expect((await login('198.18.40.1', 'evil-pc', 'wrong password 1')).status).toBe(401);
  const asked = await eventually(stepUpRequiredAt);
  expect(asked).toBeInstanceOf(Date);

  // The owner, from the laptop at home: familiar, no code.
  expect((await login('10.20.0.5', 'laptop')).status).toBe(200);

  // A new phone on its carrier's network: the password is right, but a code is mailed and the login waits for it.
  const challenged = await login('10.55.0.9', 'new-phone');
  expect(challenged.status).toBe(401);
  expect(challenged.body.error).toMatchObject({ code: 'STEP_UP_REQUIRED', details: { method: 'email_code', expires_in_seconds: 600 } });
  const code = await codeFromMail();

  // A wrong code voids the challenge: even the right code cannot use it afterwards.
  const wrong = code === '000000' ? '000001' : '000000';
  expect((await confirm('10.55.0.9', challenged.body.error!.details.challenge, wrong)).status).toBe(401);
  expect((await confirm('10.55.0.9', challenged.body.error!.details.challenge, code)).status).toBe(401);

  const again = await login('10.55.0.9', 'new-phone');
  expect(again.body.error!.code).toBe('STEP_UP_REQUIRED');
  const confirmed = await confirm('10.55.0.9', again.body.error!.details.challenge, await codeFromMail());
  expect(confirmed.status).toBe(200);
  expect((await api<{ id: string }>(stack.url, 'GET', '/me', { token: confirmed.body.token })).body.id).toBe(userId);
  expect(await stepUpRequiredAt()).toBeNull();

  // The confirmed login is scored step_up too (new device and network) but, having passed a step-up, asks for none.
  await scoredSuccesses(4);
  const [row] = await queryRows<{ risk_action: string }>(
    stack.clickhouse!,
    `SELECT risk_action FROM auth_audit_log WHERE user_id = {u:String} AND event_type = 'login_success' ORDER BY received_at DESC LIMIT 1`,
    { u: userId },
  );
  expect(row).toEqual({ risk_action: 'step_up' });
  await new Promise((r) => setTimeout(r, 1000)); // enforcement runs beside the row's write
  expect(await stepUpRequiredAt()).toBeNull();
  expect((await login('10.77.0.1', 'other-pc')).status).toBe(200);
}, 60_000);

it('an attacker on a familiar network cannot skip the code by naming no device: once the account has known devices, none named is not one of them', async () => {
  const victim = 'nodevice@example.com';
  const { userId: victimId } = await signUp(stack.url, ns, victim, password);
  const as = (ip: string, device: string | null, pw = password) =>
    api<LoginAnswer>(stack.url, 'POST', '/auth/login', { headers: { 'x-forwarded-for': ip }, body: { email: victim, password: pw, ...(device ? { device_fingerprint: device } : {}) } });
  expect((await as('10.30.0.5', 'laptop')).status).toBe(200);
  await eventually(async () => {
    const rows = await queryRows<{ n: number }>(
      stack.clickhouse!,
      `SELECT count() AS n FROM auth_audit_log WHERE user_id = {u:String} AND event_type = 'login_success' AND risk_decided_at IS NOT NULL`,
      { u: victimId },
    );
    return rows[0]!.n >= 2;
  });
  // A guess from elsewhere asks the account for a step-up.
  expect((await as('198.18.41.1', 'evil-pc', 'wrong password 1')).status).toBe(401);
  await eventually(async () => {
    const client = new Client({ connectionString: ns.databaseUrl });
    await client.connect();
    try {
      return (await client.query(`SELECT step_up_required_at FROM users WHERE id = $1`, [victimId])).rows[0].step_up_required_at !== null;
    } finally {
      await client.end();
    }
  });
  // The same attacker, now on the victim's office network: a new device is asked for the code, and so is no device.
  expect((await as('10.30.0.77', 'evil-pc')).body.error?.code).toBe('STEP_UP_REQUIRED');
  const bare = await as('10.30.0.77', null);
  expect(bare.status).toBe(401);
  expect(bare.body.error?.code).toBe('STEP_UP_REQUIRED');
  // The owner's laptop still goes through.
  expect((await as('10.30.0.5', 'laptop')).status).toBe(200);
}, 60_000);

import { Client } from 'pg';
import { api, signUp } from '../helpers/accounts';
import { startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

// lockout.threshold (5) failed logins within lockout.window_minutes (15) lock the login
// (docs/security.md, "Lockout"). The login guard used to count them in a fixed window that starts at
// the first failure and restarts from zero once it has passed: one guess, then three just before
// the window ends and four just after it makes seven wrong passwords within a few seconds, five
// of them within any 15 minutes, and no lock.
const ns = createNamespace('lockout-window');
let stack: Awaited<ReturnType<typeof startStack>>;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

async function pg<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ns.databaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Moves the email's failures `seconds` into the past, as if that much time had gone by since they were made. */
const elapse = (email: string, seconds: number) =>
  pg((c) =>
    c.query(
      `UPDATE login_throttle SET window_started_at = window_started_at - make_interval(secs => $2),
         failed_at = ARRAY(SELECT t - make_interval(secs => $2) FROM unnest(failed_at) AS t ORDER BY t) WHERE email = $1`,
      [email, seconds],
    ),
  );

it('five wrong passwords within the window lock the login, however they straddle the end of the first failure’s window', async () => {
  const email = 'edge@example.com';
  const { userId } = await signUp(stack.url, ns, email);
  const guess = (n: number) => api(stack.url, 'POST', '/auth/login', { headers: { 'x-forwarded-for': '198.18.90.1' }, body: { email, password: `wrong password ${n}` } });

  // One guess; 14 min 50 s later, three more: four in the window, no lock yet.
  expect((await guess(1)).status).toBe(401);
  await elapse(email, 14 * 60 + 50);
  for (const n of [2, 3, 4]) expect((await guess(n)).status).toBe(401);

  // 15 seconds later: guesses 2-4 were made 15 s ago, so the next two are the 5th and 6th within 15 minutes.
  await elapse(email, 15);
  const statuses = [];
  for (const n of [5, 6, 7, 8]) statuses.push((await guess(n)).status);
  expect(statuses).toContain(423);
  const user = await pg(async (c) => (await c.query('SELECT locked_until FROM users WHERE id = $1', [userId])).rows[0]);
  expect(user.locked_until).toBeInstanceOf(Date);
}, 60_000);

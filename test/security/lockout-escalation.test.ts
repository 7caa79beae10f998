/**
 * Locks escalate (15, 30, 60, 120, 240 minutes, then permanent), so anyone
 * who knows an email could keep its owner out for good: after an operator's
 * unlock, five more wrong guesses made the next lock permanent again, as the
 * count of earlier locks survived the unlock. The escalation now counts the
 * locks since the last clearance: an unlock, a password set or reset, or the
 * owner's own successful login. A sustained attack with none of those in
 * between still ends in a permanent lock. Administrators and users alike.
 */
import { Client, Pool } from 'pg';
import { ensureDatabase } from '../../src/lib/pg';
import { migratePostgres } from '../../src/lib/pg-migrations';
import { api, lastMailTo, signUp, tokenFromMail } from '../helpers/accounts';
import { runCliAsync } from '../helpers/child';
import { queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('lockescalation');
let stack: Awaited<ReturnType<typeof startStack>>;
const ADMIN_PASSWORD = 'an operator passphrase';
const USER_PASSWORD = 'correct horse battery staple';
/** The default policy's locks, in minutes, until the sixth is permanent. */
const SUSTAINED = [15, 30, 60, 120, 240, 'permanent'];

beforeAll(async () => {
  // Every attacker and owner here is 127.0.0.1: the hourly per-IP limit of /admin/login (100) is not under test.
  await ensureDatabase(ns.databaseUrl);
  const pool = new Pool({ connectionString: ns.databaseUrl, max: 1 });
  try {
    await migratePostgres(pool);
    await pool.query(`INSERT INTO system_settings (setting_key, setting_value, setting_type) VALUES ('rate_limit.admin_login.per_ip', '10000', 'integer')`);
  } finally {
    await pool.end();
  }
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

async function sql(text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const pg = new Client({ connectionString: ns.databaseUrl });
  await pg.connect();
  try {
    return (await pg.query(text, params)).rows;
  } finally {
    await pg.end();
  }
}

interface Account {
  email: string;
  password: string;
  login: (email: string, password: string) => ReturnType<typeof api<{ token?: string }>>;
  /** Where its lock is kept besides login_throttle, and its throttle key. */
  table: 'administrators' | 'users';
  key: string;
}

async function administrator(email: string, level = 5): Promise<Account & { id: string }> {
  const created = await runCliAsync(['admin', 'create', '--email', email, '--password-stdin', '--level', String(level)], ns.env(), `${ADMIN_PASSWORD}\n`);
  expect(created.code).toBe(0);
  const login = (e: string, password: string) => api<{ token?: string }>(stack.url, 'POST', '/admin/login', { body: { email: e, password } });
  return { email, password: ADMIN_PASSWORD, login, table: 'administrators', key: `admin:${email}`, id: created.stdout.trim().split('\n').at(-1)! };
}

async function user(email: string): Promise<Account & { id: string }> {
  const { userId } = await signUp(stack.url, ns, email, USER_PASSWORD);
  const login = (e: string, password: string) => api<{ token?: string }>(stack.url, 'POST', '/auth/login', { body: { email: e, password } });
  return { email, password: USER_PASSWORD, login, table: 'users', key: email, id: userId };
}

/**
 * The attacker's five wrong guesses, the fifth of which locks; then the
 * owner's right password is refused, and its Retry-After tells the lock's
 * length: minutes, or `permanent` (a permanent lock has none).
 */
async function fiveGuesses(a: Account): Promise<number | 'permanent'> {
  for (let i = 0; i < 5; i++) expect((await a.login(a.email, `attacker guess ${i}`)).status).toBe(401);
  const refused = await a.login(a.email, a.password);
  expect(refused.status).toBe(423);
  const retryAfter = refused.headers.get('retry-after');
  return retryAfter === null ? 'permanent' : Math.round(Number(retryAfter) / 60);
}

/** The lock's time passes (an expiry is not a clearance: the escalation goes on). */
async function lockRunsOut(a: Account): Promise<void> {
  await sql(`UPDATE login_throttle SET locked_until = now() - interval '1 second' WHERE email = $1`, [a.key]);
  await sql(`UPDATE ${a.table} SET locked_until = now() - interval '1 second' WHERE email = $1`, [a.email]);
}

/** `rounds` rounds of five guesses, each once the lock before ran out; the length of each lock. */
async function sustainedAttack(a: Account, rounds: number): Promise<(number | 'permanent')[]> {
  const locks: (number | 'permanent')[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round > 0) await lockRunsOut(a);
    locks.push(await fiveGuesses(a));
  }
  return locks;
}

/** The audit event of this type about this account, by this kind of actor (the lock sweeper announces each expiry too, as `system`). */
async function auditEvent(type: string, where: { entity?: string; user?: string }, by: 'cli' | 'admin' | 'user') {
  return eventually(async () => {
    const rows = await queryRows<{ triggered_by_type: string; previous: string; next: string; metadata: string }>(
      stack.clickhouse!,
      `SELECT triggered_by_type, toJSONString(previous_value) AS previous, toJSONString(new_value) AS next, toJSONString(metadata) AS metadata
         FROM audit_logs WHERE event_type = {t:String} AND (entity_id = {e:String} OR user_id = {u:String}) AND triggered_by_type = {by:String}`,
      { t: type, e: where.entity ?? '-', u: where.user ?? '-', by },
    );
    return rows[0] && { ...rows[0], previous: JSON.parse(rows[0].previous), next: JSON.parse(rows[0].next), metadata: JSON.parse(rows[0].metadata) };
  });
}

describe('an administrator whose email an attacker knows', () => {
  it('a sustained attack with no clearance in between still ends in a permanent lock, which even the right password does not lift', async () => {
    const admin = await administrator('sustained@admin.example');
    expect(await sustainedAttack(admin, 6)).toEqual(SUSTAINED);
    // A week passes: a permanent lock does not run out.
    expect((await admin.login(admin.email, admin.password)).status).toBe(423);
    const [throttle] = await sql('SELECT lock_count, locked_until FROM login_throttle WHERE email = $1', [admin.key]);
    expect(throttle).toMatchObject({ lock_count: 6 });
    expect((throttle!.locked_until as Date).getUTCFullYear()).toBe(9999);
  }, 60_000);

  it('after `auditflow admin unlock`, five more guesses give a first, 15-minute lock, not a permanent one; the event says the escalation restarted', async () => {
    const admin = await administrator('unlocked@admin.example');
    expect(await sustainedAttack(admin, 6)).toEqual(SUSTAINED);

    const unlock = await runCliAsync(['admin', 'unlock', admin.email], ns.env());
    expect(unlock.stderr).toBe('');
    expect(unlock.code).toBe(0);
    expect(unlock.stdout).toMatch(/Unlocked administrator unlocked@admin\.example; the lockout escalation starts again \(6 earlier lock\(s\) forgotten\)/);

    // The attacker goes on at once: a first lock, then the escalation climbs again as it should.
    expect(await fiveGuesses(admin)).toBe(15);
    await lockRunsOut(admin);
    expect(await fiveGuesses(admin)).toBe(30);

    const event = await auditEvent('administrator_unlocked', { entity: admin.id }, 'cli');
    expect(event.previous).toMatchObject({ email: admin.email, lock_count: 6, failed_login_attempts: 5, locked_until: expect.stringMatching(/^9999-/) });
    expect(event.next).toMatchObject({ email: admin.email, lock_count: 0, failed_login_attempts: 0 });
    expect(event.metadata).toMatchObject({ command: 'admin unlock', escalation_restarted: true });
  }, 90_000);

  it('after `auditflow admin set-password`, five more guesses give a first lock, and the new password works once it runs out', async () => {
    const admin = await administrator('reset@admin.example');
    expect(await sustainedAttack(admin, 6)).toEqual(SUSTAINED);

    const set = await runCliAsync(['admin', 'set-password', admin.email, '--password-stdin'], ns.env(), 'the operator sets this one\n');
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    const owner = { ...admin, password: 'the operator sets this one' };
    expect(await fiveGuesses(owner)).toBe(15);
    await lockRunsOut(owner);
    expect((await owner.login(owner.email, owner.password)).status).toBe(200);

    const event = await auditEvent('administrator_password_set', { entity: admin.id }, 'cli');
    expect(event.previous).toMatchObject({ lock_count: 6, locked_until: expect.stringMatching(/^9999-/) });
    expect(event.next).toMatchObject({ lock_count: 0, failed_login_attempts: 0 });
    expect(event.metadata).toMatchObject({ command: 'admin set-password', lock_lifted: true, escalation_restarted: true });
  }, 90_000);

  it("the owner's successful login between attacks restarts the escalation", async () => {
    const admin = await administrator('owner@admin.example');
    expect(await sustainedAttack(admin, 3)).toEqual([15, 30, 60]);
    await lockRunsOut(admin);
    expect((await admin.login(admin.email, admin.password)).status).toBe(200);
    expect(await sustainedAttack(admin, 2)).toEqual([15, 30]);
  }, 60_000);
});

describe('a user whose email an attacker knows', () => {
  let rootToken: string;
  beforeAll(async () => {
    const root = await administrator('root@admin.example', 2);
    rootToken = (await root.login(root.email, root.password)).body.token!;
  });

  it('a sustained attack with no clearance in between still ends in a permanent lock', async () => {
    const victim = await user('sustained@example.com');
    expect(await sustainedAttack(victim, 6)).toEqual(SUSTAINED);
    const [row] = await sql('SELECT lock_count, locked_until, status FROM users WHERE id = $1', [victim.id]);
    expect(row).toMatchObject({ lock_count: 6, status: 'locked' });
    expect((row!.locked_until as Date).getUTCFullYear()).toBe(9999);
  }, 60_000);

  it("after an administrator's unlock, five more guesses give a first lock; account_unlocked records the escalation restarted", async () => {
    const victim = await user('unlocked@example.com');
    expect(await sustainedAttack(victim, 6)).toEqual(SUSTAINED);
    const unlock = await api(stack.url, 'POST', `/admin/users/${victim.id}/unlock`, { token: rootToken, body: { reason: 'verified by phone' } });
    expect(unlock.status).toBe(200);
    expect(unlock.body).toMatchObject({ was_locked: true, lock_count: 0 });
    expect(await fiveGuesses(victim)).toBe(15);

    const event = await auditEvent('account_unlocked', { user: victim.id }, 'admin');
    expect(event.previous).toMatchObject({ status: 'locked', lock_source: 'password', lock_count: 6 });
    expect(event.next).toMatchObject({ status: 'active', failed_login_attempts: 0, lock_count: 0 });
  }, 60_000);

  it('after a password reset through the mailed link, five more guesses give a first lock', async () => {
    const victim = await user('reset@example.com');
    expect(await sustainedAttack(victim, 6)).toEqual(SUSTAINED);
    await api(stack.url, 'POST', '/auth/password/forgot', { body: { email: victim.email } });
    const token = tokenFromMail(await lastMailTo(ns, victim.email, /Reset/));
    expect((await api(stack.url, 'POST', '/auth/password/reset', { body: { token, password: 'the owner chose this one' } })).status).toBe(200);
    const owner = { ...victim, password: 'the owner chose this one' };
    expect(await fiveGuesses(owner)).toBe(15);

    const event = await auditEvent('password_reset_completed', { user: victim.id }, 'user');
    expect(event.previous).toMatchObject({ lock_count: 6 });
    expect(event.next).toMatchObject({ lock_count: 0 });
  }, 60_000);

  it("the owner's successful login between attacks restarts the escalation", async () => {
    const victim = await user('owner@example.com');
    expect(await sustainedAttack(victim, 3)).toEqual([15, 30, 60]);
    await lockRunsOut(victim);
    expect((await victim.login(victim.email, victim.password)).status).toBe(200);
    expect(await sustainedAttack(victim, 2)).toEqual([15, 30]);
  }, 60_000);
});

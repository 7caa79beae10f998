import type { Pool } from 'pg';
import { DEFAULT_LOCKOUT_POLICY } from '../../src/domain/lockout-policy';
import { OWN_SOURCE_APP } from '../../src/domain/own-source-app';
import { hashPassword } from '../../src/features/auth/password-hasher';
import { SessionRepository } from '../../src/features/auth/session.repository';
import { UserRepository } from '../../src/features/auth/user.repository';
import { RiskActionEmitter, type EventSink } from '../../src/features/risk/risk-action-emitter';
import { RiskSubjectRepository, type LockRequest } from '../../src/features/risk/risk-subject.repository';
import type { WebhookNotifier } from '../../src/features/webhooks/webhook-notifier';
import { createPgPool, ensureDatabase } from '../../src/lib/pg';
import { migratePostgres } from '../../src/lib/pg-migrations';
import type { RawEvent } from '../../src/schemas/event';
import { createNamespace } from '../helpers/test-env';

// The risk worker's lock on one of our own users, against the real PostgreSQL: the users row, the
// outbox row, the user's sessions, and the sweep that lifts the lock once its time has passed.
const ns = createNamespace('builtinlock');
let pool: Pool;
let users: UserRepository;
let sessions: SessionRepository;
let subjects: RiskSubjectRepository;
const written: RawEvent[] = [];
let emitter: RiskActionEmitter;

beforeAll(async () => {
  await ensureDatabase(ns.databaseUrl);
  pool = createPgPool(ns.databaseUrl, 4);
  await migratePostgres(pool);
  users = new UserRepository(pool);
  sessions = new SessionRepository(pool);
  subjects = new RiskSubjectRepository(pool);
  const sink: EventSink = { write: async (_app, _at, events) => void written.push(...events) };
  // Built-in users have no webhook: a call would fail the test.
  emitter = new RiskActionEmitter({ sink, webhooks: {} as WebhookNotifier, subjects, sessions });
});

afterAll(async () => {
  await pool.end();
  await ns.cleanup();
});

async function userWithSessions(email: string, live: number): Promise<string> {
  const user = (await users.insert(email, await hashPassword('correct horse battery staple'), null, null))!;
  for (let i = 0; i < live; i++) {
    await sessions.insert({
      session_id: `${email}-${i}`,
      token_hash: `${email}-${i}`,
      subject_type: 'user',
      user_id: user.id,
      device_fingerprint: null,
      ip_address: null,
      user_agent: null,
      idleMinutes: 60,
      absoluteMinutes: 60,
    });
  }
  return user.id;
}

const lockRequest = (userId: string, actionKey: string): LockRequest => ({
  sourceApp: OWN_SOURCE_APP,
  subject: userId,
  builtIn: true,
  actionKey,
  eventAt: new Date(),
  ip: '198.18.0.1',
  policy: DEFAULT_LOCKOUT_POLICY,
  payload: { reason: 'impossible travel', threat: 'impossible_travel' },
});

async function row(userId: string) {
  return (await pool.query('SELECT status, locked_until, lock_source, lock_count, failed_login_attempts FROM users WHERE id = $1', [userId])).rows[0];
}

it('locks the user once per action, ends only their live sessions, and the sweep lifts the lock when it expires', async () => {
  const userId = await userWithSessions('locked@example.com', 2);
  const bystander = await userWithSessions('bystander@example.com', 1);

  const actions = (await subjects.lock(lockRequest(userId, 'lock|travel-1|u')))!;
  expect(actions.map((a) => a.action)).toEqual(['account_locked']);
  expect(actions[0]!.payload).toMatchObject({ built_in: true, email: 'locked@example.com', previous_status: 'active', status: 'locked', lock_count: 1, lock_minutes: 15 });
  const locked = await row(userId);
  expect(locked).toMatchObject({ status: 'locked', lock_source: 'risk', lock_count: 1 });
  expect(locked.locked_until.getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
  // The same action again (a retried job) changes nothing; so does a new one while the lock holds.
  expect(await subjects.lock(lockRequest(userId, 'lock|travel-1|u'))).toBeNull();
  expect(await subjects.lock(lockRequest(userId, 'lock|travel-2|u'))).toBeNull();
  expect((await row(userId)).lock_count).toBe(1);

  await emitter.emit(actions);
  const ended = await pool.query('SELECT user_id, is_active, logout_reason FROM user_sessions ORDER BY session_id');
  expect(ended.rows).toEqual([
    { user_id: bystander, is_active: true, logout_reason: null },
    { user_id: userId, is_active: false, logout_reason: 'risk_lock' },
    { user_id: userId, is_active: false, logout_reason: 'risk_lock' },
  ]);
  expect(written.map((e) => `${e.kind}:${String(e.event_type)}`)).toEqual(['audit:account_locked', 'security:SUSPICIOUS_ACTIVITY']);
  expect((await pool.query('SELECT emitted_at FROM risk_actions WHERE action_key = $1', ['lock|travel-1|u'])).rows[0].emitted_at).not.toBeNull();

  // Fifteen minutes pass.
  await pool.query(`UPDATE users SET locked_until = now() - interval '1 second' WHERE id = $1`, [userId]);
  const unlocked = await subjects.unlockExpired();
  expect(unlocked.map((a) => [a.action, a.subject_id, a.payload.status, a.payload.unlocked_by])).toEqual([['account_unlocked', userId, 'active', 'expiry']]);
  expect(await row(userId)).toMatchObject({ status: 'active', lock_source: null, lock_count: 1, failed_login_attempts: 0 });
  expect(await subjects.unlockExpired()).toEqual([]);
});

it('does not lock a user who does not exist or was deleted, and claims no action for them', async () => {
  const deleted = await userWithSessions('deleted@example.com', 0);
  await users.update(deleted, { status: 'deleted', deleted_at: new Date() });
  const unknown = '00000000-0000-4000-8000-000000000000';
  expect(await subjects.lock(lockRequest(deleted, 'lock|gone|d'))).toBeNull();
  expect(await subjects.lock(lockRequest(unknown, 'lock|gone|u'))).toBeNull();
  expect(await subjects.lock(lockRequest('not-a-uuid', 'lock|gone|x'))).toBeNull();
  expect((await pool.query(`SELECT count(*)::int AS n FROM risk_actions WHERE action_key LIKE 'lock|gone|%'`)).rows[0].n).toBe(0);
});

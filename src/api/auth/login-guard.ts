import type { Pool } from 'pg';
import { nextLock, type LockoutPolicy } from '../../domain/lockout-policy';
import { verifyAgainstNothing, verifyPassword } from './password-hasher';
import type { UserRow } from './user.repository';

export type { LockoutPolicy } from '../../domain/lockout-policy';

/** Whose login is checked: users (todo_app_authenticateduser) or administrators. */
export type LoginSubject = 'user' | 'admin';

/** What the guard needs of an account row. */
interface AccountRow {
  id: string;
  password_hash: string;
  locked_until: Date | null;
  lock_count?: number;
}

/**
 * The login_throttle key of an email. Administrators are prefixed, so an
 * administrator and a user with the same address are throttled apart.
 */
export function throttleKey(subject: LoginSubject, email: string): string {
  return subject === 'admin' ? `admin:${email}` : email;
}

const TABLES: Record<LoginSubject, string> = { user: 'users', admin: 'administrators' };

export type LoginAttempt<R extends AccountRow = UserRow> =
  | { outcome: 'success'; account: R }
  /** `now`: PostgreSQL's, which the lock is measured by (the Retry-After is taken from it, not this host's clock). */
  | { outcome: 'locked'; account: R | null; lockedUntil: Date; now: Date }
  | {
      outcome: 'failure';
      account: R | null;
      reason: 'INVALID_EMAIL' | 'INVALID_PASSWORD';
      attemptInWindow: number;
      /** Set when this failure reached the threshold and locked the email. */
      lockedUntil: Date | null;
      /** The new lock's length in minutes; null when it is permanent or there is none. */
      lockMinutes: number | null;
    };

interface ThrottleRow {
  window_started_at: Date;
  failures: number;
  locked_until: Date | null;
  lock_count: number;
  now: Date;
}

/**
 * Checks a password under the lockout policy, atomically.
 *
 * The throttle row of the email (kept whether or not an account has that
 * email, so unknown addresses lock the same way) is locked FOR UPDATE for
 * the whole check: concurrent attempts on one email run one at a time, so a
 * burst of 50 wrong passwords performs exactly `threshold` password checks
 * and every later attempt sees the lock and is refused without one. A lock
 * set by someone else (the risk worker, an administrator) in
 * users.locked_until is honoured the same way.
 */
export class LoginGuard<R extends AccountRow = UserRow> {
  constructor(
    private readonly pg: Pool,
    private readonly subject: LoginSubject = 'user',
  ) {}

  /**
   * `eligible`: which accounts this route may open (restore: deleted ones).
   * For any other account the password is not checked at all, and the attempt
   * fails and counts exactly as a wrong password would, so the route cannot
   * tell a right password from a wrong one.
   */
  async attempt(email: string, password: string, policy: LockoutPolicy, eligible?: (account: R) => boolean): Promise<LoginAttempt<R>> {
    const key = throttleKey(this.subject, email);
    const table = TABLES[this.subject];
    const client = await this.pg.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO login_throttle (email, window_started_at) VALUES ($1, now()) ON CONFLICT (email) DO NOTHING`, [key]);
      const throttle = (
        await client.query<ThrottleRow>(`SELECT window_started_at, failures, locked_until, lock_count, now() AS now FROM login_throttle WHERE email = $1 FOR UPDATE`, [
          key,
        ])
      ).rows[0]!;
      const user = (await client.query<R>(`SELECT * FROM ${table} WHERE email = $1`, [email])).rows[0] ?? null;
      const now = throttle.now;

      const lockedUntil = latest(throttle.locked_until, user?.locked_until ?? null);
      if (lockedUntil && lockedUntil > now) {
        await client.query('COMMIT');
        return { outcome: 'locked', account: user, lockedUntil, now };
      }

      const candidate = user && (!eligible || eligible(user)) ? user : null;
      // The same hashing cost whether or not there is a password to check.
      const ok = candidate ? await verifyPassword(candidate.password_hash, password) : await verifyAgainstNothing(password);
      if (ok && candidate) {
        await client.query(`UPDATE login_throttle SET failures = 0, window_started_at = now(), updated_at = now() WHERE email = $1`, [key]);
        // Users get last_login_at when their session opens; administrators here.
        const updated = await client.query<R>(
          `UPDATE ${table} SET failed_login_attempts = 0${this.subject === 'admin' ? ', last_login_at = now()' : ''} WHERE id = $1 RETURNING *`,
          [candidate.id],
        );
        await client.query('COMMIT');
        return { outcome: 'success', account: updated.rows[0] ?? candidate };
      }

      const windowExpired = now.getTime() - throttle.window_started_at.getTime() > policy.windowMinutes * 60_000;
      const failures = (windowExpired ? 0 : throttle.failures) + 1;
      const locks = failures >= policy.threshold;
      // Locks escalate with the locks before, whoever set them (this guard or the risk worker).
      const term = locks ? nextLock(policy, Math.max(throttle.lock_count, user?.lock_count ?? 0), now) : null;
      const newLock = term?.until ?? null;
      await client.query(
        `UPDATE login_throttle SET
           failures = $2,
           window_started_at = CASE WHEN $3 THEN now() ELSE window_started_at END,
           locked_until = COALESCE($4, locked_until),
           lock_count = lock_count + CASE WHEN $4::timestamptz IS NULL THEN 0 ELSE 1 END,
           updated_at = now()
         WHERE email = $1`,
        // Reaching the threshold starts a fresh window: after the lock lifts, the owner has full attempts again.
        [key, locks ? 0 : failures, windowExpired || locks, newLock],
      );
      if (user && this.subject === 'admin') {
        await client.query(`UPDATE administrators SET failed_login_attempts = $2, locked_until = COALESCE($3, locked_until) WHERE id = $1`, [user.id, failures, newLock]);
      } else if (user) {
        await client.query(
          `UPDATE users SET failed_login_attempts = $2,
             locked_until = COALESCE($3, locked_until),
             status = CASE WHEN $3::timestamptz IS NOT NULL AND status = 'active' THEN 'locked' ELSE status END,
             lock_source = CASE WHEN $3::timestamptz IS NULL THEN lock_source ELSE 'password' END,
             lock_count = lock_count + CASE WHEN $3::timestamptz IS NULL THEN 0 ELSE 1 END
           WHERE id = $1`,
          [user.id, failures, newLock],
        );
      }
      await client.query('COMMIT');
      return { outcome: 'failure', account: user, reason: user ? 'INVALID_PASSWORD' : 'INVALID_EMAIL', attemptInWindow: failures, lockedUntil: newLock, lockMinutes: term?.minutes ?? null };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Lifts a lock on an email (password reset, administrator unlock). */
  async clear(email: string): Promise<void> {
    await this.pg.query(`UPDATE login_throttle SET failures = 0, locked_until = NULL, window_started_at = now(), updated_at = now() WHERE email = $1`, [
      throttleKey(this.subject, email),
    ]);
  }
}

function latest(a: Date | null, b: Date | null): Date | null {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}

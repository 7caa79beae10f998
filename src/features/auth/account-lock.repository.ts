import type { Pool, PoolClient } from 'pg';
import type { UserRow } from './user.repository';

type Db = Pool | PoolClient;

/** Whose account: users (todo_app_authenticateduser) or administrators. */
export type LoginSubject = 'user' | 'admin';

const TABLES: Record<LoginSubject, string> = { user: 'users', admin: 'administrators' };

/** A user's lock state before an unlock, for the event. */
export interface LockState {
  status: UserRow['status'];
  locked_until: Date | null;
  lock_source: string | null;
  failed_login_attempts: number;
  /** Locks since the last clearance: the escalation the unlock restarts. */
  lock_count: number;
}

/** An administrator's lock columns before an unlock, for the event. */
export interface AdministratorLockState {
  locked_until: Date | null;
  failed_login_attempts: number;
}

/** A built-in user's lock, as the risk worker reads it before locking. */
export interface UserLockRow {
  status: string;
  email: string;
  locked_until: Date | null;
  lock_count: number;
  lock_cleared_at: Date | null;
  /** Who set the current lock; null once it was lifted and announced. */
  lock_source: string | null;
}

/** A built-in user's lock whose time has passed. */
export interface ExpiredUserLock {
  id: string;
  email: string;
  status: string;
  locked_until: Date;
  lock_source: string;
  now: Date;
}

/**
 * The lock columns of users and administrators: failed_login_attempts,
 * locked_until and, for users, lock_source, lock_count, lock_cleared_at and
 * the move of status between `active` and `locked` that goes with a lock.
 * Nothing else writes them: the login guard, the risk worker, an
 * administrator's unlock and a password reset all come here. Methods that
 * take `db` run in the caller's transaction when given its client.
 *
 * lock_count is the escalation: the locks since the last clearance. A right
 * password, an unlock and a password reset clear it (as risk_subjects'
 * unlock by its app does); a lock that merely expires does not, so a
 * sustained attack with no clearance in between still reaches a permanent lock.
 */
export class AccountLockRepository {
  constructor(private readonly pg: Pool) {}

  /** The account with this email, as the login guard checks it. */
  async byEmail<R extends { id: string }>(subject: LoginSubject, email: string, db: Db = this.pg): Promise<R | null> {
    return (await db.query<R>(`SELECT * FROM ${TABLES[subject]} WHERE email = $1`, [email])).rows[0] ?? null;
  }

  /** The email of a user, deleted or not; null when there is no such user. */
  async userEmail(id: string, db: Db = this.pg): Promise<string | null> {
    return (await db.query<{ email: string }>('SELECT email FROM users WHERE id = $1', [id])).rows[0]?.email ?? null;
  }

  /**
   * A right password: the failure count starts again, and for users so does
   * the escalation (lock_count; administrators keep theirs only in
   * login_throttle). Administrators' last login is stamped here too (users
   * get theirs when their session opens). Returns the account after.
   */
  async recordLoginSuccess<R extends { id: string }>(subject: LoginSubject, id: string, db: Db = this.pg): Promise<R | null> {
    const reset = subject === 'admin' ? 'failed_login_attempts = 0, last_login_at = now()' : 'failed_login_attempts = 0, lock_count = 0';
    const { rows } = await db.query<R>(`UPDATE ${TABLES[subject]} SET ${reset} WHERE id = $1 RETURNING *`, [id]);
    return rows[0] ?? null;
  }

  /** A wrong password: the failures in the window, and the lock it set (if it reached the threshold). */
  async recordLoginFailure(subject: LoginSubject, id: string, failures: number, newLock: Date | null, db: Db = this.pg): Promise<void> {
    if (subject === 'admin') {
      await db.query(`UPDATE administrators SET failed_login_attempts = $2, locked_until = COALESCE($3, locked_until) WHERE id = $1`, [id, failures, newLock]);
      return;
    }
    await db.query(
      `UPDATE users SET failed_login_attempts = $2,
         locked_until = COALESCE($3, locked_until),
         status = CASE WHEN $3::timestamptz IS NOT NULL AND status = 'active' THEN 'locked' ELSE status END,
         lock_source = CASE WHEN $3::timestamptz IS NULL THEN lock_source ELSE 'password' END,
         lock_count = lock_count + CASE WHEN $3::timestamptz IS NULL THEN 0 ELSE 1 END
       WHERE id = $1`,
      [id, failures, newLock],
    );
  }

  /** A live user's lock, row-locked for the caller's transaction; null for an unknown or deleted user. */
  async userLockForUpdate(userId: string, db: Db): Promise<UserLockRow | null> {
    const { rows } = await db.query<UserLockRow>(`SELECT status, email, locked_until, lock_count, lock_cleared_at, lock_source FROM users WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, [userId]);
    return rows[0] ?? null;
  }

  /** The risk worker's lock on a user, until `until`; it counts toward the escalation of later locks. */
  async lockUserForRisk(userId: string, until: Date, db: Db): Promise<void> {
    await db.query(
      `UPDATE users SET locked_until = $2, lock_source = 'risk', lock_count = lock_count + 1,
         status = CASE WHEN status = 'active' THEN 'locked' ELSE status END, updated_at = now()
       WHERE id = $1`,
      [userId, until],
    );
  }

  /** Users whose lock has passed and was not lifted yet, row-locked; rows another sweeper holds are skipped. */
  async expiredUserLocks(limit: number, db: Db): Promise<ExpiredUserLock[]> {
    const { rows } = await db.query<ExpiredUserLock>(
      `SELECT id, email, status, locked_until, lock_source, now() AS now FROM users
       WHERE lock_source IS NOT NULL AND locked_until <= now() ORDER BY locked_until LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
    return rows;
  }

  /** Lifts a lock whose time has passed, giving the user `status`. */
  async liftExpiredUserLock(userId: string, status: string, db: Db): Promise<void> {
    // The lock ended at locked_until, not when this sweep noticed: an attempt made in between is a new one and may lock again.
    await db.query(`UPDATE users SET lock_source = NULL, failed_login_attempts = 0, status = $2, lock_cleared_at = GREATEST(lock_cleared_at, locked_until), updated_at = now() WHERE id = $1`, [
      userId,
      status,
    ]);
  }

  /**
   * Lifts every login lock on a user, whoever set it (the password lockout,
   * the risk worker, an administrator): locked_until, the failure count, the
   * lock source, and a `locked` status back to `active`. The escalation
   * restarts (lock_count 0): someone vouched for the owner, so the next lock
   * is a first one again, not a step towards a permanent one.
   */
  async unlockUser(id: string, db: Db = this.pg): Promise<{ before: LockState; after: UserRow } | null> {
    const { rows } = await db.query<UserRow & { before: LockState }>(
      `WITH before AS (SELECT id, status, locked_until, lock_source, failed_login_attempts, lock_count FROM users WHERE id = $1 FOR UPDATE)
       UPDATE users u SET
         locked_until = NULL,
         failed_login_attempts = 0,
         lock_source = NULL,
         lock_count = 0,
         lock_cleared_at = now(),
         status = CASE WHEN before.status = 'locked' THEN 'active' ELSE before.status END,
         updated_at = now()
       FROM before WHERE u.id = before.id
       RETURNING u.*, json_build_object('status', before.status, 'locked_until', before.locked_until, 'lock_source', before.lock_source,
                                        'failed_login_attempts', before.failed_login_attempts, 'lock_count', before.lock_count) AS before`,
      [id],
    );
    const row = rows[0];
    if (!row) return null;
    const { before, ...after } = row;
    return { before: { ...before, locked_until: before.locked_until ? new Date(before.locked_until) : null }, after };
  }

  /**
   * Clears the failure count and lock of an administrator (their escalation
   * is login_throttle's lock_count); the administrator after and their lock
   * before, or null if the email has none. Run in a transaction (`db`), the
   * row stays locked from the read to the update.
   */
  async unlockAdministrator<R extends { id: string }>(email: string, db: Db = this.pg): Promise<{ before: AdministratorLockState; after: R } | null> {
    const before = (await db.query<AdministratorLockState>('SELECT locked_until, failed_login_attempts FROM administrators WHERE email = $1 FOR UPDATE', [email])).rows[0];
    if (!before) return null;
    const { rows } = await db.query<R>(`UPDATE administrators SET failed_login_attempts = 0, locked_until = NULL, updated_at = now() WHERE email = $1 RETURNING *`, [email]);
    return rows[0] ? { before, after: rows[0] } : null;
  }
}

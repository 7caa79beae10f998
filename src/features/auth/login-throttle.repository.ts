import type { Pool, PoolClient } from 'pg';

type Db = Pool | PoolClient;

/** A login_throttle row, with the server's clock read in the same statement. */
export interface ThrottleRow {
  window_started_at: Date;
  failures: number;
  /** When each failure still counted was made, oldest first. */
  failed_at: Date[];
  locked_until: Date | null;
  lock_count: number;
  now: Date;
}

/** A login_throttle row's lock before it was cleared, for the event. */
export interface ClearedThrottle {
  locked_until: Date | null;
  lock_count: number;
}

/**
 * login_throttle: failed logins per email (an administrator's under
 * `admin:<email>`, see throttleKey), whether or not an account has that
 * email, so unknown addresses lock the same way. lock_count is the locks
 * since the last clearance (a right password, an unlock, a password reset).
 */
export class LoginThrottleRepository {
  constructor(private readonly pg: Pool) {}

  /** The email's row, created if new and row-locked for the caller's transaction: attempts on one email run one at a time. */
  async lockForUpdate(key: string, db: PoolClient): Promise<ThrottleRow> {
    await db.query(`INSERT INTO login_throttle (email, window_started_at) VALUES ($1, now()) ON CONFLICT (email) DO NOTHING`, [key]);
    return (await db.query<ThrottleRow>(`SELECT window_started_at, failures, failed_at, locked_until, lock_count, now() AS now FROM login_throttle WHERE email = $1 FOR UPDATE`, [key])).rows[0]!;
  }

  /** A right password: a fresh window with no failures, and the escalation restarts (the owner got in since the last lock). */
  async recordSuccess(key: string, db: Db = this.pg): Promise<void> {
    await db.query(`UPDATE login_throttle SET failures = 0, failed_at = '{}', lock_count = 0, window_started_at = now(), updated_at = now() WHERE email = $1`, [key]);
  }

  /**
   * A wrong password: `failedAt`, the failures that now count (empty when
   * this one locked the email), and `newLock` when it did, which counts
   * toward the escalation of later locks.
   */
  async recordFailure(key: string, change: { failedAt: Date[]; newLock: Date | null }, db: Db = this.pg): Promise<void> {
    await db.query(
      `UPDATE login_throttle SET
         failed_at = $2::timestamptz[],
         failures = cardinality($2::timestamptz[]),
         window_started_at = COALESCE(($2::timestamptz[])[1], now()),
         locked_until = COALESCE($3, locked_until),
         lock_count = lock_count + CASE WHEN $3::timestamptz IS NULL THEN 0 ELSE 1 END,
         updated_at = now()
       WHERE email = $1`,
      [key, change.failedAt, change.newLock],
    );
  }

  /**
   * Lifts the email's lock, forgets its failures and restarts its escalation
   * (password reset, unlock). Returns the lock before; null when the email
   * has no row (it never failed).
   */
  async clear(key: string, db: Db = this.pg): Promise<ClearedThrottle | null> {
    const { rows } = await db.query<ClearedThrottle>(
      `WITH before AS (SELECT email, locked_until, lock_count FROM login_throttle WHERE email = $1 FOR UPDATE)
       UPDATE login_throttle t SET failures = 0, failed_at = '{}', locked_until = NULL, lock_count = 0, window_started_at = now(), updated_at = now()
       FROM before WHERE t.email = before.email
       RETURNING before.locked_until, before.lock_count`,
      [key],
    );
    return rows[0] ?? null;
  }
}

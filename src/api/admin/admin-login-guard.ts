import type { Pool } from 'pg';
import type { LockoutPolicy } from '../auth/login-guard';
import { verifyAgainstNothing, verifyPassword } from '../auth/password-hasher';
import type { AdministratorRow } from './administrator.repository';

export type AdminLoginAttempt =
  | { outcome: 'success'; admin: AdministratorRow }
  | { outcome: 'locked'; admin: AdministratorRow | null; lockedUntil: Date }
  | { outcome: 'failure'; admin: AdministratorRow | null; reason: 'INVALID_EMAIL' | 'INVALID_PASSWORD'; attemptInWindow: number; lockedUntil: Date | null };

interface ThrottleRow {
  window_started_at: Date;
  failures: number;
  locked_until: Date | null;
  now: Date;
}

/**
 * The login_throttle key of an administrator's email. Prefixed so that an
 * administrator and a user with the same address are throttled apart.
 */
export function adminThrottleKey(email: string): string {
  return `admin:${email}`;
}

/**
 * LoginGuard's atomic lockout, for the administrators table: the throttle
 * row of `admin:<email>` is locked FOR UPDATE for the whole check, so
 * concurrent attempts run one at a time and a burst performs at most
 * `threshold` password checks. Unknown emails lock the same way.
 *
 * A copy of LoginGuard's technique until LoginGuard can read either table
 * (a lookup parameter); then this file goes and admin login uses LoginGuard.
 */
export class AdminLoginGuard {
  constructor(private readonly pg: Pool) {}

  async attempt(email: string, password: string, policy: LockoutPolicy): Promise<AdminLoginAttempt> {
    const key = adminThrottleKey(email);
    const client = await this.pg.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO login_throttle (email, window_started_at) VALUES ($1, now()) ON CONFLICT (email) DO NOTHING`, [key]);
      const throttle = (
        await client.query<ThrottleRow>(`SELECT window_started_at, failures, locked_until, now() AS now FROM login_throttle WHERE email = $1 FOR UPDATE`, [key])
      ).rows[0]!;
      const admin = (await client.query<AdministratorRow>('SELECT * FROM administrators WHERE email = $1', [email])).rows[0] ?? null;
      const now = throttle.now;

      const lockedUntil = latest(throttle.locked_until, admin?.locked_until ?? null);
      if (lockedUntil && lockedUntil > now) {
        await client.query('COMMIT');
        return { outcome: 'locked', admin, lockedUntil };
      }

      const ok = admin ? await verifyPassword(admin.password_hash, password) : await verifyAgainstNothing(password);
      if (ok && admin) {
        await client.query(`UPDATE login_throttle SET failures = 0, window_started_at = now(), updated_at = now() WHERE email = $1`, [key]);
        const updated = await client.query<AdministratorRow>(
          `UPDATE administrators SET failed_login_attempts = 0, last_login_at = now() WHERE id = $1 RETURNING *`,
          [admin.id],
        );
        await client.query('COMMIT');
        return { outcome: 'success', admin: updated.rows[0] ?? admin };
      }

      const windowExpired = now.getTime() - throttle.window_started_at.getTime() > policy.windowMinutes * 60_000;
      const failures = (windowExpired ? 0 : throttle.failures) + 1;
      const locks = failures >= policy.threshold;
      const newLock = locks ? new Date(now.getTime() + policy.durationMinutes * 60_000) : null;
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
      if (admin) {
        await client.query(`UPDATE administrators SET failed_login_attempts = $2, locked_until = COALESCE($3, locked_until) WHERE id = $1`, [
          admin.id,
          failures,
          newLock,
        ]);
      }
      await client.query('COMMIT');
      return { outcome: 'failure', admin, reason: admin ? 'INVALID_PASSWORD' : 'INVALID_EMAIL', attemptInWindow: failures, lockedUntil: newLock };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}

function latest(a: Date | null, b: Date | null): Date | null {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}

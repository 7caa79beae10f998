import type { Pool } from 'pg';
import { failuresInWindow, nextLock, type LockoutPolicy } from '../../domain/lockout-policy';
import { withTransaction } from '../../lib/pg';
import { AccountLockRepository, type AdministratorLockState, type LockState, type LoginSubject } from './account-lock.repository';
import { LoginThrottleRepository } from './login-throttle.repository';
import { verifyAgainstNothing, verifyPassword } from './password-hasher';
import type { UserRow } from './user.repository';

export type { LockoutPolicy } from '../../domain/lockout-policy';
export type { AdministratorLockState, LoginSubject } from './account-lock.repository';

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

/**
 * Checks a password under the lockout policy, atomically, and lifts locks.
 *
 * The throttle row of the email (kept whether or not an account has that
 * email, so unknown addresses lock the same way) is locked FOR UPDATE for
 * the whole check: concurrent attempts on one email run one at a time, so a
 * burst of 50 wrong passwords performs exactly `threshold` password checks
 * and every later attempt sees the lock and is refused without one. A lock
 * set by someone else (the risk worker, an administrator) in
 * users.locked_until is honoured the same way. A right password restarts
 * the escalation of lock lengths, so only locks with no successful login
 * between them add up to a permanent one. login_throttle is written
 * through LoginThrottleRepository, the accounts' lock columns through
 * AccountLockRepository.
 */
export class LoginGuard<R extends AccountRow = UserRow> {
  private readonly throttle: LoginThrottleRepository;
  private readonly locks: AccountLockRepository;

  constructor(
    private readonly pg: Pool,
    private readonly subject: LoginSubject = 'user',
  ) {
    this.throttle = new LoginThrottleRepository(pg);
    this.locks = new AccountLockRepository(pg);
  }

  /**
   * `eligible`: which accounts this route may open (restore: deleted ones).
   * For any other account the password is not checked at all, and the attempt
   * fails and counts exactly as a wrong password would, so the route cannot
   * tell a right password from a wrong one.
   */
  async attempt(email: string, password: string, policy: LockoutPolicy, eligible?: (account: R) => boolean): Promise<LoginAttempt<R>> {
    const key = throttleKey(this.subject, email);
    return withTransaction(this.pg, async (client): Promise<LoginAttempt<R>> => {
      const throttle = await this.throttle.lockForUpdate(key, client);
      const user = await this.locks.byEmail<R>(this.subject, email, client);
      const now = throttle.now;

      const lockedUntil = latest(throttle.locked_until, user?.locked_until ?? null);
      if (lockedUntil && lockedUntil > now) return { outcome: 'locked', account: user, lockedUntil, now };

      const candidate = user && (!eligible || eligible(user)) ? user : null;
      // The same hashing cost whether or not there is a password to check.
      const ok = candidate ? await verifyPassword(candidate.password_hash, password) : await verifyAgainstNothing(password);
      if (ok && candidate) {
        await this.throttle.recordSuccess(key, client);
        const updated = await this.locks.recordLoginSuccess<R>(this.subject, candidate.id, client);
        return { outcome: 'success', account: updated ?? candidate };
      }

      // A sliding window: the failures made within the last windowMinutes, whenever the first one was.
      const counted = [...failuresInWindow(throttle.failed_at, now, policy.windowMinutes), now];
      const failures = counted.length;
      const locks = failures >= policy.threshold;
      // Locks escalate with the locks since the last clearance (a right password, an unlock, a reset), whoever set them (this guard or the risk worker).
      const term = locks ? nextLock(policy, Math.max(throttle.lock_count, user?.lock_count ?? 0), now) : null;
      const newLock = term?.until ?? null;
      // Reaching the threshold starts a fresh window: after the lock lifts, the owner has full attempts again.
      await this.throttle.recordFailure(key, { failedAt: locks ? [] : counted, newLock }, client);
      if (user) await this.locks.recordLoginFailure(this.subject, user.id, failures, newLock, client);
      return { outcome: 'failure', account: user, reason: user ? 'INVALID_PASSWORD' : 'INVALID_EMAIL', attemptInWindow: failures, lockedUntil: newLock, lockMinutes: term?.minutes ?? null };
    });
  }

  /**
   * Lifts every login lock on a user (an administrator's unlock, a password
   * reset) and restarts the escalation: the email's throttle row, then the
   * account's lock columns, in one transaction and in the order attempt()
   * locks them, so a guess racing the unlock runs wholly before or after it.
   * `before` reads both as attempt() does: the later lock, and the higher
   * lock_count (the escalation that was restarted). Null when there is no such user.
   */
  async unlockUser(id: string): Promise<{ before: LockState; after: UserRow } | null> {
    return withTransaction(this.pg, async (client) => {
      const email = await this.locks.userEmail(id, client);
      if (email === null) return null;
      const throttle = await this.throttle.clear(throttleKey('user', email), client);
      const unlocked = await this.locks.unlockUser(id, client);
      if (!unlocked) return null;
      const before = unlocked.before;
      return {
        ...unlocked,
        before: { ...before, locked_until: latest(before.locked_until, throttle?.locked_until ?? null), lock_count: Math.max(before.lock_count, throttle?.lock_count ?? 0) },
      };
    });
  }

  /**
   * Lifts an administrator's login lock and restarts their escalation (the
   * operator's way back in, with any guard; an administrator's lock_count is
   * their email's throttle row's), in one transaction as unlockUser. Null
   * when no administrator has that email.
   */
  async unlockAdministrator<A extends { id: string }>(email: string): Promise<{ before: AdministratorLockState & { lock_count: number }; after: A } | null> {
    return withTransaction(this.pg, async (client) => {
      if (!(await this.locks.byEmail('admin', email, client))) return null;
      const throttle = await this.throttle.clear(throttleKey('admin', email), client);
      const unlocked = await this.locks.unlockAdministrator<A>(email, client);
      if (!unlocked) return null;
      const before = unlocked.before;
      return { after: unlocked.after, before: { ...before, locked_until: latest(before.locked_until, throttle?.locked_until ?? null), lock_count: throttle?.lock_count ?? 0 } };
    });
  }
}

function latest(a: Date | null, b: Date | null): Date | null {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}

import { lockedError } from '../../src/features/auth/password-check';
import { PERMANENT_LOCK_UNTIL } from '../../src/domain/lockout-policy';

describe("a locked login's Retry-After", () => {
  const until = new Date('2026-12-04T12:00:30Z');

  it('is the time left on the clock that set the lock, whatever this host’s clock says', () => {
    // PostgreSQL's now(), 30 s before the lock ends: an API host an hour behind used to answer 3630.
    expect(lockedError(until, new Date('2026-12-04T12:00:00Z')).retryAfterSeconds).toBe(30);
    expect(lockedError(until, new Date('2026-12-04T12:00:29.200Z')).retryAfterSeconds).toBe(1);
  });

  it('is at least a second, and absent for a permanent lock', () => {
    expect(lockedError(until, new Date('2026-12-04T12:00:31Z')).retryAfterSeconds).toBe(1);
    expect(lockedError(PERMANENT_LOCK_UNTIL, new Date('2026-12-04T12:00:00Z')).retryAfterSeconds).toBeUndefined();
  });
});

-- The lockout counted failed logins in a fixed window that started at the
-- first failure and restarted from zero once it had passed: three guesses
-- just before its end and four just after made seven within seconds, and no
-- lock. login_throttle now keeps the time of each failure still in the
-- window, so "lockout.threshold failures within lockout.window_minutes" holds
-- for any window. A row's current failures are carried over at its window's
-- start, which counts them at least as long as before.
ALTER TABLE login_throttle ADD COLUMN IF NOT EXISTS failed_at timestamptz[] NOT NULL DEFAULT '{}';
UPDATE login_throttle SET failed_at = array_fill(window_started_at, ARRAY[failures])
WHERE failures > 0 AND cardinality(failed_at) = 0;

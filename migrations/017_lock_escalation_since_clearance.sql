-- lock_count (users, login_throttle) now counts the locks since the last
-- clearance (a right password, an unlock, a password reset), not every lock
-- ever: otherwise anyone who knows an email can re-lock an unlocked account
-- for good with five more rounds of guesses. Rows whose history shows such a
-- clearance after their last lock start again from 0, as the new rule would
-- have left them; any other row keeps its count.

-- Unlocked or reset since the last lock: only those set locked_until to NULL.
UPDATE users SET lock_count = 0 WHERE lock_count > 0 AND locked_until IS NULL;
UPDATE login_throttle SET lock_count = 0 WHERE lock_count > 0 AND locked_until IS NULL;

-- Logged in after the last lock ended.
UPDATE users SET lock_count = 0 WHERE lock_count > 0 AND last_login_at > locked_until;
UPDATE login_throttle t SET lock_count = 0 FROM users u
 WHERE t.email = u.email AND t.lock_count > 0 AND u.last_login_at > t.locked_until;
UPDATE login_throttle t SET lock_count = 0 FROM administrators a
 WHERE t.email = 'admin:' || a.email AND t.lock_count > 0 AND a.last_login_at > t.locked_until;

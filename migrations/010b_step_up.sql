-- Step-up for built-in users (adaptive authentication, docs/security-analytics.md):
-- the risk worker asks for it when it scores one of the user's logins or
-- attempts step_up or block; the user's next login from an unfamiliar device
-- or network must then confirm a one-time code mailed to the account.
ALTER TABLE users ADD COLUMN IF NOT EXISTS step_up_required_at timestamptz;
-- When a step-up was last passed (or a password reset): events from before it,
-- scored later, do not ask again.
ALTER TABLE users ADD COLUMN IF NOT EXISTS step_up_cleared_at timestamptz;

-- The pending challenge of such a login: the code's hash and the device, single use.
ALTER TABLE account_tokens DROP CONSTRAINT IF EXISTS account_tokens_purpose_check;
ALTER TABLE account_tokens ADD CONSTRAINT account_tokens_purpose_check
    CHECK (purpose IN ('verify_email', 'reset_password', 'change_email', 'login_challenge'));

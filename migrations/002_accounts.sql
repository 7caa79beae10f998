-- Accounts of the todo app (seed 002 "Actors"), their sessions and tokens.
CREATE EXTENSION IF NOT EXISTS citext;

-- todo_app_authenticateduser
CREATE TABLE IF NOT EXISTS users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email citext NOT NULL UNIQUE,
    password_hash text NOT NULL CHECK (length(password_hash) >= 60),
    first_name text,
    last_name text,
    -- active | inactive | locked | suspended | deleted
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'locked', 'suspended', 'deleted')),
    role text NOT NULL DEFAULT 'user',
    email_verified boolean NOT NULL DEFAULT false,
    email_verified_at timestamptz,
    last_login_at timestamptz,
    password_changed_at timestamptz,
    failed_login_attempts integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    -- Who set the lock: 'password' (the API's own counter), 'risk' (the risk worker), 'admin'.
    lock_source text,
    -- Locks so far, for escalating lock durations.
    lock_count integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);

-- todo_app_administrator
CREATE TABLE IF NOT EXISTS administrators (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email citext NOT NULL UNIQUE,
    password_hash text NOT NULL CHECK (length(password_hash) >= 60),
    first_name text,
    last_name text,
    admin_level integer NOT NULL DEFAULT 5 CHECK (admin_level BETWEEN 1 AND 5),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'suspended')),
    email_verified boolean NOT NULL DEFAULT false,
    email_verified_at timestamptz,
    last_login_at timestamptz,
    password_changed_at timestamptz,
    failed_login_attempts integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);

-- Fine-grained grants on top of a user's role (permission_granted / permission_revoked).
CREATE TABLE IF NOT EXISTS user_permissions (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    permission text NOT NULL,
    granted_by uuid,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, permission)
);

-- todo_app_guestuser
CREATE TABLE IF NOT EXISTS guest_users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id text NOT NULL UNIQUE,
    ip_address text,
    user_agent text,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_activity_at timestamptz NOT NULL DEFAULT now(),
    expired_at timestamptz
);

-- user_sessions (seed 003): one row per login. The bearer token is stored only as its SHA-256.
CREATE TABLE IF NOT EXISTS user_sessions (
    id bigserial PRIMARY KEY,
    session_id text NOT NULL UNIQUE,
    token_hash text NOT NULL UNIQUE,
    subject_type text NOT NULL CHECK (subject_type IN ('user', 'admin')),
    user_id uuid NOT NULL,
    device_fingerprint text,
    ip_address text,
    user_agent text,
    location jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_activity_at timestamptz NOT NULL DEFAULT now(),
    idle_expires_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    is_active boolean NOT NULL DEFAULT true,
    logout_reason text,
    logout_at timestamptz
);
CREATE INDEX IF NOT EXISTS user_sessions_user_idx ON user_sessions (subject_type, user_id) WHERE is_active;

-- One-time tokens mailed to users (email verification, password reset, email change), stored hashed.
CREATE TABLE IF NOT EXISTS account_tokens (
    token_hash text PRIMARY KEY,
    purpose text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password', 'change_email')),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- For change_email: the new address.
    payload text,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX IF NOT EXISTS account_tokens_user_idx ON account_tokens (user_id, purpose);

-- Failed password attempts per email, whether or not an account has that email,
-- so lockout behaves the same for unknown addresses (no enumeration through 423s).
CREATE TABLE IF NOT EXISTS login_throttle (
    email citext PRIMARY KEY,
    window_started_at timestamptz NOT NULL,
    failures integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    lock_count integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

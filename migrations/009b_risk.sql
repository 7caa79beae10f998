-- The risk worker's state in PostgreSQL: decisions that must outlive Redis.
-- (Sliding windows and device/network history live in Redis, with TTLs.)

-- Accounts of apps that post their own auth events (GET /v1/subjects/:user_id).
-- Built-in users keep their lock in users.locked_until/status; their latest
-- risk is recorded here too, under source_app 'auditflow'.
CREATE TABLE IF NOT EXISTS risk_subjects (
    source_app text NOT NULL,
    subject_id text NOT NULL,
    risk_score smallint NOT NULL DEFAULT 0 CHECK (risk_score BETWEEN 0 AND 100),
    risk_level text NOT NULL DEFAULT 'low' CHECK (risk_level IN ('low', 'medium', 'high')),
    risk_action text NOT NULL DEFAULT 'none' CHECK (risk_action IN ('none', 'step_up', 'block')),
    risk_factors jsonb NOT NULL DEFAULT '[]',
    last_event_id uuid,
    last_event_at timestamptz,
    decided_at timestamptz,
    locked_until timestamptz,
    lock_reason text,
    lock_count integer NOT NULL DEFAULT 0,
    -- When a lock was last lifted: events from before it cannot lock again.
    lock_cleared_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_app, subject_id)
);
CREATE INDEX IF NOT EXISTS risk_subjects_lock_expiry_idx ON risk_subjects (locked_until) WHERE locked_until IS NOT NULL;
-- When a lock was last lifted (expiry, unlock, password reset): the risk
-- worker scores events some time after they happened, and one from before the
-- lift must not lock the account again.
ALTER TABLE users ADD COLUMN IF NOT EXISTS lock_cleared_at timestamptz;
CREATE INDEX IF NOT EXISTS users_lock_expiry_idx ON users (locked_until) WHERE lock_source IS NOT NULL;

-- Every enforced action (lock, unlock, IP block, high-risk notice), keyed by
-- what caused it, so a retried job acts once. It is also an outbox: the
-- events and webhook of an action are emitted after it commits, and a relay
-- re-emits any action whose emission a crash cut short (emitted_at IS NULL).
CREATE TABLE IF NOT EXISTS risk_actions (
    action_key text PRIMARY KEY,
    action text NOT NULL CHECK (action IN ('account_locked', 'account_unlocked', 'ip_blocked', 'high_risk')),
    source_app text NOT NULL,
    subject_id text,
    ip_address text,
    payload jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    emitted_at timestamptz
);
CREATE INDEX IF NOT EXISTS risk_actions_pending_idx ON risk_actions (created_at) WHERE emitted_at IS NULL;

-- One webhook per sending app, called on lock, unlock and high risk. The
-- secret signs each call (HMAC-SHA256); it is stored encrypted (AES-GCM).
CREATE TABLE IF NOT EXISTS app_webhooks (
    source_app text PRIMARY KEY,
    url text NOT NULL,
    secret_sealed text NOT NULL,
    events text[] NOT NULL CHECK (events <@ ARRAY['subject.locked', 'subject.unlocked', 'subject.high_risk']::text[] AND cardinality(events) > 0),
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Keys may carry the `risk` scope: read subjects, manage the app's webhook.
ALTER TABLE api_keys DROP CONSTRAINT IF EXISTS api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check
    CHECK (scopes <@ ARRAY['ingest', 'query', 'reports', 'admin', 'risk']::text[] AND cardinality(scopes) > 0);

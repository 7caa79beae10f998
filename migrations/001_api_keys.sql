-- API keys: one per sending app (name) and purpose. Only the SHA-256 of the
-- key is stored: keys are 256-bit random, so a fast hash is safe to store and
-- lets every request be checked by an indexed lookup.
CREATE TABLE IF NOT EXISTS api_keys (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$'),
    scopes text[] NOT NULL CHECK (scopes <@ ARRAY['ingest', 'query', 'reports', 'admin']::text[] AND cardinality(scopes) > 0),
    key_hash text NOT NULL UNIQUE,
    key_prefix text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz
);

CREATE INDEX IF NOT EXISTS api_keys_name_idx ON api_keys (name);

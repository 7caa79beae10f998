-- Tamper evidence. Every row carries the SHA-256 of its canonical content
-- (row_hash) and the hash of the row before it in its table's chain
-- (previous_hash). Each flush is sealed: seal_seq names the seal a row
-- belongs to and chain_index its place in it. Seals are signed with Ed25519
-- and stored here and in PostgreSQL. `auditflow verify` recomputes it all.
-- Rows written before this migration have seal_seq 0 and are reported as unsealed.

ALTER TABLE audit_logs ADD COLUMN IF NOT EXISTS row_hash String DEFAULT '', ADD COLUMN IF NOT EXISTS previous_hash String DEFAULT '', ADD COLUMN IF NOT EXISTS seal_seq UInt64 DEFAULT 0, ADD COLUMN IF NOT EXISTS chain_index UInt32 DEFAULT 0;
ALTER TABLE auth_audit_log ADD COLUMN IF NOT EXISTS row_hash String DEFAULT '', ADD COLUMN IF NOT EXISTS previous_hash String DEFAULT '', ADD COLUMN IF NOT EXISTS seal_seq UInt64 DEFAULT 0, ADD COLUMN IF NOT EXISTS chain_index UInt32 DEFAULT 0;
ALTER TABLE security_events ADD COLUMN IF NOT EXISTS row_hash String DEFAULT '', ADD COLUMN IF NOT EXISTS previous_hash String DEFAULT '', ADD COLUMN IF NOT EXISTS seal_seq UInt64 DEFAULT 0, ADD COLUMN IF NOT EXISTS chain_index UInt32 DEFAULT 0;
ALTER TABLE failed_login_attempts ADD COLUMN IF NOT EXISTS row_hash String DEFAULT '', ADD COLUMN IF NOT EXISTS previous_hash String DEFAULT '', ADD COLUMN IF NOT EXISTS seal_seq UInt64 DEFAULT 0, ADD COLUMN IF NOT EXISTS chain_index UInt32 DEFAULT 0;
ALTER TABLE error_logs ADD COLUMN IF NOT EXISTS row_hash String DEFAULT '', ADD COLUMN IF NOT EXISTS previous_hash String DEFAULT '', ADD COLUMN IF NOT EXISTS seal_seq UInt64 DEFAULT 0, ADD COLUMN IF NOT EXISTS chain_index UInt32 DEFAULT 0;
ALTER TABLE api_access_log ADD COLUMN IF NOT EXISTS row_hash String DEFAULT '', ADD COLUMN IF NOT EXISTS previous_hash String DEFAULT '', ADD COLUMN IF NOT EXISTS seal_seq UInt64 DEFAULT 0, ADD COLUMN IF NOT EXISTS chain_index UInt32 DEFAULT 0;
ALTER TABLE rate_limit_violations ADD COLUMN IF NOT EXISTS row_hash String DEFAULT '', ADD COLUMN IF NOT EXISTS previous_hash String DEFAULT '', ADD COLUMN IF NOT EXISTS seal_seq UInt64 DEFAULT 0, ADD COLUMN IF NOT EXISTS chain_index UInt32 DEFAULT 0;
ALTER TABLE user_sessions ADD COLUMN IF NOT EXISTS row_hash String DEFAULT '', ADD COLUMN IF NOT EXISTS previous_hash String DEFAULT '', ADD COLUMN IF NOT EXISTS seal_seq UInt64 DEFAULT 0, ADD COLUMN IF NOT EXISTS chain_index UInt32 DEFAULT 0;

-- Seed 003's names on auth_audit_log: blockchain_hash is the row hash; signature is the Ed25519 signature of the row's seal.
ALTER TABLE auth_audit_log ADD COLUMN IF NOT EXISTS blockchain_hash String ALIAS row_hash, ADD COLUMN IF NOT EXISTS signature String DEFAULT '';

CREATE TABLE IF NOT EXISTS integrity_seals
(
    table_name LowCardinality(String),
    seq UInt64,
    row_count UInt32,
    first_previous_hash String,
    last_hash String,
    rows_root String,
    previous_seal_hash String,
    sealed_at DateTime64(3, 'UTC'),
    key_id String,
    seal_hash String,
    signature String
)
ENGINE = MergeTree
ORDER BY (table_name, seq);

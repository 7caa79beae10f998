-- The risk worker's decision on each auth and failed_login event, stored in
-- the event's own row (and so sealed with it). risk_factors gives the points
-- of each signal, risk_reasons the same signals in words, e.g.
--   SELECT occurred_at, user_id, risk_score, risk_level, risk_action, risk_factors, risk_reasons
--   FROM auth_audit_log WHERE risk_level = 'high' ORDER BY occurred_at DESC LIMIT 20
-- Nullable or empty by default: rows written before the risk worker keep their hashes.
ALTER TABLE auth_audit_log
    ADD COLUMN IF NOT EXISTS risk_level LowCardinality(Nullable(String)),
    ADD COLUMN IF NOT EXISTS risk_action LowCardinality(Nullable(String)),
    ADD COLUMN IF NOT EXISTS risk_mode LowCardinality(Nullable(String)),
    ADD COLUMN IF NOT EXISTS risk_factors Map(LowCardinality(String), UInt8),
    ADD COLUMN IF NOT EXISTS risk_reasons Map(LowCardinality(String), String),
    ADD COLUMN IF NOT EXISTS risk_decided_at Nullable(DateTime64(3, 'UTC'));

ALTER TABLE failed_login_attempts
    ADD COLUMN IF NOT EXISTS risk_score Nullable(UInt8),
    ADD COLUMN IF NOT EXISTS risk_level LowCardinality(Nullable(String)),
    ADD COLUMN IF NOT EXISTS risk_action LowCardinality(Nullable(String)),
    ADD COLUMN IF NOT EXISTS risk_mode LowCardinality(Nullable(String)),
    ADD COLUMN IF NOT EXISTS risk_factors Map(LowCardinality(String), UInt8),
    ADD COLUMN IF NOT EXISTS risk_reasons Map(LowCardinality(String), String),
    ADD COLUMN IF NOT EXISTS risk_decided_at Nullable(DateTime64(3, 'UTC'));

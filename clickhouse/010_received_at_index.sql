-- The writer's duplicate check (README "Exactly once") looks for copies of
-- incoming rows among the rows received within WRITER_LOOKBACK_MINUTES
-- before them. The tables are ordered for queries by user and time, so
-- received_at is in no key: a minmax index on it lets that check skip every
-- granule received earlier, and its cost stays with the load instead of
-- growing with the table (docs/performance.md, "The writer's duplicate
-- check"). FIRST: skip indexes apply in the order they are declared, and
-- this one is far cheaper to read than the bloom filter on event_id, whose
-- work it spares for the granules it skips. MATERIALIZE builds it for the
-- parts written before (a background mutation: rows already stored keep
-- being read by the check until it has run on their part).

ALTER TABLE audit_logs ADD INDEX IF NOT EXISTS idx_received_at received_at TYPE minmax GRANULARITY 1 FIRST;
ALTER TABLE audit_logs MATERIALIZE INDEX idx_received_at;

ALTER TABLE auth_audit_log ADD INDEX IF NOT EXISTS idx_received_at received_at TYPE minmax GRANULARITY 1 FIRST;
ALTER TABLE auth_audit_log MATERIALIZE INDEX idx_received_at;

ALTER TABLE security_events ADD INDEX IF NOT EXISTS idx_received_at received_at TYPE minmax GRANULARITY 1 FIRST;
ALTER TABLE security_events MATERIALIZE INDEX idx_received_at;

ALTER TABLE failed_login_attempts ADD INDEX IF NOT EXISTS idx_received_at received_at TYPE minmax GRANULARITY 1 FIRST;
ALTER TABLE failed_login_attempts MATERIALIZE INDEX idx_received_at;

ALTER TABLE error_logs ADD INDEX IF NOT EXISTS idx_received_at received_at TYPE minmax GRANULARITY 1 FIRST;
ALTER TABLE error_logs MATERIALIZE INDEX idx_received_at;

ALTER TABLE api_access_log ADD INDEX IF NOT EXISTS idx_received_at received_at TYPE minmax GRANULARITY 1 FIRST;
ALTER TABLE api_access_log MATERIALIZE INDEX idx_received_at;

ALTER TABLE rate_limit_violations ADD INDEX IF NOT EXISTS idx_received_at received_at TYPE minmax GRANULARITY 1 FIRST;
ALTER TABLE rate_limit_violations MATERIALIZE INDEX idx_received_at;

ALTER TABLE user_sessions ADD INDEX IF NOT EXISTS idx_received_at received_at TYPE minmax GRANULARITY 1 FIRST;
ALTER TABLE user_sessions MATERIALIZE INDEX idx_received_at;

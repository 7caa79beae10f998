-- Verification and archiving read a table by seal (seal_seq BETWEEN a AND b), but
-- the tables are ordered for queries by user and time, and merges spread a
-- flush's rows over the whole part. A projection of _part_offset ordered by
-- seal_seq is a secondary index (ClickHouse 25.6+): a page reads only its
-- rows, so reading a table by seal stays linear in its size instead of
-- quadratic. ClickHouse uses it from min_table_rows_to_use_projection_index
-- rows (1M by default); below that a scan is as cheap. It stores seal_seq and
-- an offset per row. Mutations (ALTER … DELETE/UPDATE) rebuild it.

ALTER TABLE audit_logs ADD PROJECTION IF NOT EXISTS by_seal_seq (SELECT _part_offset ORDER BY seal_seq);
ALTER TABLE audit_logs MATERIALIZE PROJECTION by_seal_seq;

ALTER TABLE auth_audit_log ADD PROJECTION IF NOT EXISTS by_seal_seq (SELECT _part_offset ORDER BY seal_seq);
ALTER TABLE auth_audit_log MATERIALIZE PROJECTION by_seal_seq;

ALTER TABLE security_events ADD PROJECTION IF NOT EXISTS by_seal_seq (SELECT _part_offset ORDER BY seal_seq);
ALTER TABLE security_events MATERIALIZE PROJECTION by_seal_seq;

ALTER TABLE failed_login_attempts ADD PROJECTION IF NOT EXISTS by_seal_seq (SELECT _part_offset ORDER BY seal_seq);
ALTER TABLE failed_login_attempts MATERIALIZE PROJECTION by_seal_seq;

ALTER TABLE error_logs ADD PROJECTION IF NOT EXISTS by_seal_seq (SELECT _part_offset ORDER BY seal_seq);
ALTER TABLE error_logs MATERIALIZE PROJECTION by_seal_seq;

ALTER TABLE api_access_log ADD PROJECTION IF NOT EXISTS by_seal_seq (SELECT _part_offset ORDER BY seal_seq);
ALTER TABLE api_access_log MATERIALIZE PROJECTION by_seal_seq;

ALTER TABLE rate_limit_violations ADD PROJECTION IF NOT EXISTS by_seal_seq (SELECT _part_offset ORDER BY seal_seq);
ALTER TABLE rate_limit_violations MATERIALIZE PROJECTION by_seal_seq;

ALTER TABLE user_sessions ADD PROJECTION IF NOT EXISTS by_seal_seq (SELECT _part_offset ORDER BY seal_seq);
ALTER TABLE user_sessions MATERIALIZE PROJECTION by_seal_seq;

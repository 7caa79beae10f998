-- Materialized views for the questions dashboards ask all day, so they read
-- a few thousand pre-aggregated rows instead of scanning millions of events.
-- docs/analytics.md shows how to query each one, and how to backfill it.
--
-- How to read them:
--   * Merges are eventual: a key can sit in several rows until parts merge.
--     Always aggregate again: GROUP BY the key columns with sum(events) /
--     sum(attempts), uniqMerge(...) and quantilesMerge(0.5, 0.9, 0.99)(...).
--     Never read a count column without sum(), and do not rely on FINAL.
--   * A view sees only rows inserted after it was created. Rows that were in
--     the event tables before this migration need the one-off backfill in
--     docs/analytics.md ("Backfilling the materialized views").
--   * Buckets are UTC hours/days of occurred_at (when it happened, as the
--     sending app says), not of received_at. They are DateTime64(0) and
--     Date32, the hour computed from the epoch milliseconds: toStartOfHour
--     and toDate return DateTime and Date, which silently wrap around after
--     2106 and 2149 (an event dated 2299, which the API accepts, would be
--     counted in 2027).
--   * Deleting rows from an event table (retention, DROP PARTITION) does not
--     change the aggregates; they keep counting what was ingested.
--
-- Exactly once: the writer retries an INSERT with the same
-- insert_deduplication_token. ClickHouse 26 runs the views even for a block
-- the source table drops as a repeat, so every target has its own
-- non_replicated_deduplication_window. With the default
-- deduplicate_blocks_in_dependent_materialized_views = 1, each view's block
-- gets a token derived from the insert's, so the repeat is dropped there
-- too. (Measured on 26.7: without the window, or with that setting at 0, a
-- retry is counted twice.) Different inserts that aggregate to identical
-- blocks get different tokens and are both kept.
--
-- Every SELECT below is total (no casts that can throw): a view that fails
-- fails the INSERT into its source table, and the writer would dead-letter
-- good events.

-- Events per hour, by source app, kind and event type, across all eight tables.
CREATE TABLE IF NOT EXISTS events_per_hour
(
    hour DateTime64(0, 'UTC'),
    kind LowCardinality(String),
    source_app LowCardinality(String),
    event_type LowCardinality(String),
    events UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, kind, source_app, event_type)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS events_per_hour_audit_logs_mv TO events_per_hour AS
SELECT fromUnixTimestamp64Milli(intDiv(toUnixTimestamp64Milli(occurred_at), 3600000) * 3600000, 'UTC') AS hour, 'audit' AS kind, source_app, event_type, count() AS events
FROM audit_logs
GROUP BY hour, source_app, event_type;

CREATE MATERIALIZED VIEW IF NOT EXISTS events_per_hour_auth_audit_log_mv TO events_per_hour AS
SELECT fromUnixTimestamp64Milli(intDiv(toUnixTimestamp64Milli(occurred_at), 3600000) * 3600000, 'UTC') AS hour, 'auth' AS kind, source_app, event_type, count() AS events
FROM auth_audit_log
GROUP BY hour, source_app, event_type;

CREATE MATERIALIZED VIEW IF NOT EXISTS events_per_hour_security_events_mv TO events_per_hour AS
SELECT fromUnixTimestamp64Milli(intDiv(toUnixTimestamp64Milli(occurred_at), 3600000) * 3600000, 'UTC') AS hour, 'security' AS kind, source_app, event_type, count() AS events
FROM security_events
GROUP BY hour, source_app, event_type;

CREATE MATERIALIZED VIEW IF NOT EXISTS events_per_hour_failed_login_attempts_mv TO events_per_hour AS
SELECT fromUnixTimestamp64Milli(intDiv(toUnixTimestamp64Milli(occurred_at), 3600000) * 3600000, 'UTC') AS hour, 'failed_login' AS kind, source_app, event_type, count() AS events
FROM failed_login_attempts
GROUP BY hour, source_app, event_type;

CREATE MATERIALIZED VIEW IF NOT EXISTS events_per_hour_error_logs_mv TO events_per_hour AS
SELECT fromUnixTimestamp64Milli(intDiv(toUnixTimestamp64Milli(occurred_at), 3600000) * 3600000, 'UTC') AS hour, 'error' AS kind, source_app, event_type, count() AS events
FROM error_logs
GROUP BY hour, source_app, event_type;

CREATE MATERIALIZED VIEW IF NOT EXISTS events_per_hour_api_access_log_mv TO events_per_hour AS
SELECT fromUnixTimestamp64Milli(intDiv(toUnixTimestamp64Milli(occurred_at), 3600000) * 3600000, 'UTC') AS hour, 'api_access' AS kind, source_app, event_type, count() AS events
FROM api_access_log
GROUP BY hour, source_app, event_type;

CREATE MATERIALIZED VIEW IF NOT EXISTS events_per_hour_rate_limit_violations_mv TO events_per_hour AS
SELECT fromUnixTimestamp64Milli(intDiv(toUnixTimestamp64Milli(occurred_at), 3600000) * 3600000, 'UTC') AS hour, 'rate_limit' AS kind, source_app, event_type, count() AS events
FROM rate_limit_violations
GROUP BY hour, source_app, event_type;

CREATE MATERIALIZED VIEW IF NOT EXISTS events_per_hour_user_sessions_mv TO events_per_hour AS
SELECT fromUnixTimestamp64Milli(intDiv(toUnixTimestamp64Milli(occurred_at), 3600000) * 3600000, 'UTC') AS hour, 'session' AS kind, source_app, event_type, count() AS events
FROM user_sessions
GROUP BY hour, source_app, event_type;

-- Failed logins per source IP per hour. ip_address is '' when the app sent none.
-- accounts: distinct email addresses tried from that IP (uniqMerge(accounts)),
-- so one IP spraying many accounts stands out.
CREATE TABLE IF NOT EXISTS failed_logins_per_ip_hour
(
    hour DateTime64(0, 'UTC'),
    ip_address String,
    attempts SimpleAggregateFunction(sum, UInt64),
    accounts AggregateFunction(uniq, String),
    first_seen SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_seen SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, ip_address)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS failed_logins_per_ip_hour_mv TO failed_logins_per_ip_hour AS
SELECT
    fromUnixTimestamp64Milli(intDiv(toUnixTimestamp64Milli(occurred_at), 3600000) * 3600000, 'UTC') AS hour,
    ifNull(ip_address, '') AS ip_address,
    count() AS attempts,
    uniqState(lower(email_address)) AS accounts,
    min(occurred_at) AS first_seen,
    max(occurred_at) AS last_seen
FROM failed_login_attempts
GROUP BY hour, ip_address;

-- Failed logins per account per hour. The account is the email address as
-- tried, lower-cased (it may match no user; failed_login_attempts.user_id
-- says when it did). source_ips: distinct IPs (uniqMerge(source_ips)), so a
-- distributed brute force on one account stands out. lockouts: attempts that
-- came with a lockout_status.
CREATE TABLE IF NOT EXISTS failed_logins_per_account_hour
(
    hour DateTime64(0, 'UTC'),
    email_address String,
    attempts SimpleAggregateFunction(sum, UInt64),
    source_ips AggregateFunction(uniq, String),
    lockouts SimpleAggregateFunction(sum, UInt64),
    first_seen SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_seen SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, email_address)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS failed_logins_per_account_hour_mv TO failed_logins_per_account_hour AS
SELECT
    fromUnixTimestamp64Milli(intDiv(toUnixTimestamp64Milli(occurred_at), 3600000) * 3600000, 'UTC') AS hour,
    lower(email_address) AS email_address,
    count() AS attempts,
    uniqStateIf(ifNull(ip_address, ''), ip_address IS NOT NULL) AS source_ips,
    countIf(lockout_status IS NOT NULL) AS lockouts,
    min(occurred_at) AS first_seen,
    max(occurred_at) AS last_seen
FROM failed_login_attempts
GROUP BY hour, email_address;

-- The daily distribution of auth_audit_log.risk_score, per source app and
-- event type: counts per bucket (low < 30, medium 30-69, high >= 70), the
-- sum for averages (sum(risk_sum) / sum(events)), the maximum, and
-- quantiles, read with quantilesMerge(0.5, 0.9, 0.99)(risk_quantiles) (the
-- levels must be exactly these three, in this order).
CREATE TABLE IF NOT EXISTS auth_risk_daily
(
    day Date32,
    source_app LowCardinality(String),
    event_type LowCardinality(String),
    events SimpleAggregateFunction(sum, UInt64),
    low SimpleAggregateFunction(sum, UInt64),
    medium SimpleAggregateFunction(sum, UInt64),
    high SimpleAggregateFunction(sum, UInt64),
    risk_sum SimpleAggregateFunction(sum, UInt64),
    risk_max SimpleAggregateFunction(max, UInt8),
    risk_quantiles AggregateFunction(quantiles(0.5, 0.9, 0.99), UInt8)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, source_app, event_type)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS auth_risk_daily_mv TO auth_risk_daily AS
SELECT
    toDate32(occurred_at) AS day,
    source_app,
    event_type,
    count() AS events,
    countIf(risk_score < 30) AS low,
    countIf(risk_score >= 30 AND risk_score < 70) AS medium,
    countIf(risk_score >= 70) AS high,
    sum(risk_score) AS risk_sum,
    max(risk_score) AS risk_max,
    quantilesState(0.5, 0.9, 0.99)(risk_score) AS risk_quantiles
FROM auth_audit_log
GROUP BY day, source_app, event_type;

-- Every table an analyst can read names the app of its rows, so a key
-- restricted to apps reads them filtered (docs/tenancy.md, "Keys restricted
-- to apps"): the failed-login views and the dead-letter replays get
-- source_app. Tables with no app at all (integrity_*, schema_migrations)
-- are refused to such keys instead.
--
-- The failed-login views aggregate per app from now on: source_app joins the
-- sorting key (a new column may be added to its end in the same ALTER; the
-- primary key stays), so rows of two apps for one hour and IP never merge.
-- Rows aggregated before this migration keep source_app '' (no app): only
-- unrestricted keys see them. To rebuild them per app, truncate the table
-- and backfill it (docs/analytics.md, "Backfilling the materialized views").
-- Readers that aggregate again (GROUP BY hour, ip_address … sum(attempts))
-- get the same totals as before.

ALTER TABLE failed_logins_per_ip_hour ADD COLUMN IF NOT EXISTS source_app LowCardinality(String), MODIFY ORDER BY (hour, ip_address, source_app);

ALTER TABLE failed_logins_per_ip_hour_mv MODIFY QUERY
SELECT
    fromUnixTimestamp64Milli(intDiv(toUnixTimestamp64Milli(occurred_at), 3600000) * 3600000, 'UTC') AS hour,
    ifNull(ip_address, '') AS ip_address,
    source_app,
    count() AS attempts,
    uniqState(lower(email_address)) AS accounts,
    min(occurred_at) AS first_seen,
    max(occurred_at) AS last_seen
FROM failed_login_attempts
GROUP BY hour, ip_address, source_app;

ALTER TABLE failed_logins_per_account_hour ADD COLUMN IF NOT EXISTS source_app LowCardinality(String), MODIFY ORDER BY (hour, email_address, source_app);

ALTER TABLE failed_logins_per_account_hour_mv MODIFY QUERY
SELECT
    fromUnixTimestamp64Milli(intDiv(toUnixTimestamp64Milli(occurred_at), 3600000) * 3600000, 'UTC') AS hour,
    lower(email_address) AS email_address,
    source_app,
    count() AS attempts,
    uniqStateIf(ifNull(ip_address, ''), ip_address IS NOT NULL) AS source_ips,
    countIf(lockout_status IS NOT NULL) AS lockouts,
    min(occurred_at) AS first_seen,
    max(occurred_at) AS last_seen
FROM failed_login_attempts
GROUP BY hour, email_address, source_app;

-- The app of the replayed entry (dead_letter_events.source_app); '' for replays recorded before.
ALTER TABLE dead_letter_replays ADD COLUMN IF NOT EXISTS source_app LowCardinality(String);

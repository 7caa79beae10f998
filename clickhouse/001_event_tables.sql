-- One table per event kind, named after the seed tables.
--
-- Every table starts with the same envelope:
--   event_id      the event's UUID, client-chosen or generated; the idempotency key
--   source_app    name of the API key that sent it
--   event_type    the catalog type (or the kind's derived type)
--   occurred_at   when it happened (the seeds' created_at / timestamp)
--   received_at   when the ingest API accepted it
--   content_hash  SHA-256 of the event's canonical content, to detect a reused event_id with a different body
--
-- Partitioned by month of occurred_at. Key columns are not Nullable (ClickHouse
-- sort keys should not be): an absent user_id is stored as ''.
-- JSON columns (metadata, previous/new values, details, location…) use the JSON
-- type, so analysts can read inside them: `metadata.ip`, `new_value.status`.
-- non_replicated_deduplication_window lets a retried insert of the same block
-- (same insert_deduplication_token) be dropped by ClickHouse itself.

CREATE TABLE IF NOT EXISTS audit_logs
(
    event_id UUID,
    source_app LowCardinality(String),
    event_type LowCardinality(String),
    occurred_at DateTime64(3, 'UTC'),
    received_at DateTime64(3, 'UTC'),
    content_hash String,
    user_id String,
    action LowCardinality(Nullable(String)),
    action_type LowCardinality(Nullable(String)),
    entity_type LowCardinality(Nullable(String)),
    entity_id Nullable(String),
    triggered_by_type LowCardinality(Nullable(String)),
    triggered_by_id Nullable(String),
    previous_value Nullable(JSON),
    new_value Nullable(JSON),
    reason Nullable(String),
    operation_status LowCardinality(String),
    failure_reason Nullable(String),
    ip_address Nullable(String),
    user_agent Nullable(String),
    session_id Nullable(String),
    duration_ms Nullable(UInt32),
    metadata Nullable(JSON),
    INDEX idx_event_id event_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_event_type event_type TYPE set(512) GRANULARITY 4,
    INDEX idx_entity entity_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (user_id, event_type, occurred_at)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS auth_audit_log
(
    event_id UUID,
    source_app LowCardinality(String),
    event_type LowCardinality(String),
    occurred_at DateTime64(3, 'UTC'),
    received_at DateTime64(3, 'UTC'),
    content_hash String,
    user_id String,
    event_status LowCardinality(String),
    ip_address Nullable(String),
    user_agent Nullable(String),
    device_fingerprint Nullable(String),
    location Nullable(JSON),
    details Nullable(JSON),
    risk_score UInt8,
    session_id Nullable(String),
    correlation_id UUID,
    processed_at Nullable(DateTime64(3, 'UTC')),
    INDEX idx_event_id event_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_event_type event_type TYPE set(512) GRANULARITY 4,
    INDEX idx_ip ip_address TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (user_id, event_type, occurred_at)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS security_events
(
    event_id UUID,
    source_app LowCardinality(String),
    event_type LowCardinality(String),
    occurred_at DateTime64(3, 'UTC'),
    received_at DateTime64(3, 'UTC'),
    content_hash String,
    user_id String,
    severity_level LowCardinality(String),
    user_email Nullable(String),
    event_source LowCardinality(String),
    event_description String,
    ip_address Nullable(String),
    resource_involved Nullable(String),
    action_taken LowCardinality(Nullable(String)),
    metadata Nullable(JSON),
    event_category LowCardinality(Nullable(String)),
    threat_type LowCardinality(Nullable(String)),
    attack_vector LowCardinality(Nullable(String)),
    detection_method LowCardinality(Nullable(String)),
    is_resolved Bool,
    false_positive Bool,
    analyst_notes Nullable(String),
    resolved_at Nullable(DateTime64(3, 'UTC')),
    resolved_by Nullable(String),
    INDEX idx_event_id event_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_user user_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_ip ip_address TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (event_type, severity_level, occurred_at)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS failed_login_attempts
(
    event_id UUID,
    source_app LowCardinality(String),
    event_type LowCardinality(String),
    occurred_at DateTime64(3, 'UTC'),
    received_at DateTime64(3, 'UTC'),
    content_hash String,
    user_id String,
    email_address String,
    failure_reason LowCardinality(String),
    ip_address Nullable(String),
    user_agent Nullable(String),
    attempt_number_in_window UInt32,
    lockout_status LowCardinality(Nullable(String)),
    lockout_expires_at Nullable(DateTime64(3, 'UTC')),
    metadata Nullable(JSON),
    INDEX idx_event_id event_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_user user_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_ip ip_address TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (email_address, occurred_at)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS error_logs
(
    event_id UUID,
    source_app LowCardinality(String),
    event_type LowCardinality(String),
    occurred_at DateTime64(3, 'UTC'),
    received_at DateTime64(3, 'UTC'),
    content_hash String,
    error_code LowCardinality(String),
    error_type LowCardinality(String),
    severity_level LowCardinality(String),
    error_message String,
    technical_details Nullable(JSON),
    operation_type LowCardinality(Nullable(String)),
    resource_id Nullable(String),
    resource_type LowCardinality(Nullable(String)),
    user_context Nullable(String),
    request_path Nullable(String),
    http_status_code Nullable(UInt16),
    is_resolved Bool,
    resolved_by_admin_id Nullable(String),
    resolution_notes Nullable(String),
    resolved_verification_at Nullable(DateTime64(3, 'UTC')),
    retention_expires_at Nullable(DateTime64(3, 'UTC')),
    INDEX idx_event_id event_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_user user_context TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (event_type, severity_level, occurred_at)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS api_access_log
(
    event_id UUID,
    source_app LowCardinality(String),
    event_type LowCardinality(String),
    occurred_at DateTime64(3, 'UTC'),
    received_at DateTime64(3, 'UTC'),
    content_hash String,
    user_id String,
    request_id UUID,
    method LowCardinality(String),
    endpoint String,
    request_headers Nullable(JSON),
    request_body_hash Nullable(String),
    response_status Nullable(UInt16),
    response_time_ms Nullable(UInt32),
    bytes_sent UInt64,
    bytes_received UInt64,
    ip_address Nullable(String),
    user_agent Nullable(String),
    api_key_id Nullable(String),
    rate_limit_remaining Nullable(UInt32),
    INDEX idx_event_id event_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_user user_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_ip ip_address TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (endpoint, occurred_at)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS rate_limit_violations
(
    event_id UUID,
    source_app LowCardinality(String),
    event_type LowCardinality(String),
    occurred_at DateTime64(3, 'UTC'),
    received_at DateTime64(3, 'UTC'),
    content_hash String,
    user_id String,
    ip_address String,
    endpoint String,
    request_count UInt32,
    limit_threshold UInt32,
    time_window_minutes UInt32,
    violation_type LowCardinality(Nullable(String)),
    user_agent Nullable(String),
    blocked_duration_minutes UInt32,
    unblocked_at Nullable(DateTime64(3, 'UTC')),
    INDEX idx_event_id event_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_user user_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (ip_address, occurred_at)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS user_sessions
(
    event_id UUID,
    source_app LowCardinality(String),
    event_type LowCardinality(String),
    occurred_at DateTime64(3, 'UTC'),
    received_at DateTime64(3, 'UTC'),
    content_hash String,
    session_id String,
    user_id String,
    device_fingerprint Nullable(String),
    ip_address Nullable(String),
    user_agent Nullable(String),
    location Nullable(JSON),
    last_activity_at Nullable(DateTime64(3, 'UTC')),
    expires_at DateTime64(3, 'UTC'),
    is_active Bool,
    logout_reason LowCardinality(Nullable(String)),
    logout_at Nullable(DateTime64(3, 'UTC')),
    INDEX idx_event_id event_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_session session_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (user_id, occurred_at)
SETTINGS non_replicated_deduplication_window = 10000;

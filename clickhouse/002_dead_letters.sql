-- Events that could never be written, kept with their raw payload and the
-- error, so nothing is silently lost. `auditflow dlq replay` re-queues them;
-- dead_letter_replays records which entries were replayed (the pipeline's
-- idempotency makes a second replay harmless, this just keeps the list short).

CREATE TABLE IF NOT EXISTS dead_letter_events
(
    dead_letter_id UUID,
    event_id Nullable(UUID),
    source_app LowCardinality(String),
    kind LowCardinality(String),
    event_type LowCardinality(String),
    occurred_at Nullable(DateTime64(3, 'UTC')),
    received_at DateTime64(3, 'UTC'),
    failed_at DateTime64(3, 'UTC'),
    error String,
    attempts UInt32,
    raw_payload String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(failed_at)
ORDER BY (failed_at, dead_letter_id);

CREATE TABLE IF NOT EXISTS dead_letter_replays
(
    dead_letter_id UUID,
    replayed_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY dead_letter_id;

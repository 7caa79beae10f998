-- Retention prunes, recorded in the chain: every seal up to up_to_seq of the
-- table had its rows deleted on purpose. Signed like seals, so a forged prune
-- record cannot excuse a deletion.
CREATE TABLE IF NOT EXISTS integrity_prunes
(
    table_name LowCardinality(String),
    up_to_seq UInt64,
    rows_pruned UInt64,
    cutoff DateTime64(3, 'UTC'),
    pruned_at DateTime64(3, 'UTC'),
    policy_days UInt32,
    key_id String,
    prune_hash String,
    signature String
)
ENGINE = MergeTree
ORDER BY (table_name, up_to_seq);

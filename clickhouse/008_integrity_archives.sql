-- Retention archives, recorded beside the chain: the rows of seals
-- from_seq..to_seq of a table were exported to data_file (under
-- $DATA_DIR/archive/<table>/) with a signed manifest. The retention job
-- deletes a table with an archive policy only up to what these records,
-- validly signed and with their file present, cover.
CREATE TABLE IF NOT EXISTS integrity_archives
(
    table_name LowCardinality(String),
    from_seq UInt64,
    to_seq UInt64,
    rows UInt64,
    data_file String,
    data_sha256 String,
    archived_at DateTime64(3, 'UTC'),
    policy_days UInt32,
    key_id String,
    manifest_hash String,
    signature String
)
ENGINE = MergeTree
ORDER BY (table_name, from_seq);

-- Seals of the ClickHouse hash chains (see clickhouse/004_integrity.sql).
-- A seal is written here first (pending), then its rows and its copy go to
-- ClickHouse, then it is marked final. A pending seal found later is settled
-- by counting its rows in ClickHouse: all there → final; none → dropped.
CREATE TABLE IF NOT EXISTS integrity_seals (
    table_name text NOT NULL,
    seq bigint NOT NULL,
    row_count integer NOT NULL,
    first_previous_hash text NOT NULL,
    last_hash text NOT NULL,
    rows_root text NOT NULL,
    previous_seal_hash text NOT NULL,
    sealed_at timestamptz NOT NULL,
    key_id text NOT NULL,
    seal_hash text NOT NULL,
    signature text NOT NULL,
    final boolean NOT NULL DEFAULT false,
    PRIMARY KEY (table_name, seq)
);

-- Keys may carry the `retention` scope: read and change data_retention_policies
-- (GET/PATCH /v1/retention-policies). A key of its own, because it decides
-- when audit data is deleted: neither a reports key nor an ops key should.
ALTER TABLE api_keys DROP CONSTRAINT IF EXISTS api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check
    CHECK (scopes <@ ARRAY['ingest', 'query', 'reports', 'admin', 'risk', 'retention']::text[] AND cardinality(scopes) > 0);

-- archive_after_days is now acted on: the retention job exports sealed
-- flushes older than it to $DATA_DIR/archive before any deletion may touch
-- them. last_archive_at is when it last ran for the table.
ALTER TABLE data_retention_policies ADD COLUMN IF NOT EXISTS last_archive_at timestamptz;
COMMENT ON COLUMN data_retention_policies.archive_after_days IS 'Sealed flushes older than this are exported to $DATA_DIR/archive (signed manifest); NULL: never archived';

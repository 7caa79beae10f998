-- data_retention_policies (seed 003): how long each ClickHouse table keeps its
-- rows. The retention job (scheduler, daily) deletes whole sealed flushes
-- older than delete_after_days (or retention_period_days when that is unset)
-- and records each prune, signed, in the hash chain (integrity_prunes), so
-- verification tells a prune from tampering. Audit logs are never deleted
-- silently: every prune is itself an audit event (retention_pruned).
CREATE TABLE IF NOT EXISTS data_retention_policies (
    id serial PRIMARY KEY,
    table_name text NOT NULL UNIQUE CHECK (table_name IN ('audit_logs', 'auth_audit_log', 'security_events', 'failed_login_attempts', 'error_logs', 'api_access_log', 'rate_limit_violations', 'user_sessions')),
    retention_period_days integer NOT NULL CHECK (retention_period_days >= 0),
    -- Sealed flushes older than this are archived to $DATA_DIR/archive (see 010).
    archive_after_days integer CHECK (archive_after_days IS NULL OR archive_after_days >= 0),
    delete_after_days integer CHECK (delete_after_days IS NULL OR delete_after_days >= 0),
    last_cleanup_at timestamptz,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Defaults: audit and auth trails 7 years; security events 7 years; failed
-- logins, errors, rate-limit violations and sessions 1 year; API access 90 days.
INSERT INTO data_retention_policies (table_name, retention_period_days, delete_after_days) VALUES
    ('audit_logs', 2557, 2557),
    ('auth_audit_log', 2557, 2557),
    ('security_events', 2557, 2557),
    ('failed_login_attempts', 365, 365),
    ('error_logs', 365, 365),
    ('api_access_log', 90, 90),
    ('rate_limit_violations', 365, 365),
    ('user_sessions', 365, 365)
ON CONFLICT (table_name) DO NOTHING;

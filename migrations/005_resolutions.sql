-- How administrators resolved error logs and security events. Those events
-- live in ClickHouse, append-only and possibly sent by other apps; their
-- resolution is a mutable, per-deployment fact, so it is kept here and
-- joined in when administrators list them (GET /admin/error-logs,
-- GET /admin/security-events). One resolution per event.
CREATE TABLE IF NOT EXISTS event_resolutions (
    -- error_log | security_event
    kind text NOT NULL CHECK (kind IN ('error_log', 'security_event')),
    event_id uuid NOT NULL,
    resolved_by_admin_id uuid NOT NULL,
    -- error_logs.resolution_notes / security_events.analyst_notes
    resolution_notes text NOT NULL CHECK (char_length(resolution_notes) BETWEEN 1 AND 8000),
    false_positive boolean NOT NULL DEFAULT false,
    -- error_logs.resolved_verification_at / security_events.resolved_at
    resolved_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, event_id)
);

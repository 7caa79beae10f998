-- compliance_reports (seed 003), signed and chained. report_data is the
-- canonical JSON content; report_hash its SHA-256; previous_report_hash links
-- each report to the one generated before it (of any type), and signature is
-- Ed25519 over report_hash. One report per type and period.
CREATE TABLE IF NOT EXISTS compliance_reports (
    id bigserial PRIMARY KEY,
    report_type text NOT NULL CHECK (report_type IN ('daily_security_summary', 'weekly_access_review', 'monthly_compliance')),
    report_period_start timestamptz NOT NULL,
    report_period_end timestamptz NOT NULL,
    total_records integer NOT NULL DEFAULT 0,
    report_data jsonb NOT NULL,
    report_hash text NOT NULL,
    previous_report_hash text NOT NULL,
    signature text NOT NULL,
    key_id text NOT NULL,
    generated_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    submitted_to_authority boolean NOT NULL DEFAULT false,
    submission_date timestamptz,
    authority_acknowledgment text,
    UNIQUE (report_type, report_period_start, report_period_end)
);

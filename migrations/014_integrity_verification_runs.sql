-- Every integrity verification (the daily scheduled one, and those asked for
-- through the API or the CLI) leaves a row: the dashboard shows the latest,
-- reports cite it, and a broken chain is on record even if nobody was watching.
CREATE TABLE IF NOT EXISTS integrity_verification_runs (
    id bigserial PRIMARY KEY,
    trigger text NOT NULL CHECK (trigger IN ('scheduled', 'api', 'cli')),
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    range_from timestamptz,
    range_to timestamptz,
    ok boolean NOT NULL,
    rows_verified bigint NOT NULL,
    -- The tables and their first break, as GET /v1/integrity/verify answers.
    tables jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS integrity_verification_runs_finished ON integrity_verification_runs (finished_at DESC);

-- Apps may subscribe their webhook to a failed verification, and to a settings change that lowers protection.
ALTER TABLE app_webhooks DROP CONSTRAINT IF EXISTS app_webhooks_events_check;
ALTER TABLE app_webhooks ADD CONSTRAINT app_webhooks_events_check
    CHECK (events <@ ARRAY['subject.locked', 'subject.unlocked', 'subject.high_risk', 'integrity.failed', 'protection.weakened']::text[] AND cardinality(events) > 0);

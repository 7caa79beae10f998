-- A report may be scoped to some apps (issue 13): its figures are computed
-- from those apps' rows only, the scope is part of its signed content, and a
-- key restricted to apps sees only reports whose scope lies within them.
-- NULL: a global report over every app, as every report before this was.
ALTER TABLE compliance_reports ADD COLUMN IF NOT EXISTS scope_apps text[];
ALTER TABLE compliance_reports DROP CONSTRAINT IF EXISTS compliance_reports_scope_apps_check;
ALTER TABLE compliance_reports ADD CONSTRAINT compliance_reports_scope_apps_check CHECK (
  scope_apps IS NULL
  OR (cardinality(scope_apps) > 0 AND array_to_string(scope_apps, ',') ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}(,[A-Za-z0-9][A-Za-z0-9_.-]{0,99})*$')
);
-- One report per type, period and scope (was: per type and period). The
-- scope is stored sorted and without repeats, so one set of apps has one
-- spelling; the global report's scope is the empty array here.
DO $$
DECLARE c text;
BEGIN
  FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'compliance_reports'::regclass AND contype = 'u' LOOP
    EXECUTE format('ALTER TABLE compliance_reports DROP CONSTRAINT %I', c);
  END LOOP;
END $$;
CREATE UNIQUE INDEX IF NOT EXISTS compliance_reports_period_scope_key
  ON compliance_reports (report_type, report_period_start, report_period_end, (coalesce(scope_apps, '{}'::text[])));
-- Restricted keys list reports by scope.
CREATE INDEX IF NOT EXISTS compliance_reports_scope_apps_idx ON compliance_reports USING gin (scope_apps);

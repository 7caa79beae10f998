-- A resolution names its event by (source_app, event_id): two apps may send
-- the same event_id (issue 13), and resolving one app's event must not mark
-- the other's resolved.
ALTER TABLE event_resolutions ADD COLUMN IF NOT EXISTS source_app text;
-- Resolutions made before this name no app: the events are in ClickHouse,
-- out of reach of a migration. '' marks them until the API (or the report
-- builder) attaches each to the one app whose event with that id it was
-- (src/workers/legacy-resolutions.ts). Until then, and for good where two
-- apps had that id when it was resolved, such a row applies to no event.
UPDATE event_resolutions SET source_app = '' WHERE source_app IS NULL;
ALTER TABLE event_resolutions ALTER COLUMN source_app SET NOT NULL;
ALTER TABLE event_resolutions DROP CONSTRAINT IF EXISTS event_resolutions_pkey;
ALTER TABLE event_resolutions ADD CONSTRAINT event_resolutions_pkey PRIMARY KEY (kind, source_app, event_id);
CREATE INDEX IF NOT EXISTS event_resolutions_unattached_idx ON event_resolutions (kind, event_id) WHERE source_app = '';

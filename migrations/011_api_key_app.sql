-- A key belongs to an app: the app, not the key's name, is the source_app of
-- what the key sends, so a key can be rotated under a new name (several keys
-- per app) without the app's events, risk and webhooks splitting. Existing
-- keys keep their behaviour: their app is their name.
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS app text;
UPDATE api_keys SET app = name WHERE app IS NULL;
ALTER TABLE api_keys ALTER COLUMN app SET NOT NULL;
ALTER TABLE api_keys DROP CONSTRAINT IF EXISTS api_keys_app_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_app_check CHECK (app ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$');
CREATE INDEX IF NOT EXISTS api_keys_app_idx ON api_keys (app);

-- A key may be restricted to some apps' data (NULL: every app). Until every
-- cross-app reader enforces the restriction in the engine, such a key is
-- refused by them (see docs/tenancy.md).
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS apps text[];
ALTER TABLE api_keys DROP CONSTRAINT IF EXISTS api_keys_apps_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_apps_check CHECK (apps IS NULL OR cardinality(apps) > 0);

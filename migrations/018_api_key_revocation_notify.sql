-- Every API process caches checked API keys for API_KEY_CACHE_MS. A key
-- revoked by any path (the admin API, the CLI, or SQL typed by an operator)
-- now announces it on the channel api_key_revoked, with the key's id; each API
-- process listens and forgets its cached keys at once, so a revoked key is
-- refused from the next request everywhere, not up to the cache time later.
CREATE OR REPLACE FUNCTION api_key_revoked_notify() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('api_key_revoked', OLD.id::text);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS api_key_revoked_notify ON api_keys;
CREATE TRIGGER api_key_revoked_notify
  AFTER UPDATE OF revoked_at ON api_keys
  FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
  EXECUTE FUNCTION api_key_revoked_notify();

DROP TRIGGER IF EXISTS api_key_deleted_notify ON api_keys;
CREATE TRIGGER api_key_deleted_notify
  AFTER DELETE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION api_key_revoked_notify();

-- IP reputation is per app unless an operator trusts the app: only trusted
-- apps (any active key of theirs with this flag) feed the shared IP windows
-- and blocks that guard auditflow's own login (see docs/tenancy.md).
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS trusted_ip_reputation boolean NOT NULL DEFAULT false;

import { type AuditEventOutlet, PrivilegedActionAuditor, startupActor } from '../features/audit/privileged-action-auditor';
import { type AppliedMigrations, schemaMigrated } from '../features/audit/privileged-actions';
import { migrationFiles } from '../lib/clickhouse-migrations';
import { postgresMigrationFiles } from '../lib/pg-migrations';

/** The files applied to a schema that existed before: none when they began with the very first migration (an empty database). */
function upgraded(applied: string[], all: string[]): string[] {
  return applied[0] === all[0] ? [] : applied;
}

/**
 * A start that applied a new version's pending migrations changed a schema
 * that holds data: that is a `schema_migrated` event by `system`/`startup`,
 * as `auditflow migrate` is one by the operator. A first start on an empty
 * database (the schema created, no trail yet) and a start with nothing
 * pending record nothing. Each process records what it applied itself:
 * under `npm start` the worker process applies ClickHouse's files, and
 * PostgreSQL's are applied by whichever process takes their lock first.
 */
export function recordStartupMigrations(outlet: AuditEventOutlet, applied: AppliedMigrations, roles: readonly string[]): void {
  const changed = { postgresql: upgraded(applied.postgresql, postgresMigrationFiles()), clickhouse: upgraded(applied.clickhouse, migrationFiles()) };
  if (changed.postgresql.length + changed.clickhouse.length === 0) return;
  new PrivilegedActionAuditor(outlet).record(startupActor(roles), schemaMigrated(changed));
}

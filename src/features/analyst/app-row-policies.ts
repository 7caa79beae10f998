import { sourceAppFilter, type StoredTable } from './analyst-app-restriction';
import { quoteIdentifier } from '../../lib/clickhouse-identifier';

/**
 * A ClickHouse server's own way to restrict a user to some apps: a role
 * with SELECT on the tables and views that have `source_app`, a row policy
 * on each, and a user in that role. Unlike additional_table_filters (what
 * /clickhouse uses on both stores), a row policy is not a setting: nothing
 * in a query lifts it, and ClickHouse applies it before PREWHERE and inside
 * merge(). For analysts who connect to the server directly; the embedded
 * store has no access management (CREATE ROW POLICY: ACCESS_DENIED).
 */
export interface RowPolicyOptions {
  apps: string[];
  /** The ClickHouse user to create. */
  user: string;
  database: string;
  /** The database's tables (STORED_TABLES_SQL); only those with source_app are granted. */
  tables: StoredTable[];
  /** ON CLUSTER this cluster (CLICKHOUSE_CLUSTER). */
  cluster?: string;
  /** The settings profile the user gets (docs/analytics.md, "With a ClickHouse server"). */
  profile?: string;
}

/** The role's name for a set of apps: the same apps, in any order, make the same role. */
export function appsRoleName(apps: string[]): string {
  return `auditflow_apps_${[...new Set(apps)].sort().join('_')}`;
}

/** The statements that give `user` SELECT on `apps`' rows only, in order. */
export function rowPolicyStatements(options: RowPolicyOptions): string[] {
  const { apps, user, database, cluster } = options;
  if (apps.length === 0) throw new Error('name at least one app');
  const on = cluster ? ` ON CLUSTER ${quoteIdentifier(cluster)}` : '';
  const role = quoteIdentifier(appsRoleName(apps));
  const readable = options.tables.filter((t) => t.database === database && t.hasSourceApp).map((t) => `${quoteIdentifier(database)}.${quoteIdentifier(t.name)}`);
  if (readable.length === 0) throw new Error(`no table of ${database} has a source_app column: run the migrations first`);
  return [
    `CREATE ROLE IF NOT EXISTS ${role}${on}`,
    ...readable.map((table) => `GRANT${on} SELECT ON ${table} TO ${role}`),
    ...readable.map((table) => `CREATE ROW POLICY IF NOT EXISTS ${role} ON ${table}${on} FOR SELECT USING ${sourceAppFilter(apps)} TO ${role}`),
    `CREATE USER IF NOT EXISTS ${quoteIdentifier(user)}${on} IDENTIFIED WITH sha256_password BY 'choose-a-password' SETTINGS PROFILE '${options.profile ?? 'analyst_limits'}'`,
    // A new user's default roles are ALL: the role applies from its first query.
    `GRANT${on} ${role} TO ${quoteIdentifier(user)}`,
  ];
}

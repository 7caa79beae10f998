import { clickHouseException, type ClickHouseException } from '../../lib/clickhouse-exception';

/**
 * How a query key restricted to apps reads on /clickhouse: ClickHouse
 * itself drops every other app's rows, through `additional_table_filters`,
 * a setting that maps each table to a filter the engine applies wherever
 * that table is read (a subquery, a JOIN, a UNION, a view's or a CTE's
 * body, IN, a scalar subquery), set last in the query's SETTINGS after
 * readonly=1. Every table the store holds gets an entry:
 * - a table with a `source_app` column: `source_app IN (<the key's apps>)`;
 * - a few system tables that hold nothing of auditflow's data (system.one,
 *   which `SELECT 1` reads; numbers; functions…): none; system.settings,
 *   which clients read on connecting: all but the row of this map;
 * - every other table (integrity seals, schema_migrations, system.parts,
 *   system.tables, system.query_log…): a filter that throws, so reading it
 *   is refused (ACCESS_DENIED) rather than answered. Default deny: a table
 *   added later is covered the next query, as the list is read each time.
 * Pure; the runner reads the table list and runs the query.
 */

/** The apps a key may read; null for a key that reads every app. */
export type AppRestriction = string[] | null;

/** A table of the store, and whether it has a `source_app` column. */
export interface StoredTable {
  database: string;
  name: string;
  hasSourceApp: boolean;
}

/** The tables of the store, each with whether it has a `source_app` column: what {@link appFilters} needs. */
export const STORED_TABLES_SQL = `SELECT database, name, (database, name) IN (SELECT database, table FROM system.columns WHERE name = 'source_app') AS hasSourceApp
FROM system.tables`;

/** System tables that describe nothing of the data (functions, formats, time zones) or compute (one, numbers, zeros). */
const FREE_TABLES = new Set(
  [
    'one',
    'numbers',
    'numbers_mt',
    'zeros',
    'zeros_mt',
    'functions',
    'table_functions',
    'formats',
    'data_type_families',
    'time_zones',
    'collations',
    'table_engines',
    'aggregate_function_combinators',
  ].map((name) => `system.${name}`),
);

/**
 * System tables a restricted key reads through a filter of their own:
 * system.settings, which clients read when they connect (clickhouse-connect
 * asks which settings it may send), less the row that holds this very map
 * of filters.
 */
const FILTERED_SYSTEM_TABLES = new Map([['system.settings', "name != 'additional_table_filters'"]]);

/** System log tables that ClickHouse creates at their first flush: denied before they exist too. */
const LATE_SYSTEM_TABLES = [
  'query_log',
  'query_thread_log',
  'query_views_log',
  'query_metric_log',
  'part_log',
  'trace_log',
  'text_log',
  'metric_log',
  'asynchronous_metric_log',
  'session_log',
  'opentelemetry_span_log',
  'processors_profile_log',
  'asynchronous_insert_log',
  'backup_log',
  'blob_storage_log',
  'error_log',
  'filesystem_cache_log',
  's3queue_log',
  'crash_log',
  'latency_log',
  'zookeeper_log',
  'transactions_info_log',
  'background_schedule_pool_log',
];

/** The text a denied table's filter throws: the runner turns it into ACCESS_DENIED naming the table. */
const DENIED_MARKER = 'auditflow-restricted-table:';

/** A ClickHouse string literal. */
export function sqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The filter a table with a `source_app` column gets for `apps`. */
export function sourceAppFilter(apps: string[]): string {
  return `source_app IN (${apps.map(sqlString).join(', ')})`;
}

/** The value of additional_table_filters for a key restricted to `apps`, as a map literal for a SETTINGS clause. */
export function appFilters(apps: string[], tables: StoredTable[]): string {
  if (apps.length === 0) throw new Error('a restriction names at least one app');
  const filters = new Map<string, string>();
  for (const name of LATE_SYSTEM_TABLES) filters.set(`system.${name}`, denied(`system.${name}`));
  for (const table of tables) {
    const key = `${table.database}.${table.name}`;
    if (table.hasSourceApp) filters.set(key, sourceAppFilter(apps));
    else if (FREE_TABLES.has(key)) filters.delete(key);
    else if (FILTERED_SYSTEM_TABLES.has(key)) filters.set(key, FILTERED_SYSTEM_TABLES.get(key)!);
    else filters.set(key, denied(key));
  }
  return `{${[...filters].map(([key, filter]) => `${sqlString(key)}: ${sqlString(filter)}`).join(', ')}}`;
}

function denied(table: string): string {
  return `throwIf(1, ${sqlString(DENIED_MARKER + table)})`;
}

/**
 * A refusal as the key should read it: a denied table's filter firing becomes
 * ACCESS_DENIED naming the table, and READONLY (a setting or statement the
 * key may not use) becomes ACCESS_DENIED, a 403, since for a restricted key
 * it is the restriction that refuses. The filters map, long and the key's
 * own, is cut from ClickHouse's echo of the query.
 */
export function restrictedException(exception: ClickHouseException, apps: string[]): ClickHouseException {
  const message = exception.message.replace(/additional_table_filters = \{[^}]*\}/g, 'additional_table_filters = {…}');
  const table = new RegExp(`${DENIED_MARKER}([^'":\\s]+)`).exec(message)?.[1];
  if (table) {
    return clickHouseException('ACCESS_DENIED', `Not enough privileges: ${table} has no source_app column, and this API key is restricted to the apps ${apps.join(', ')}, so it cannot read it`);
  }
  if (exception.name === 'READONLY') return clickHouseException('ACCESS_DENIED', `Not enough privileges (this API key is restricted to the apps ${apps.join(', ')}): ${message}`);
  return { ...exception, message };
}

/** ClickHouse's summary of a query, less what counts rows read before the filters (the number of other apps' rows). */
export function restrictedSummary(summary: Record<string, string>): Record<string, string> {
  const { read_rows: _r, read_bytes: _b, total_rows_to_read: _t, result_rows: _rr, result_bytes: _rb, ...rest } = summary;
  return rest;
}

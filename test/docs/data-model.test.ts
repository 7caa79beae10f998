import fs from 'node:fs';
import path from 'node:path';
import { Pool } from 'pg';
import { HASHED_COLUMNS } from '../../src/domain/row-hash';
import { ensureDatabase } from '../../src/lib/pg';
import { migratePostgres } from '../../src/lib/pg-migrations';
import { createNamespace } from '../helpers/test-env';

const DOC = fs.readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'data-model.md'), 'utf8');

/** Every table the seed documents define, by seed. */
const SEED_TABLES: Record<string, string[]> = {
  '000': ['auth_user_event'],
  '001': ['user_audit_logs'],
  '002': [
    'todo_app_system_settings',
    'todo_app_error_logs',
    'todo_app_guestuser',
    'todo_app_authenticateduser',
    'todo_app_administrator',
    'todo_app_todos',
    'todo_app_todo_status_history',
    'todo_app_todo_snapshots',
    'todo_app_security_events',
    'todo_app_audit_logs',
    'todo_app_failed_login_attempts',
  ],
  '003': ['auth_audit_log', 'security_events', 'rate_limit_violations', 'user_sessions', 'compliance_reports', 'api_access_log', 'data_retention_policies'],
  '004': ['user_audit_log'],
};

/** Columns of the ClickHouse event tables besides the hashed ones: the chain's, and seed 003's names on auth_audit_log. */
const CHAIN_COLUMNS = ['row_hash', 'previous_hash', 'seal_seq', 'chain_index'];
const EXTRA_COLUMNS: Record<string, string[]> = { auth_audit_log: ['blockchain_hash', 'signature'] };

/** Every `table.column` the page names, for the tables in `tables`. */
function columnsNamed(tables: Set<string>): { table: string; column: string }[] {
  return [...DOC.matchAll(/`([a-z_]+)\.([a-z_]+)`/g)].filter(([, table]) => tables.has(table!)).map(([, table, column]) => ({ table: table!, column: column! }));
}

describe('docs/data-model.md', () => {
  it.each(Object.entries(SEED_TABLES).flatMap(([seed, tables]) => tables.map((table) => [seed, table])))('maps seed %s table %s, in the overview and in a section of its own', (seed, table) => {
    expect(DOC).toContain(`| ${seed} | \`${table}\` |`);
    expect(DOC).toContain(`### \`${table}\``);
  });

  it('names only columns the ClickHouse event tables have', () => {
    const named = columnsNamed(new Set(HASHED_COLUMNS.keys()));
    expect(named.length).toBeGreaterThan(100);
    const missing = named.filter(({ table, column }) => ![...HASHED_COLUMNS.get(table)!, ...CHAIN_COLUMNS, ...(EXTRA_COLUMNS[table] ?? [])].includes(column));
    expect(missing).toEqual([]);
  });

  it('names only columns the PostgreSQL tables have', async () => {
    const ns = createNamespace('datamodel');
    await ensureDatabase(ns.databaseUrl);
    const pool = new Pool({ connectionString: ns.databaseUrl, max: 1 });
    try {
      await migratePostgres(pool);
      const { rows } = await pool.query<{ table_name: string; column_name: string }>(`SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'`);
      const columns = new Set(rows.map((r) => `${r.table_name}.${r.column_name}`));
      // ClickHouse's tables are checked above; user_sessions is in both stores and named only in its own section.
      const tables = new Set([...rows.map((r) => r.table_name)].filter((t) => !HASHED_COLUMNS.has(t)));
      const named = columnsNamed(tables);
      expect(named.length).toBeGreaterThan(80);
      expect(named.filter(({ table, column }) => !columns.has(`${table}.${column}`))).toEqual([]);
    } finally {
      await pool.end();
      await ns.cleanup();
    }
  });
});

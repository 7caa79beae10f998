import fs from 'node:fs';
import path from 'node:path';
import type { ClickHouseClient } from './clickhouse';
import { clusterStatements } from './clickhouse-cluster';

export const CLICKHOUSE_MIGRATIONS_DIR = path.resolve(__dirname, '..', '..', 'clickhouse');

/** Splits a migration file into statements (`;` at the end of a line ends one). */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean);
}

export interface ClickHouseMigrationOptions {
  /** Apply the cluster variant, ON CLUSTER this cluster (CLICKHOUSE_CLUSTER). Default: one node. */
  cluster?: string;
  /** Default: the clickhouse/ folder of the package. */
  dir?: string;
  /** Hears of each migration once it is recorded, so a caller knows what was applied before one failed. */
  onApplied?: (file: string) => void;
}

/** The table of applied versions, created before any migration. */
export const SCHEMA_MIGRATIONS = `CREATE TABLE IF NOT EXISTS schema_migrations (version String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
ENGINE = ReplacingMergeTree ORDER BY version`;

/** A migration's statements as applied: as written, or their cluster variant (src/lib/clickhouse-cluster.ts). */
export function migrationStatements(sql: string, cluster?: string): string[] {
  const statements = splitStatements(sql);
  return cluster ? statements.flatMap((statement) => clusterStatements(statement, cluster)) : statements;
}

/** The migration files, in the order they apply. */
export function migrationFiles(dir = CLICKHOUSE_MIGRATIONS_DIR): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d+_.*\.sql$/.test(f))
    .sort();
}

/**
 * Applies `clickhouse/NNN_*.sql` in order. Every statement is idempotent
 * (IF NOT EXISTS), and applied versions are recorded, so running this at
 * every start is safe.
 */
export async function migrateClickHouse(client: ClickHouseClient, options: ClickHouseMigrationOptions = {}): Promise<string[]> {
  const dir = options.dir ?? CLICKHOUSE_MIGRATIONS_DIR;
  for (const statement of migrationStatements(SCHEMA_MIGRATIONS, options.cluster)) await client.command({ query: statement });
  const done = new Set((await (await client.query({ query: 'SELECT version FROM schema_migrations', format: 'JSONEachRow' })).json<{ version: string }>()).map((r) => r.version));
  const applied: string[] = [];
  for (const file of migrationFiles(dir)) {
    if (done.has(file)) continue;
    try {
      for (const statement of migrationStatements(fs.readFileSync(path.join(dir, file), 'utf8'), options.cluster)) {
        await client.command({ query: statement });
      }
      await client.insert({
        table: 'schema_migrations',
        values: [{ version: file }],
        format: 'JSONEachRow',
        clickhouse_settings: { async_insert: 0 },
      });
    } catch (error) {
      // Named as PostgreSQL's are: the operator (and the audit event) learn which file stopped the run.
      throw new Error(`ClickHouse migration ${file} failed: ${(error as Error).message}`, { cause: error });
    }
    applied.push(file);
    options.onApplied?.(file);
  }
  return applied;
}

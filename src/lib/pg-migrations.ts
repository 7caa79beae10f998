import fs from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import { withTransaction } from './pg';

export const PG_MIGRATIONS_DIR = path.resolve(__dirname, '..', '..', 'migrations');

/** Arbitrary constant: the advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK = 7_246_118_001;

/**
 * A migration file: a version (a number, and a letter when one number holds
 * several), then a name. Files apply in file-name order.
 */
const MIGRATION_FILE = /^\d+[a-z]?_.*\.sql$/;

/**
 * Migrations renamed after databases had recorded them, each with the name
 * it was applied under. Two migrations shared 009 and two shared 010; they
 * became 009a/009b and 010a/010b, in the order they always ran. A database
 * keeps its old names in schema_migrations, and a file counts as applied
 * under either name, so nothing runs twice (running 009_risk again would
 * narrow the API key scopes that 010 widened).
 */
const FORMER_NAMES: Readonly<Record<string, string>> = {
  '009a_locked_users_index.sql': '009_locked_users_index.sql',
  '009b_risk.sql': '009_risk.sql',
  '010a_retention_api_and_archive.sql': '010_retention_api_and_archive.sql',
  '010b_step_up.sql': '010_step_up.sql',
};

/** The migration files in `dir`, in the order they apply. */
export function postgresMigrationFiles(dir = PG_MIGRATIONS_DIR): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => MIGRATION_FILE.test(f))
    .sort();
}

/**
 * Applies `migrations/NNN_*.sql` in order, each in its own transaction, once.
 * `onApplied` hears of each as it commits, so a caller knows what was
 * applied before one failed (`auditflow migrate` audits it).
 */
export async function migratePostgres(pool: Pool, dir = PG_MIGRATIONS_DIR, onApplied?: (file: string) => void): Promise<string[]> {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ version: string }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => r.version));
    for (const file of postgresMigrationFiles(dir)) {
      const former = FORMER_NAMES[file];
      if (done.has(file) || (former !== undefined && done.has(former))) continue;
      try {
        // On the client holding the advisory lock: withTransaction leaves releasing it to the finally below.
        await withTransaction(client, async (tx) => {
          await tx.query(fs.readFileSync(path.join(dir, file), 'utf8'));
          await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [file]);
        });
      } catch (error) {
        throw new Error(`PostgreSQL migration ${file} failed: ${(error as Error).message}`, { cause: error });
      }
      applied.push(file);
      onApplied?.(file);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
  return applied;
}

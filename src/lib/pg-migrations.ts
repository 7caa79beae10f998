import fs from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import { withTransaction } from './pg';

export const PG_MIGRATIONS_DIR = path.resolve(__dirname, '..', '..', 'migrations');

/** Arbitrary constant: the advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK = 7_246_118_001;

/** Applies `migrations/NNN_*.sql` in order, each in its own transaction, once. */
export async function migratePostgres(pool: Pool, dir = PG_MIGRATIONS_DIR): Promise<string[]> {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ version: string }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => r.version));
    for (const file of fs.readdirSync(dir).filter((f) => /^\d+_.*\.sql$/.test(f)).sort()) {
      if (done.has(file)) continue;
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
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
  return applied;
}

import fs from 'node:fs';
import path from 'node:path';
import type { ClickHouseClient } from './clickhouse';

export const CLICKHOUSE_MIGRATIONS_DIR = path.resolve(__dirname, '..', '..', 'clickhouse');

/** Splits a migration file into statements (`;` at the end of a line ends one). */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean);
}

/**
 * Applies `clickhouse/NNN_*.sql` in order. Every statement is idempotent
 * (IF NOT EXISTS), and applied versions are recorded, so running this at
 * every start is safe.
 */
export async function migrateClickHouse(client: ClickHouseClient, dir = CLICKHOUSE_MIGRATIONS_DIR): Promise<string[]> {
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS schema_migrations (version String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
            ENGINE = ReplacingMergeTree ORDER BY version`,
  });
  const done = new Set(
    (await (await client.query({ query: 'SELECT version FROM schema_migrations', format: 'JSONEachRow' })).json<{ version: string }>()).map(
      (r) => r.version,
    ),
  );
  const applied: string[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => /^\d+_.*\.sql$/.test(f)).sort()) {
    if (done.has(file)) continue;
    for (const statement of splitStatements(fs.readFileSync(path.join(dir, file), 'utf8'))) {
      await client.command({ query: statement });
    }
    await client.insert({
      table: 'schema_migrations',
      values: [{ version: file }],
      format: 'JSONEachRow',
      clickhouse_settings: { async_insert: 0 },
    });
    applied.push(file);
  }
  return applied;
}

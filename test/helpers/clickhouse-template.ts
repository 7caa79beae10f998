import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../../src/config/env';
import { openClickHouse } from '../../src/lib/clickhouse';
import { CLICKHOUSE_MIGRATIONS_DIR, migrateClickHouse, migrationFiles } from '../../src/lib/clickhouse-migrations';

/**
 * A chDB store with every migration applied, built once and copied into each
 * namespace that starts the product in-process: its start then finds the
 * migrations done, instead of spending most of a second of DDL in every test
 * file. Keyed by the migration files and the chDB version, so a changed
 * migration builds a new one. Tests of migrating itself, and every child
 * `auditflow` process, start from an empty store as before.
 */
function templateDir(database: string): string {
  const hash = createHash('sha256').update(database);
  hash.update(require('chdb/package.json').version as string);
  for (const file of migrationFiles()) hash.update(file).update(fs.readFileSync(path.join(CLICKHOUSE_MIGRATIONS_DIR, file)));
  return path.join(os.tmpdir(), `af-clickhouse-template-${hash.digest('hex').slice(0, 16)}`);
}

async function buildTemplate(target: string, database: string): Promise<void> {
  const building = fs.mkdtempSync(`${target}.building-`);
  const client = await openClickHouse({ mode: 'embedded', path: building, database });
  try {
    await migrateClickHouse(client);
  } finally {
    await client.close();
  }
  // Written next to the store by its owner: a copy must not name this process as the owner.
  fs.rmSync(path.join(building, 'status'), { force: true });
  try {
    fs.renameSync(building, target);
  } catch {
    // Another test worker built it first: theirs is the same.
    fs.rmSync(building, { recursive: true, force: true });
  }
}

/** Copies the migrated template into the namespace's store, if the store is embedded and not created yet. */
export async function seedClickHouseStore(config: Config): Promise<void> {
  const store = config.clickhouse;
  if (store.mode !== 'embedded' || fs.existsSync(store.path)) return;
  const template = templateDir(store.database);
  if (!fs.existsSync(template)) await buildTemplate(template, store.database);
  fs.cpSync(template, store.path, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
}

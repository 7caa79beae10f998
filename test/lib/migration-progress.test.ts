/**
 * A migration run that fails partway says which file stopped it, and its
 * caller has heard of every file applied before (`auditflow migrate` puts
 * both in its FAILURE audit event). PostgreSQL and ClickHouse alike.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { openClickHouse, type ClickHouseClient } from '../../src/lib/clickhouse';
import { migrateClickHouse } from '../../src/lib/clickhouse-migrations';
import { ensureDatabase } from '../../src/lib/pg';
import { migratePostgres } from '../../src/lib/pg-migrations';
import { createNamespace } from '../helpers/test-env';

const ns = createNamespace('migrationprogress');
let pool: Pool;
let clickhouse: ClickHouseClient;
const dirs: string[] = [];

/** A migrations folder holding these files. */
function folder(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-migrations-'));
  dirs.push(dir);
  for (const [name, sql] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), sql);
  return dir;
}

beforeAll(async () => {
  await ensureDatabase(ns.databaseUrl);
  pool = new Pool({ connectionString: ns.databaseUrl, max: 2 });
  clickhouse = await openClickHouse(ns.config().clickhouse);
});
afterAll(async () => {
  await pool.end();
  await clickhouse.close();
  await ns.cleanup();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

it('PostgreSQL: reports each migration as it commits, and names the one that failed', async () => {
  const dir = folder({
    '001_first.sql': 'CREATE TABLE first_table (id int);',
    '002_second.sql': 'CREATE TABLE second_table (id int);',
    '003_broken.sql': 'CREATE TABLE first_table (id int);',
    '004_never.sql': 'CREATE TABLE never_table (id int);',
  });
  const heard: string[] = [];
  await expect(migratePostgres(pool, dir, (file) => heard.push(file))).rejects.toThrow(/^PostgreSQL migration 003_broken\.sql failed: relation "first_table" already exists/);
  expect(heard).toEqual(['001_first.sql', '002_second.sql']);
  // What it reported is what it recorded.
  expect((await pool.query('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version)).toEqual(heard);
});

it('ClickHouse: reports each migration once recorded, and names the one that failed', async () => {
  const dir = folder({
    '001_first.sql': 'CREATE TABLE IF NOT EXISTS progress_first (id UInt32) ENGINE = MergeTree ORDER BY id;',
    '002_broken.sql': 'ALTER TABLE progress_missing ADD COLUMN x UInt32;',
    '003_never.sql': 'CREATE TABLE IF NOT EXISTS progress_never (id UInt32) ENGINE = MergeTree ORDER BY id;',
  });
  const heard: string[] = [];
  await expect(migrateClickHouse(clickhouse, { dir, onApplied: (file) => heard.push(file) })).rejects.toThrow(/^ClickHouse migration 002_broken\.sql failed: .*progress_missing/s);
  expect(heard).toEqual(['001_first.sql']);
});

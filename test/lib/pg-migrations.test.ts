import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { ensureDatabase } from '../../src/lib/pg';
import { migratePostgres, PG_MIGRATIONS_DIR } from '../../src/lib/pg-migrations';
import { createNamespace, type TestNamespace } from '../helpers/test-env';

/** The names the renumbered migrations had before, as existing databases recorded them. */
const OLD_NAMES: Record<string, string> = {
  '009a_locked_users_index.sql': '009_locked_users_index.sql',
  '009b_risk.sql': '009_risk.sql',
  '010a_retention_api_and_archive.sql': '010_retention_api_and_archive.sql',
  '010b_step_up.sql': '010_step_up.sql',
};

const files = () =>
  fs
    .readdirSync(PG_MIGRATIONS_DIR)
    .filter((f) => f.endsWith('.sql'))
    .sort();

const namespaces: TestNamespace[] = [];
const pools: Pool[] = [];
const dirs: string[] = [];

/** A new, empty database of its own. */
async function database(): Promise<Pool> {
  const ns = createNamespace('pgmigrations');
  namespaces.push(ns);
  await ensureDatabase(ns.databaseUrl);
  const pool = new Pool({ connectionString: ns.databaseUrl, max: 2 });
  pools.push(pool);
  return pool;
}

/** The migrations folder as auditflow shipped it before the renumbering, up to the file `last` (by its old name). */
function oldMigrations(last?: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-old-migrations-'));
  dirs.push(dir);
  for (const file of files()) {
    const name = OLD_NAMES[file] ?? file;
    if (last === undefined || name <= last) fs.copyFileSync(path.join(PG_MIGRATIONS_DIR, file), path.join(dir, name));
  }
  return dir;
}

async function recorded(pool: Pool): Promise<string[]> {
  return (await pool.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version);
}

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await Promise.all(namespaces.map((ns) => ns.cleanup()));
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('PostgreSQL migrations', () => {
  it('each has a version of its own', () => {
    const versions = files().map((f) => /^(\d+[a-z]?)_/.exec(f)?.[1]);
    expect(versions).not.toContain(undefined);
    expect(new Set(versions).size).toBe(versions.length);
  });

  it('a fresh database applies them in the order they always ran', async () => {
    const applied = await migratePostgres(await database());
    const before = await migratePostgres(await database(), oldMigrations());
    expect(applied.map((f) => OLD_NAMES[f] ?? f)).toEqual(before);
  });

  it('a database that applied them under their old names applies none of them again', async () => {
    const pool = await database();
    await migratePostgres(pool, oldMigrations());
    const names = await recorded(pool);
    expect(names).toEqual(expect.arrayContaining(Object.values(OLD_NAMES)));

    expect(await migratePostgres(pool)).toEqual([]);
    expect(await recorded(pool)).toEqual(names);
  });

  it('a database migrated before the 010s existed applies only what it lacks, under the new names', async () => {
    const pool = await database();
    await migratePostgres(pool, oldMigrations('009_risk.sql'));

    const applied = await migratePostgres(pool);
    expect(applied).toEqual(files().filter((f) => f > '009b_risk.sql'));
    expect(applied[0]).toBe('010a_retention_api_and_archive.sql');
    expect(await recorded(pool)).toEqual(expect.arrayContaining(['009_locked_users_index.sql', '009_risk.sql', '010a_retention_api_and_archive.sql', '010b_step_up.sql']));
  });

  it('017 restarts the lockout escalation of accounts unlocked or logged in since their last lock, and keeps every other count', async () => {
    const pool = await database();
    await migratePostgres(pool, oldMigrations('016_resolutions_by_app.sql'));
    const hash = 'x'.repeat(60);
    // [email, locked_until, last_login_at, lock_count]: as the old code left them.
    const users: [string, string | null, string | null, number][] = [
      ['unlocked@example.com', null, null, 3], // an unlock or a reset set locked_until to NULL
      ['back@example.com', "now() - interval '2 days'", "now() - interval '1 day'", 2], // logged in after the lock ended
      ['attacked@example.com', "now() - interval '1 day'", "now() - interval '2 days'", 4], // locked again since the last login
      ['forever@example.com', "'9999-12-31'", "now() - interval '2 days'", 6], // a permanent lock
    ];
    for (const [email, lockedUntil, lastLogin, count] of users) {
      await pool.query(`INSERT INTO users (email, password_hash, locked_until, last_login_at, lock_count) VALUES ($1, $2, ${lockedUntil ?? 'NULL'}, ${lastLogin ?? 'NULL'}, $3)`, [email, hash, count]);
      await pool.query(`INSERT INTO login_throttle (email, window_started_at, locked_until, lock_count) VALUES ($1, now(), ${lockedUntil ?? 'NULL'}, $2)`, [email, count]);
    }
    await pool.query(`INSERT INTO administrators (email, password_hash, last_login_at) VALUES ('back@admin.example', $1, now()), ('out@admin.example', $1, now() - interval '2 days')`, [hash]);
    await pool.query(`INSERT INTO login_throttle (email, window_started_at, locked_until, lock_count) VALUES
      ('admin:back@admin.example', now(), now() - interval '1 day', 5), ('admin:out@admin.example', now(), now() - interval '1 day', 5), ('nobody@example.com', now(), now() - interval '1 day', 2)`);

    expect((await migratePostgres(pool))[0]).toBe('017_lock_escalation_since_clearance.sql');
    const counts = async (table: string) =>
      Object.fromEntries((await pool.query<{ email: string; lock_count: number }>(`SELECT email::text, lock_count FROM ${table} ORDER BY email`)).rows.map((r) => [r.email, r.lock_count]));
    expect(await counts('users')).toEqual({ 'attacked@example.com': 4, 'back@example.com': 0, 'forever@example.com': 6, 'unlocked@example.com': 0 });
    expect(await counts('login_throttle')).toEqual({
      'admin:back@admin.example': 0,
      'admin:out@admin.example': 5,
      'attacked@example.com': 4,
      'back@example.com': 0,
      'forever@example.com': 6,
      'nobody@example.com': 2,
      'unlocked@example.com': 0,
    });
  });
});

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config/env';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * A private namespace for one test file: its own PostgreSQL database, Redis
 * key prefix and chDB directory, so files can run in parallel and leave
 * nothing behind.
 */
export interface TestNamespace {
  id: string;
  dataDir: string;
  databaseUrl: string;
  queuePrefix: string;
  /** Environment variables for a child `auditflow` process in this namespace. */
  env: (overrides?: Record<string, string>) => Record<string, string>;
  config: (overrides?: Record<string, string>) => Config;
  cleanup: () => Promise<void>;
}

export function createNamespace(label: string): TestNamespace {
  const id = `${label
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase()
    .slice(0, 20)}_${randomBytes(4).toString('hex')}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `af-${id}-`));
  const admin = new URL(PG_ADMIN_URL);
  admin.pathname = `/af_test_${id}`;
  const databaseUrl = admin.toString();
  const queuePrefix = `aftest-${id}`;
  const env = (overrides: Record<string, string> = {}) => ({
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    QUEUE_PREFIX: queuePrefix,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    // Many files run the API with no worker: a queue nobody drains must not start refusing (lag admission, INGEST_MAX_LAG_MS).
    INGEST_MAX_LAG_MS: '60000',
    // Jest runs the API in the test's own process, busy with the test itself: no shedding on that (INGEST_MAX_BUSY_PERCENT).
    INGEST_MAX_BUSY_PERCENT: '0',
    ...overrides,
  });
  return {
    id,
    dataDir,
    databaseUrl,
    queuePrefix,
    env,
    config: (overrides = {}) => loadConfig(env(overrides)),
    cleanup: async () => {
      const pg = new Client({ connectionString: PG_ADMIN_URL });
      await pg.connect();
      // pg's Pool.end() resolves before its clients' sockets close: a FORCE drop at once would end such a
      // session with 57P01, which its client re-emits as an 'error' on the pool after the test ended.
      for (let waited = 0; waited < 2000; waited += 50) {
        const { rows } = await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [`af_test_${id}`]);
        if (rows[0]!.n === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await pg.query(`DROP DATABASE IF EXISTS "af_test_${id}" WITH (FORCE)`);
      await pg.end();
      const redis = new Redis(REDIS_URL);
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${queuePrefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
      await redis.quit();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns a truthy value, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 20_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * For a stack whose tests change settings in SQL: a settings cache (SETTINGS_CACHE_MS) short enough
 * that waiting it out costs little, and the wait.
 */
export const SHORT_SETTINGS_CACHE = { SETTINGS_CACHE_MS: '200' } as const;
export function settingsCacheExpired(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Number(SHORT_SETTINGS_CACHE.SETTINGS_CACHE_MS) + 100));
}

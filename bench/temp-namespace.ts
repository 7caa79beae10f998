import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Client, Pool } from 'pg';
import type { ApiKeyScope } from '../src/features/api-keys/api-key.repository';
import { product } from '../traffic/product';

/**
 * A throwaway namespace for one bench or simulator run, so it works on a
 * fresh machine with only Redis and PostgreSQL running and leaves nothing
 * behind: its own temp dir (DATA_DIR, chDB store), PostgreSQL database and
 * Redis key prefix (queues and risk state).
 */
export interface TempNamespace {
  runId: string;
  tmpDir: string;
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  /** The product's environment for a server in this namespace (DATA_DIR under tmpDir/<dataDir>, port 0, loopback). */
  serverEnv(dataDir?: string): NodeJS.ProcessEnv;
  /** Migrates the database and creates an API key (name = the source app of what it posts). */
  createApiKey(name: string, scopes: ApiKeyScope[]): Promise<string>;
  /** Drops the database, deletes the prefix's Redis keys and the temp dir; reports what it did through `log`. */
  cleanup(): Promise<void>;
}

export function createTempNamespace(label: string, log: (line: string) => void): TempNamespace {
  const runId = randomBytes(4).toString('hex');
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), `auditflow-${label}-${runId}-`));
  const dbName = `auditflow_${label}_${runId}`;
  const pgBase = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
  const databaseUrl = `${pgBase}/${dbName}`;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const queuePrefix = `${label}-${runId}`;

  return {
    runId,
    tmpDir,
    databaseUrl,
    redisUrl,
    queuePrefix,
    serverEnv(dataDir = 'server') {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        DATA_DIR: path.join(tmpDir, dataDir),
        DATABASE_URL: databaseUrl,
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: queuePrefix,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
      };
      // Embedded chDB in the temp dir, never a ClickHouse server the caller's shell points at.
      delete env.CLICKHOUSE_URL;
      return env;
    },
    async createApiKey(name, scopes) {
      await product.pg().ensureDatabase(databaseUrl);
      const pool = new Pool({ connectionString: databaseUrl, max: 2 });
      try {
        await product.pgMigrations().migratePostgres(pool);
        const { ApiKeyRepository } = product.apiKeyRepository();
        const { ApiKeyService } = product.apiKeyService();
        return (await new ApiKeyService(new ApiKeyRepository(pool)).create(name, scopes)).key;
      } finally {
        await pool.end();
      }
    },
    async cleanup() {
      fs.rmSync(tmpDir, { recursive: true, force: true });
      try {
        const admin = new Client({ connectionString: `${pgBase}/postgres` });
        await admin.connect();
        try {
          await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
        } finally {
          await admin.end();
        }
      } catch (error) {
        log(`could not drop database ${dbName}: ${String(error)}`);
      }
      try {
        const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
        await redis.connect();
        let cursor = '0';
        let deleted = 0;
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${queuePrefix}:*`, 'COUNT', 5000);
          cursor = next;
          if (keys.length > 0) deleted += await redis.unlink(...keys);
        } while (cursor !== '0');
        await redis.quit();
        log(`cleaned up: temp dir, database ${dbName}, ${deleted} Redis keys under ${queuePrefix}:`);
      } catch (error) {
        log(`could not delete Redis keys ${queuePrefix}:*: ${String(error)}`);
      }
    },
  };
}

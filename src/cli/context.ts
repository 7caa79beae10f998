import type { Pool } from 'pg';
import { loadConfig, type Config } from '../config/env';
import { clickHouseCluster, embeddedStoreOwner, openClickHouse, type ClickHouseClient } from '../lib/clickhouse';
import { migrateClickHouse } from '../lib/clickhouse-migrations';
import { createLogger, type Logger } from '../lib/logger';
import { createPgPool, ensureDatabase } from '../lib/pg';
import { migratePostgres } from '../lib/pg-migrations';
import { createWorkerRedis } from '../lib/redis';
import { runControlJob } from '../queues/control-client';
import type { ControlJob, ControlResult } from '../queues/queue-names';
import { createControlQueue } from '../queues/queues';

/** Config and a quiet logger for one CLI command. */
export function cliContext(): { config: Config; logger: Logger } {
  const config = loadConfig();
  return { config, logger: createLogger(config.logLevel) };
}

/** Runs fn with a migrated PostgreSQL pool, closing it afterwards. */
export async function withPostgres<T>(config: Config, fn: (pg: Pool) => Promise<T>): Promise<T> {
  await ensureDatabase(config.databaseUrl);
  const pg = createPgPool(config.databaseUrl, 2);
  try {
    await migratePostgres(pg);
    return await fn(pg);
  } finally {
    await pg.end();
  }
}

/**
 * Runs a ClickHouse command where ClickHouse is. While a running auditflow
 * owns the embedded store, its worker runs `job` (a control job) and this
 * waits for the result; otherwise (stopped, or a ClickHouse server) `direct`
 * runs here with migrated connections of its own.
 */
export async function runWhereClickHouseIs<T extends ControlResult['type']>(
  config: Config,
  job: Extract<ControlJob, { type: T }>,
  timeoutMs: number,
  direct: (deps: { clickhouse: ClickHouseClient; pg: Pool }) => Promise<Extract<ControlResult, { type: T }>>,
): Promise<Extract<ControlResult, { type: T }>> {
  if (config.clickhouse.mode === 'embedded' && embeddedStoreOwner(config.clickhouse.path)) {
    const redis = createWorkerRedis(config.redisUrl);
    await redis.connect();
    const controlQueue = createControlQueue(redis, config);
    try {
      return await runControlJob(controlQueue, redis, job, timeoutMs);
    } finally {
      await controlQueue.close();
      await redis.quit();
    }
  }
  return withPostgres(config, async (pg) => {
    const clickhouse = await openClickHouse(config.clickhouse);
    try {
      await migrateClickHouse(clickhouse, { cluster: clickHouseCluster(config.clickhouse) });
      return await direct({ clickhouse, pg });
    } finally {
      await clickhouse.close();
    }
  });
}

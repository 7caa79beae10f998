import type { Pool } from 'pg';
import { loadConfig, type Config } from '../config/env';
import { createLogger, type Logger } from '../lib/logger';
import { createPgPool, ensureDatabase } from '../lib/pg';
import { migratePostgres } from '../lib/pg-migrations';

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

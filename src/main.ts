import { ConfigError, loadConfig } from './config/env';
import { StoreLockedError } from './lib/clickhouse';
import { createLogger } from './lib/logger';
import { start } from './start';

/** Starts the roles named in ROLE (default: all) and stops them cleanly on SIGTERM/SIGINT. */
export async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`auditflow: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, { pid: process.pid });
  let running;
  try {
    running = await start(config, logger);
  } catch (error) {
    if (error instanceof StoreLockedError) {
      process.stderr.write(`auditflow: ${error.message}\n`);
      process.exit(3);
    }
    logger.fatal({ err: error }, 'could not start');
    process.exit(1);
  }
  logger.info({ roles: config.roles, clickhouse: config.clickhouse.mode }, 'auditflow started');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    const clean = await running.stop();
    logger.info({ clean }, 'stopped');
    process.exit(clean ? 0 : 1);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

if (require.main === module) void main();

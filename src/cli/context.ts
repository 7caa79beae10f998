import pino from 'pino';
import type { Pool } from 'pg';
import { cliActor, PrivilegedActionAuditor, type PrivilegedAction } from '../features/audit/privileged-action-auditor';
import { loadConfig, type Config } from '../config/env';
import { OWN_SOURCE_APP } from '../domain/own-source-app';
import { clickHouseCluster, embeddedStoreOwner, openClickHouse, type ClickHouseClient } from '../lib/clickhouse';
import { migrateClickHouse } from '../lib/clickhouse-migrations';
import { createLogger, type Logger } from '../lib/logger';
import { createPgPool, ensureDatabase } from '../lib/pg';
import { migratePostgres } from '../lib/pg-migrations';
import { closeRedis, createFailFastRedis, createWorkerRedis } from '../lib/redis';
import { runControlJob } from '../queues/control-client';
import { Acknowledgements, EventPublisher } from '../queues/event-publisher';
import { EventSpool } from '../queues/spool/event-spool';
import { IngestProducer } from '../queues/ingest.producer';
import type { ControlJob, ControlResult } from '../queues/queue-names';
import { createControlQueue, createIngestQueue } from '../queues/queues';

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

/** Room a command's audit events need in the spool (a few KiB; kept generous). */
const SPOOL_HEADROOM = 64 * 1024;

/** Records the privileged actions of one CLI command, as the operator running it. */
export interface CliAudit {
  record(action: PrivilegedAction): void;
}

/**
 * Runs a privileged command with an auditor, and returns only once its audit
 * events are in Redis or, while Redis is down, synced to the spool
 * ($DATA_DIR/spool, the API's): whichever auditflow process next starts, or
 * next runs a command, replays them. The server may be running or stopped.
 * With Redis down and the spool full it refuses to act; if an event could
 * still not be recorded the command fails, although its action is done: an
 * operator must not believe it was audited.
 *
 * `unconfirmed`: the event of a command that throws before it could record
 * its result. A command that hands its action to the worker must give one:
 * when its wait ends first, the worker still does the work.
 */
export async function withAudit<T>(config: Config, command: string, fn: (audit: CliAudit) => Promise<T>, unconfirmed?: (error: Error) => PrivilegedAction): Promise<T> {
  const { publisher, close } = await openCliPublisher(config);
  const acks = new Acknowledgements();
  const auditor = new PrivilegedActionAuditor(publisher);
  const actor = cliActor(command);
  const record = (action: PrivilegedAction) => publisher.recording(acks, () => auditor.record(actor, action));
  let outcome: { done: true; result: T } | { done: false; error: unknown };
  try {
    outcome = { done: true, result: await fn({ record }) };
  } catch (error) {
    outcome = { done: false, error };
    if (unconfirmed) record(unconfirmed(error instanceof Error ? error : new Error(String(error))));
  } finally {
    await close();
  }
  const failure = await acks.settled();
  if (!outcome.done) {
    if (failure && unconfirmed)
      throw new Error(`${(outcome.error as Error)?.message ?? String(outcome.error)}; and its audit event could not be recorded (${failure.message}); see the spool at ${config.spool.dir}`);
    throw outcome.error;
  }
  if (failure) throw new Error(`the action was done, but its audit event could not be recorded (${failure.message}); see the log and the spool at ${config.spool.dir}`);
  return outcome.result;
}

/** The API's event publisher, for one command: Redis if it answers, else the spool; `close` flushes it and lets go of both. */
async function openCliPublisher(config: Config): Promise<{ publisher: EventPublisher; close: () => Promise<void> }> {
  // Log lines go to stderr: stdout is the command's output (a new key is its last line).
  const logger = createLogger(config.logLevel, { component: 'cli-audit' }, pino.destination({ fd: 2, sync: true }));
  const redis = createFailFastRedis(config.redisUrl, { connectTimeout: 3000 });
  // A dead Redis is not an error here: the events go to the spool.
  redis.on('error', () => undefined);
  await redis.connect().catch((error: unknown) => logger.warn({ reason: (error as Error).message }, 'Redis is unreachable; audit events go to the spool'));
  const ingestQueue = createIngestQueue(redis, config);
  ingestQueue.on('error', () => undefined);
  const spool = await EventSpool.open({ ...config.spool, logger });
  const disconnect = async () => {
    await ingestQueue.close().catch(() => undefined);
    await closeRedis(redis).catch(() => undefined);
  };
  // As the API answers 503 then: an action that could not be recorded is not done at all.
  if (redis.status !== 'ready' && spool.bytes + SPOOL_HEADROOM > spool.maxBytes) {
    await spool.close();
    await disconnect();
    throw new Error(`nothing was done: Redis is unreachable and the spool (${config.spool.dir}) is full, so the action could not be audited; retry once Redis is back`);
  }
  const producer = new IngestProducer(ingestQueue, redis, { prefix: config.queuePrefix, idempotencyWindowMinutes: config.ingest.idempotencyWindowMinutes });
  const publisher = new EventPublisher(producer, {
    sourceApp: OWN_SOURCE_APP,
    spool,
    redisReady: () => redis.status === 'ready',
    maxDelayMs: 0,
    // A command replays what earlier ones left only as it opens the spool: it does not stay to watch it.
    orphanCheckMs: 0,
    logger,
  });
  return {
    publisher,
    close: async () => {
      await publisher.close();
      await disconnect();
    },
  };
}

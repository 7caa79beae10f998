import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import type { Config } from '../config/env';
import { directAnalystRunner, type AnalystQueryRunner } from '../features/analyst/analyst-query-runner';
import { EventStatsRepository } from '../features/dashboard/event-stats.repository';
import type { AppliedMigrations } from '../features/audit/privileged-actions';
import type { ReadinessCheck } from '../features/ops/health.routes';
import { checkClickHouse, clickHouseCluster, openClickHouse, type ClickHouseClient } from '../lib/clickhouse';
import { migrateClickHouse } from '../lib/clickhouse-migrations';
import { freeBytes } from '../lib/disk-space';
import type { Logger } from '../lib/logger';
import { AppMetrics } from '../lib/metrics';
import { createPgPool, ensureDatabase } from '../lib/pg';
import { migratePostgres } from '../lib/pg-migrations';
import { closeRedis, createFailFastRedis } from '../lib/redis';
import { RedisLock } from '../lib/redis-lock';
import type { ShutdownPlan } from '../lib/shutdown';
import { directReader } from '../queues/clickhouse-reader';
import type { ControlJob, IngestJob, WebhookJob } from '../queues/queue-names';
import { createControlQueue, createIngestQueue, createWebhookQueue } from '../queues/queues';

/** What this process owns of ClickHouse: only a worker opens the store. */
export interface OwnedClickHouse {
  client: ClickHouseClient;
  /** Runs /clickhouse queries, on a connection of their own when embedded. */
  analyst: AnalystQueryRunner;
}

/** The connections every role shares, opened once per process. */
export interface Connections {
  pg: Pool;
  redis: Redis;
  clickhouse?: OwnedClickHouse;
  queues: { ingest: Queue<IngestJob>; control: Queue<ControlJob>; webhooks: Queue<WebhookJob> };
  metrics: AppMetrics;
  /** Checks behind /readyz; each role adds its own. */
  readiness: Record<string, ReadinessCheck>;
  /** The migrations this process's start applied (none when the schema was up to date), for its audit event. */
  migrated: AppliedMigrations;
}

/**
 * Opens the connections the configured roles need and applies migrations.
 * Each connection is filed for closing as soon as it is open, so a failed
 * start closes what it opened.
 */
export async function openConnections(config: Config, logger: Logger, shutdown: ShutdownPlan): Promise<Connections> {
  // First, before any other connection: a second process on the same embedded store must stop here, with nothing else opened.
  const clickhouse = config.roles.includes('worker') ? await openOwnedClickHouse(config, shutdown) : undefined;

  await ensureDatabase(config.databaseUrl);
  const pg = createPgPool(config.databaseUrl, 10, logger.child({ component: 'postgres' }));
  shutdown.addConnection('postgres', () => pg.end());
  const migrated: AppliedMigrations = { postgresql: await migratePostgres(pg), clickhouse: [] };

  const redis = createFailFastRedis(config.redisUrl);
  shutdown.addConnection('redis', () => closeRedis(redis));
  try {
    await redis.connect();
  } catch (error) {
    // The API answers without Redis (its own events go to the spool, ingest answers 503) and the
    // connection retries by itself; a worker or scheduler has nothing to do without it.
    if (config.roles.some((role) => role !== 'api')) throw error;
    logger.warn({ err: error }, 'Redis is unreachable; the API starts without it and reconnects');
  }
  if (clickhouse) migrated.clickhouse = await migrateOwnedClickHouse(config, clickhouse.client, redis, logger);

  const readiness: Record<string, ReadinessCheck> = {
    postgres: async () => void (await pg.query('SELECT 1')),
    redis: async () => void (await redis.ping()),
    ...(clickhouse ? { clickhouse: () => checkClickHouse(clickhouse.client) } : {}),
  };
  // A full disk under DATA_DIR (store, spool, archives) must show before writes fail; a scheduler writes nothing there.
  if (config.roles.some((role) => role === 'api' || role === 'worker')) {
    readiness.disk = async () => {
      const free = await freeBytes(config.dataDir);
      if (free < config.diskMinFreeBytes) throw new Error(`${free} bytes free under DATA_DIR, below DISK_MIN_FREE_BYTES (${config.diskMinFreeBytes})`);
    };
  }

  const queues = { ingest: createIngestQueue(redis, config), control: createControlQueue(redis, config), webhooks: createWebhookQueue(redis, config) };
  const allQueues = [queues.ingest, queues.control, queues.webhooks];
  shutdown.addConnection('queues', () => Promise.all(allQueues.map((queue) => queue.close())));
  // Without a listener BullMQ prints every connection error to stderr; log the first of each outage instead.
  let redisFailing = false;
  redis.on('ready', () => (redisFailing = false));
  for (const queue of allQueues) {
    queue.on('error', (error) => {
      if (!redisFailing) logger.warn({ err: error }, 'Redis connection lost; retrying');
      redisFailing = true;
    });
  }

  // Served at /metrics by the api role, and by the ops server (METRICS_PORT) in any role.
  const deadLetterStats = clickhouse && new EventStatsRepository(directReader(clickhouse.client));
  const metrics = new AppMetrics({
    queues: allQueues,
    // Where this process owns ClickHouse: a relayed read on every scrape would queue control jobs.
    ...(deadLetterStats ? { deadLetterCounts: () => deadLetterStats.deadLetters() } : {}),
  });
  return { pg, redis, clickhouse, queues, metrics, readiness, migrated };
}

async function openOwnedClickHouse(config: Config, shutdown: ShutdownPlan): Promise<OwnedClickHouse> {
  const client = await openClickHouse(config.clickhouse);
  shutdown.addConnection('clickhouse', () => client.close());
  // Analysts get a chDB connection of their own: a connection runs one query at a time, so a 30-second
  // analyst query on the writer's would hold up every flush. A server's HTTP client has no such limit.
  const embedded = config.clickhouse.mode === 'embedded';
  const analystClient = embedded ? await openClickHouse(config.clickhouse) : client;
  if (embedded) shutdown.addConnection('clickhouse (analysts)', () => analystClient.close());
  return { client, analyst: directAnalystRunner(analystClient, { exclusive: embedded }) };
}

/** Several workers may start at once against one server: one applies the migrations while the others wait, then find them applied. */
async function migrateOwnedClickHouse(config: Config, client: ClickHouseClient, redis: Redis, logger: Logger): Promise<string[]> {
  const migrate = () => migrateClickHouse(client, { cluster: clickHouseCluster(config.clickhouse) });
  // (PostgreSQL's are serialised by an advisory lock.)
  const applied = config.clickhouse.mode === 'server' ? await new RedisLock(redis, config.queuePrefix, 60_000, 600_000).withLock('clickhouse-migrations', migrate) : await migrate();
  if (applied.length) logger.info({ applied }, 'ClickHouse migrations applied');
  return applied;
}

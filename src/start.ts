import fs from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Worker, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { directAnalystRunner, RelayedAnalystRunner, type AnalystQueryRunner } from './queues/analyst-query-runner';
import { directReader, RelayedReader, type ClickHouseReader } from './queues/clickhouse-reader';
import { runControlJob } from './queues/control-client';
import { EventStatsRepository } from './api/dashboard/event-stats.repository';
import { ReportReadRepository } from './api/reports/report.repository';
import { ReportVerificationService } from './api/reports/report-verification.service';
import type { Config } from './config/env';
import type { Express } from 'express';
import { createApp } from './api/create-app';
import type { ReadinessCheck } from './api/health/health.routes';
import { createOpsApp, type OpsAppDeps } from './api/ops/ops-app';
import { IngestService } from './api/ingest/ingest.service';
import { ApiKeyRepository } from './api/keys/api-key.repository';
import { ApiKeyService } from './api/keys/api-key.service';
import { AnalystQueryService } from './api/clickhouse-http/analyst-query.service';
import { checkClickHouse, clickHouseCluster, openClickHouse, type ClickHouseClient } from './lib/clickhouse';
import { migrateClickHouse } from './lib/clickhouse-migrations';
import type { Logger } from './lib/logger';
import { AppMetrics } from './lib/metrics';
import { createPgPool, ensureDatabase } from './lib/pg';
import { freeBytes } from './lib/disk-space';
import { watchWriterHealth, writerHealthKey, writerStalled } from './workers/writer-health';
import { migratePostgres } from './lib/pg-migrations';
import { closeRedis, createFailFastRedis, createWorkerRedis } from './lib/redis';
import { RedisLock } from './lib/redis-lock';
import { runShutdown, type ShutdownStep } from './lib/shutdown';
import { IngestBackpressure } from './queues/backpressure';
import { IngestProducer } from './queues/ingest.producer';
import { EventPublisher } from './queues/event-publisher';
import { EventSpool } from './queues/event-spool';
import { buildApiServices } from './api/services';
import { QUEUE_NAMES, type ControlJob } from './queues/queue-names';
import { createControlQueue, createIngestQueue, createWebhookQueue } from './queues/queues';
import { startRiskWorker, type RiskWorker } from './risk/risk-worker';
import { DirectEventSink } from './workers/direct-event-sink';
import { WebhookNotifier } from './risk/webhooks/webhook-notifier';
import { WebhookRepository } from './risk/webhooks/webhook.repository';
import { KeyRing } from './lib/key-ring';
import { SigningKey } from './lib/signing-key';
import { ChainSealer } from './workers/chain-sealer';
import { ClickHouseWriter } from './workers/clickhouse-writer';
import { SealRepository } from './workers/seal.repository';
import { IntegrityVerifier } from './workers/integrity-verifier';
import { RecordedVerification } from './workers/recorded-verification';
import { VerificationRunRepository } from './workers/verification-run.repository';
import { brokenChainAlarm } from './workers/broken-chain-alarm';
import { ReportBuilder } from './workers/report-builder';
import { RetentionJob } from './workers/retention';
import { RetentionArchiver } from './workers/retention-archiver';
import { ReportRepository } from './workers/report.repository';
import { createControlProcessor } from './workers/control.processor';
import { DeadLetterRepository } from './workers/dead-letter.repository';
import { startIngestWorker } from './workers/ingest.worker';
import { startScheduler } from './workers/scheduler';
import { OWN_SOURCE_APP } from './domain/own-source-app';

/** How this process reads ClickHouse: directly when it can, else through the worker that owns the store. */
async function clickHouseReaderFor(
  config: Config,
  own: { clickhouse: ClickHouseClient; analyst: AnalystQueryRunner } | undefined,
  controlQueue: Queue<ControlJob>,
  redis: Redis,
): Promise<{ reader: ClickHouseReader; analyst: AnalystQueryRunner; ready: ReadinessCheck; close: () => Promise<void> }> {
  if (own) return { reader: directReader(own.clickhouse), analyst: own.analyst, ready: () => checkClickHouse(own.clickhouse), close: async () => undefined };
  if (config.clickhouse.mode === 'server') {
    const client = await openClickHouse(config.clickhouse);
    return { reader: directReader(client), analyst: directAnalystRunner(client), ready: () => checkClickHouse(client), close: () => client.close() };
  }
  const relayed = new RelayedReader(controlQueue, redis);
  const analyst = new RelayedAnalystRunner(controlQueue, redis);
  return {
    reader: relayed,
    analyst,
    // Reads go through the worker that owns the store: ready while one listens on the control queue.
    // (A probe job would pile up in the queue while no worker runs.)
    ready: async () => {
      if ((await controlQueue.getWorkers()).length === 0) throw new Error('no worker is connected to serve the embedded ClickHouse store');
    },
    close: async () => void (await Promise.all([relayed.close(), analyst.close()])),
  };
}

/** Serves /healthz, /readyz and /metrics on METRICS_PORT; stops first at shutdown, like the API's server. */
async function startOpsServer(config: Config, deps: OpsAppDeps, steps: ShutdownStep[], logger: Logger): Promise<number> {
  const server = await listen(createOpsApp(deps), config.metricsPort!, config.host);
  steps.unshift({ name: 'ops server', run: () => closeServer(server) });
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, host: config.host }, 'ops server listening');
  return port;
}

function listen(app: Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = app.listen(port, host, () => resolve(s));
    s.once('error', reject);
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

function packageVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export { OWN_SOURCE_APP } from './domain/own-source-app';

export interface Running {
  /** The HTTP port, when the api role runs. */
  port?: number;
  /** The ops server's port (/healthz, /readyz, /metrics), when METRICS_PORT is set. */
  opsPort?: number;
  clickhouse?: ClickHouseClient;
  /** Runs /clickhouse queries, where this process owns ClickHouse. */
  analyst?: AnalystQueryRunner;
  writer?: ClickHouseWriter;
  risk?: RiskWorker;
  /** Stops every role in order; resolves true when all steps closed cleanly. */
  stop: () => Promise<boolean>;
}

/**
 * Builds the connections and starts the roles named in config. Nothing
 * connects before this runs, so tests build the same graph with their own
 * database, queue prefix and ClickHouse directory.
 */
export async function start(config: Config, logger: Logger): Promise<Running> {
  const steps: ShutdownStep[] = [];
  const connections: ShutdownStep[] = [];
  // Connections close in the reverse order of opening, after every role has stopped.
  const running: Running = { stop: () => runShutdown([...steps, ...[...connections].reverse()], logger) };
  try {
    if (config.roles.includes('worker')) {
      // First, before any other connection: a second process on the same
      // embedded store must stop here, with nothing else opened.
      const clickhouse = await openClickHouse(config.clickhouse);
      running.clickhouse = clickhouse;
      connections.push({ name: 'clickhouse', run: () => clickhouse.close() });
      // Analysts get a chDB connection of their own: a connection runs one query at a time, so a 30-second
      // analyst query on the writer's would hold up every flush. A server's HTTP client has no such limit.
      const embedded = config.clickhouse.mode === 'embedded';
      const analystClickhouse = embedded ? await openClickHouse(config.clickhouse) : clickhouse;
      if (embedded) connections.push({ name: 'clickhouse (analysts)', run: () => analystClickhouse.close() });
      running.analyst = directAnalystRunner(analystClickhouse, { exclusive: embedded });
    }
    await ensureDatabase(config.databaseUrl);
    const pg = createPgPool(config.databaseUrl, 10, logger.child({ component: 'postgres' }));
    connections.push({ name: 'postgres', run: () => pg.end() });
    await migratePostgres(pg);

    const redis = createFailFastRedis(config.redisUrl);
    connections.push({ name: 'redis', run: () => closeRedis(redis) });
    try {
      await redis.connect();
    } catch (error) {
      // The API answers without Redis (its own events go to the spool, ingest answers 503) and the
      // connection retries by itself; a worker or scheduler has nothing to do without it.
      if (config.roles.some((role) => role !== 'api')) throw error;
      logger.warn({ err: error }, 'Redis is unreachable; the API starts without it and reconnects');
    }
    if (running.clickhouse) {
      // Several workers may start at once against one server: one applies the migrations while the
      // others wait, then find them applied. (PostgreSQL's are serialised by an advisory lock.)
      const clickhouse = running.clickhouse;
      const migrate = () => migrateClickHouse(clickhouse, { cluster: clickHouseCluster(config.clickhouse) });
      const applied = config.clickhouse.mode === 'server' ? await new RedisLock(redis, config.queuePrefix, 60_000, 600_000).withLock('clickhouse-migrations', migrate) : await migrate();
      if (applied.length) logger.info({ applied }, 'ClickHouse migrations applied');
    }
    const readiness: Record<string, ReadinessCheck> = {
      postgres: async () => void (await pg.query('SELECT 1')),
      redis: async () => void (await redis.ping()),
      ...(running.clickhouse ? { clickhouse: () => checkClickHouse(running.clickhouse!) } : {}),
    };
    // A full disk under DATA_DIR (store, spool, archives) must show before writes fail; a scheduler writes nothing there.
    if (config.roles.some((role) => role === 'api' || role === 'worker')) {
      readiness.disk = async () => {
        const free = await freeBytes(config.dataDir);
        if (free < config.diskMinFreeBytes) throw new Error(`${free} bytes free under DATA_DIR, below DISK_MIN_FREE_BYTES (${config.diskMinFreeBytes})`);
      };
    }
    const ingestQueue = createIngestQueue(redis, config);
    const controlQueue = createControlQueue(redis, config);
    const webhookQueue = createWebhookQueue(redis, config);
    connections.push({ name: 'queues', run: () => Promise.all([ingestQueue.close(), controlQueue.close(), webhookQueue.close()]) });
    // Without a listener BullMQ prints every connection error to stderr; log the first of each outage instead.
    let redisFailing = false;
    redis.on('ready', () => (redisFailing = false));
    for (const queue of [ingestQueue, controlQueue, webhookQueue]) {
      queue.on('error', (error) => {
        if (!redisFailing) logger.warn({ err: error }, 'Redis connection lost; retrying');
        redisFailing = true;
      });
    }
    // Served at /metrics by the api role, and by the ops server (METRICS_PORT) in any role.
    const deadLetterStats = running.clickhouse && new EventStatsRepository(directReader(running.clickhouse));
    const metrics = new AppMetrics({
      queues: [ingestQueue, controlQueue, webhookQueue],
      // Where this process owns ClickHouse: a relayed read on every scrape would queue control jobs.
      ...(deadLetterStats ? { deadLetterCounts: () => deadLetterStats.deadLetters() } : {}),
    });

    if (config.roles.includes('worker')) {
      const clickhouse = running.clickhouse!;

      const workerRedis = createWorkerRedis(config.redisUrl);
      connections.push({ name: 'worker redis', run: () => closeRedis(workerRedis) });
      const deadLetters = new DeadLetterRepository(clickhouse);
      const signingKey = SigningKey.load(config.signingKeyFile, config.keysDir);
      const keyRing = KeyRing.load(signingKey.publicKey, config.keysDir);
      const sealRepository = new SealRepository(pg, clickhouse);
      const sealer = new ChainSealer(sealRepository, signingKey, config.clickhouse.mode === 'embedded');
      const verifier = new IntegrityVerifier(clickhouse, keyRing, sealRepository);
      const writer = new ClickHouseWriter(clickhouse, deadLetters, {
        sealer,
        maxRows: config.flush.maxRows,
        maxAgeMs: config.flush.maxAgeMs,
        logger: logger.child({ component: 'clickhouse-writer' }),
        onFlush: (stats) => metrics.flushed(stats),
        // With a shared server several workers may flush one table; embedded, this process is the only writer.
        lock: config.clickhouse.mode === 'server' ? new RedisLock(redis, config.queuePrefix) : undefined,
      });
      running.writer = writer;
      // For APIs in other processes (ROLE=api), which cannot ask this writer directly.
      const stopPublishing = watchWriterHealth(writer.health, () => freeBytes(config.dataDir), redis, config.queuePrefix);
      connections.push({ name: 'writer health', run: async () => stopPublishing() });
      metrics.watchStore({ freeBytes: () => freeBytes(config.dataDir), writer: () => writer.health.snapshot() });
      readiness.writer = async () => {
        const state = writer.health.snapshot();
        if (writerStalled(state, config.ingest.writerStallMs)) throw new Error(`every flush has failed for ${Math.round((Date.now() - state.failingSince!) / 1000)} s: ${state.lastError}`);
      };
      const risk = startRiskWorker({
        config,
        pg,
        redis,
        workerRedis,
        webhookQueue,
        sink: new DirectEventSink(writer, logger.child({ component: 'risk-worker' })),
        logger: logger.child({ component: 'risk-worker' }),
        onDecision: (decision) => metrics.riskDecided(decision),
      });
      running.risk = risk;
      const ingestWorker = startIngestWorker({
        risk: risk.engine,
        config,
        connection: workerRedis,
        writer,
        deadLetters,
        logger: logger.child({ component: 'ingest-worker' }),
        onDeadLettered: (events) => metrics.deadLettered('attempts_exhausted', events),
      });
      const controlWorker = new Worker<ControlJob>(QUEUE_NAMES.control, createControlProcessor({
        deadLetters,
        ingestQueue,
        logger,
        reader: directReader(clickhouse),
        analyst: running.analyst!,
        redis,
        verifier: new RecordedVerification(
          verifier,
          new VerificationRunRepository(pg),
          brokenChainAlarm(new DirectEventSink(writer, logger.child({ component: 'integrity' })), new WebhookNotifier(webhookQueue, new WebhookRepository(pg), config.webhooks)),
        ),
        retention: new RetentionJob(pg, clickhouse, signingKey, writer, new RetentionArchiver(clickhouse, signingKey, keyRing, config.archiveDir, logger.child({ component: 'retention' })), logger.child({ component: 'retention' }), clickHouseCluster(config.clickhouse), config.retentionMinDays),
        reports: new ReportBuilder(directReader(clickhouse), pg, new ReportRepository(pg), verifier, signingKey),
      }), {
        connection: workerRedis,
        prefix: config.queuePrefix,
        // Relayed reads are short; a few at once keep the dashboard responsive during a replay.
        concurrency: 4,
      });
      // Without a listener BullMQ prints its errors (a refused write under OOM, a lost connection) to stderr, command arguments and all.
      controlWorker.on('error', (error) => logger.error({ err: error }, 'control worker error'));
      // Workers close while the writer keeps flushing, so in-flight jobs finish; then the final flush.
      steps.push({
        name: 'workers',
        run: async () => {
          const flushing = setInterval(() => void writer.flushAll(), 50);
          try {
            await Promise.all([ingestWorker.close(), controlWorker.close(), risk.stop()]);
          } finally {
            clearInterval(flushing);
          }
        },
      });
      steps.push({ name: 'final flush', run: () => writer.close() });
    }

    if (config.roles.includes('scheduler')) {
      const scheduler = startScheduler(controlQueue, logger.child({ component: 'scheduler' }));
      steps.unshift({ name: 'scheduler', run: async () => scheduler.stop() });
    }

    if (config.roles.includes('api')) {
      const apiKeys = new ApiKeyService(new ApiKeyRepository(pg), config.ingest.apiKeyCacheMs);
      const writer = running.writer;
      // The spool's disk, where no worker here reports the store's.
      if (!writer) metrics.watchStore({ freeBytes: () => freeBytes(config.dataDir) });
      const backpressure = new IngestBackpressure(ingestQueue, redis, {
        maxBacklogEvents: config.ingest.maxQueueBacklog,
        writerStallMs: config.ingest.writerStallMs,
        minFreeBytes: config.diskMinFreeBytes,
        ...(writer ? { writerHealth: () => writer.health.snapshot() } : { writerHealthKey: writerHealthKey(config.queuePrefix) }),
      });
      backpressure.start();
      const producer = new IngestProducer(ingestQueue, redis, {
        prefix: config.queuePrefix,
        idempotencyTtlSeconds: config.ingest.idempotencyTtlSeconds,
        onJobAdded: (events) => backpressure.noteJobSize(events),
        refusal: (events) => backpressure.admit(events),
      });
      const publisherLogger = logger.child({ component: 'event-publisher' });
      const spool = await EventSpool.open({ ...config.spool, logger: publisherLogger });
      metrics.watchSpool(spool);
      const events = new EventPublisher(producer, {
        sourceApp: OWN_SOURCE_APP,
        spool,
        redisReady: () => redis.status === 'ready',
        metrics,
        logger: publisherLogger,
      });
      // Until the HTTP server is up this closes the publisher; once it is, the ordered step below does.
      const closeEvents = { name: 'event publisher', run: () => events.close() };
      connections.push(closeEvents);
      const { reader, analyst, ready: clickhouseReady, close: closeReader } = await clickHouseReaderFor(config, running.clickhouse && { clickhouse: running.clickhouse, analyst: running.analyst! }, controlQueue, redis);
      connections.push({ name: 'clickhouse reader', run: closeReader });
      readiness.clickhouse = clickhouseReady;
      const services = buildApiServices(config, pg, redis, events, reader, logger, [ingestQueue, controlQueue, webhookQueue], new WebhookNotifier(webhookQueue, new WebhookRepository(pg), config.webhooks));
      const reportRepository = new ReportReadRepository(pg);
      // The same key file as the worker's; the API uses only its public half, to check reports.
      const signingKey = SigningKey.load(config.signingKeyFile, config.keysDir);
      const verificationRuns = new VerificationRunRepository(pg);
      const app = createApp({
        version: packageVersion(),
        reports: {
          repository: reportRepository,
          verification: new ReportVerificationService(reportRepository, signingKey, KeyRing.load(signingKey.publicKey, config.keysDir)),
          publicKeyPem: signingKey.publicKeyPem,
          publicKeyId: signingKey.keyId,
          generator: {
            generate: async (reportType, start, end, generatedBy, apps) => {
              const job = { type: 'report' as const, reportType, start: start.toISOString(), end: end.toISOString(), generatedBy, ...(apps ? { apps } : {}) };
              const result = await runControlJob(controlQueue, redis, job, 600_000);
              return { id: result.id, created: result.created };
            },
          },
        },
        integrity: {
          verify: async (range) => {
            const job = { type: 'verify' as const, from: range.from?.toISOString() ?? null, to: range.to?.toISOString() ?? null, trigger: 'api' as const };
            return (await runControlJob(controlQueue, redis, job, 600_000)).result;
          },
          runs: (limit) => verificationRuns.latest(limit),
        },
        logger,
        events,
        services,
        apiKeys,
        analyst: new AnalystQueryService(apiKeys, analyst, config.analyst, config.analystMaxConcurrentQueries),
        ingest: new IngestService(producer, backpressure, metrics),
        metrics,
        metricsToken: config.metricsToken,
        queues: [ingestQueue, controlQueue, webhookQueue],
        bodyLimitBytes: config.ingest.bodyLimitBytes,
        readiness,
      });
      const server = await listen(app, config.port, config.host);
      server.keepAliveTimeout = 65_000;
      running.port = (server.address() as AddressInfo).port;
      steps.unshift({
        name: 'http server',
        run: () => {
          backpressure.stop();
          return closeServer(server);
        },
      });
      // After the HTTP server (no new events), before the workers: the API's last events reach Redis (or the spool).
      connections.splice(connections.indexOf(closeEvents), 1);
      steps.splice(1, 0, closeEvents);
      logger.info({ port: running.port, host: config.host }, 'API listening');
    }
    if (config.metricsPort !== undefined) {
      running.opsPort = await startOpsServer(config, { logger, metrics, metricsToken: config.metricsToken, readiness }, steps, logger);
    }
    return running;
  } catch (error) {
    await running.stop();
    throw error;
  }
}

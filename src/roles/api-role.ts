import fs from 'node:fs';
import path from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config/env';
import { OWN_SOURCE_APP } from '../domain/own-source-app';
import { directAnalystRunner, RelayedAnalystRunner, type AnalystQueryRunner } from '../features/analyst/analyst-query-runner';
import { AnalystQueryService } from '../features/analyst/analyst-query.service';
import { ApiKeyRevocationListener } from '../features/api-keys/api-key-revocation-listener';
import { ApiKeyRepository } from '../features/api-keys/api-key.repository';
import { ApiKeyService } from '../features/api-keys/api-key.service';
import { IngestBackpressure } from '../features/ingest/backpressure';
import { IngestService } from '../features/ingest/ingest.service';
import type { ClickHouseWriter } from '../features/ingest/writer/clickhouse-writer';
import { writerHealthKey } from '../features/ingest/writer/writer-health';
import { VerificationRunRepository } from '../features/integrity/verification-run.repository';
import type { ReadinessCheck } from '../features/ops/health.routes';
import { ReportRepository } from '../features/reports/report.repository';
import { ReportVerificationService } from '../features/reports/report-verification.service';
import { WebhookNotifier } from '../features/webhooks/webhook-notifier';
import { WebhookRepository } from '../features/webhooks/webhook.repository';
import { checkClickHouse, openClickHouse } from '../lib/clickhouse';
import { freeBytes } from '../lib/disk-space';
import type { Logger } from '../lib/logger';
import { createPgPool } from '../lib/pg';
import type { ShutdownPlan } from '../lib/shutdown';
import { directReader, RelayedReader, type ClickHouseReader } from '../queues/clickhouse-reader';
import { runControlJob } from '../queues/control-client';
import { EventPublisher } from '../queues/event-publisher';
import { IngestProducer } from '../queues/ingest.producer';
import type { ControlJob } from '../queues/queue-names';
import { EventSpool } from '../queues/spool/event-spool';
import { buildApiServices } from './api/api-services';
import { createApp } from './api/create-app';
import type { Connections, OwnedClickHouse } from './connections';
import { closeServer, listen, portOf } from './http-server';
import { UploadBudget } from '../features/ingest/upload-budget';
import { loadSigningKeys } from './maintenance';
import { recordStartupMigrations } from './startup-migrations';

/** Where an api role in the same process as a worker finds its writer. */
export interface LocalWorker {
  clickhouse: OwnedClickHouse;
  writer: ClickHouseWriter;
}

/**
 * The api role: the todo/auth API, ingest, reports, the dashboard and
 * /clickhouse on one HTTP server. Resolves with the port it listens on.
 */
export async function startApiRole(config: Config, conns: Connections, local: LocalWorker | undefined, logger: Logger, shutdown: ShutdownPlan): Promise<number> {
  const { redis, metrics, readiness, queues } = conns;
  // Requests' queries have a bound of their own (PG_REQUEST_TIMEOUT_MS): the process's other pool waits on locks.
  const pg = createPgPool(config.databaseUrl, 10, logger.child({ component: 'postgres' }), { queryTimeoutMs: config.pgRequestTimeoutMs });
  shutdown.addConnection('postgres (requests)', () => pg.end());
  const queueList = [queues.ingest, queues.control, queues.webhooks];
  const apiKeys = new ApiKeyService(new ApiKeyRepository(pg), config.ingest.apiKeyCacheMs);
  const revocations = new ApiKeyRevocationListener(config.databaseUrl, () => apiKeys.forgetCached(), logger.child({ component: 'api-keys' }));
  await revocations.start();
  shutdown.addConnection('api key revocations', () => revocations.stop());
  const writer = local?.writer;
  // The spool's disk, where no worker here reports the store's.
  if (!writer) metrics.watchStore({ freeBytes: () => freeBytes(config.dataDir) });
  const backpressure = new IngestBackpressure(queues.ingest, redis, {
    maxBacklogEvents: config.ingest.maxQueueBacklog,
    maxLagMs: config.ingest.maxLagMs,
    maxBusyPercent: config.ingest.maxBusyPercent,
    writerStallMs: config.ingest.writerStallMs,
    minFreeBytes: config.diskMinFreeBytes,
    ...(writer ? { writerHealth: () => writer.health.snapshot() } : { writerHealthKey: writerHealthKey(config.queuePrefix) }),
  });
  backpressure.start();
  const producer = new IngestProducer(queues.ingest, redis, {
    prefix: config.queuePrefix,
    idempotencyWindowMinutes: config.ingest.idempotencyWindowMinutes,
    onJobAdded: (events) => backpressure.noteJobSize(events),
    refusal: (sourceApp, events) => backpressure.admit(sourceApp, events),
  });
  const publisherLogger = logger.child({ component: 'event-publisher' });
  const spool = await EventSpool.open({ ...config.spool, logger: publisherLogger });
  metrics.watchSpool(spool);
  const events = new EventPublisher(producer, { sourceApp: OWN_SOURCE_APP, spool, redisReady: () => redis.status === 'ready', metrics, logger: publisherLogger });
  // After the HTTP server (no new events), before the workers: the API's last events reach Redis (or the spool).
  shutdown.add('own events', { name: 'event publisher', run: () => events.close() });
  recordStartupMigrations(events, conns.migrated, config.roles);

  const clickhouse = await clickHouseAccess(config, local?.clickhouse, queues.control, redis);
  shutdown.addConnection('clickhouse reader', clickhouse.close);
  readiness.clickhouse = clickhouse.ready;
  const webhooks = new WebhookNotifier(queues.webhooks, new WebhookRepository(pg), config.webhooks);
  const services = buildApiServices(config, pg, redis, events, clickhouse.reader, logger, queueList, webhooks);
  const reportRepository = new ReportRepository(pg);
  // The same key file as the worker's; the API uses only its public half, to check reports.
  const keys = loadSigningKeys(config);
  const verificationRuns = new VerificationRunRepository(pg);
  const app = createApp({
    version: packageVersion(),
    reports: {
      repository: reportRepository,
      verification: new ReportVerificationService(reportRepository, keys.signingKey, keys.keyRing),
      publicKeyPem: keys.signingKey.publicKeyPem,
      publicKeyId: keys.signingKey.keyId,
      generator: {
        generate: async (reportType, start, end, generatedBy, apps) => {
          const job = { type: 'report' as const, reportType, start: start.toISOString(), end: end.toISOString(), generatedBy, ...(apps ? { apps } : {}) };
          const result = await runControlJob(queues.control, redis, job, 600_000);
          return { id: result.id, created: result.created };
        },
      },
    },
    integrity: {
      verify: async (range) => {
        const job = { type: 'verify' as const, from: range.from?.toISOString() ?? null, to: range.to?.toISOString() ?? null, trigger: 'api' as const };
        return (await runControlJob(queues.control, redis, job, 600_000)).result;
      },
      runs: (limit) => verificationRuns.latest(limit),
    },
    logger,
    events,
    services,
    apiKeys,
    analyst: new AnalystQueryService(apiKeys, clickhouse.analyst, config.analyst, config.analystMaxConcurrentQueries),
    ingest: new IngestService(producer, backpressure, metrics, UploadBudget.forBodyLimit(config.ingest.bodyLimitBytes)),
    metrics,
    metricsToken: config.metricsToken,
    queues: queueList,
    bodyLimitBytes: config.ingest.bodyLimitBytes,
    readiness,
  });
  const server = await listen(app, config.port, config.host);
  server.keepAliveTimeout = 65_000;
  shutdown.add('stop intake', {
    name: 'http server',
    run: () => {
      backpressure.stop();
      return closeServer(server);
    },
  });
  const port = portOf(server);
  logger.info({ port, host: config.host }, 'API listening');
  return port;
}

/** How this process reads ClickHouse: directly when it can, else through the worker that owns the store. */
async function clickHouseAccess(
  config: Config,
  own: OwnedClickHouse | undefined,
  controlQueue: Queue<ControlJob>,
  redis: Redis,
): Promise<{ reader: ClickHouseReader; analyst: AnalystQueryRunner; ready: ReadinessCheck; close: () => Promise<void> }> {
  if (own) return { reader: directReader(own.client), analyst: own.analyst, ready: () => checkClickHouse(own.client), close: async () => undefined };
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

function packageVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

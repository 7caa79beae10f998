import { Worker } from 'bullmq';
import type { Config } from '../config/env';
import { startIngestWorker } from '../features/ingest/ingest.worker';
import { DeadLetterRepository } from '../features/ingest/dead-letters/dead-letter.repository';
import { ClickHouseWriter } from '../features/ingest/writer/clickhouse-writer';
import { DirectEventSink } from '../features/ingest/writer/direct-event-sink';
import { IngestBackoffRetry } from '../features/ingest/backoff-retry';
import { HeldJobs, publishHeldSince } from '../features/ingest/held-jobs';
import { storeDiskLow, watchWriterHealth, writerStalled } from '../features/ingest/writer/writer-health';
import { brokenChainAlarm } from '../features/integrity/broken-chain-alarm';
import { ChainSealer } from '../features/integrity/chain-sealer';
import { SealRepository } from '../features/integrity/seal.repository';
import { startRiskWorker, type RiskWorker } from '../features/risk/risk.worker';
import { WebhookNotifier } from '../features/webhooks/webhook-notifier';
import { WebhookRepository } from '../features/webhooks/webhook.repository';
import { freeBytes } from '../lib/disk-space';
import type { Logger } from '../lib/logger';
import { closeRedis, createWorkerRedis } from '../lib/redis';
import { RedisLock } from '../lib/redis-lock';
import type { ShutdownPlan } from '../lib/shutdown';
import { directReader } from '../queues/clickhouse-reader';
import { QUEUE_NAMES, type ControlJob } from '../queues/queue-names';
import type { Connections, OwnedClickHouse } from './connections';
import { createControlProcessor } from './control.processor';
import { buildRecordedVerification, buildReportBuilder, buildRetention, buildVerifier, loadSigningKeys } from './maintenance';
import { recordStartupMigrations } from './startup-migrations';

export interface WorkerRole {
  writer: ClickHouseWriter;
  risk: RiskWorker;
}

/**
 * The worker role: the ingest worker (writer and sealer), the risk worker and
 * the control worker, all on the ClickHouse store this process owns.
 */
export function startWorkerRole(config: Config, conns: Connections & { clickhouse: OwnedClickHouse }, logger: Logger, shutdown: ShutdownPlan): WorkerRole {
  const { pg, redis, metrics, readiness, queues } = conns;
  const clickhouse = conns.clickhouse.client;
  const workerRedis = createWorkerRedis(config.redisUrl);
  shutdown.addConnection('worker redis', () => closeRedis(workerRedis));

  const deadLetters = new DeadLetterRepository(clickhouse);
  const keys = loadSigningKeys(config);
  const sealer = new ChainSealer(new SealRepository(pg, clickhouse), keys.signingKey, config.clickhouse.mode === 'embedded');
  const backoffRetry = new IngestBackoffRetry(queues.ingest, logger.child({ component: 'clickhouse-writer' }));
  const writer = new ClickHouseWriter(clickhouse, deadLetters, {
    sealer,
    maxRows: config.flush.maxRows,
    maxAgeMs: config.flush.maxAgeMs,
    // A quarter of the job slots per table: with two busy tables, half the slots wait
    // in buffers while the other half's flush runs, and none waits for a free slot.
    maxWrites: Math.max(1, Math.floor(config.worker.concurrency / 4)),
    lookbackMinutes: config.flush.lookbackMinutes,
    logger: logger.child({ component: 'clickhouse-writer' }),
    onFlush: (stats) => metrics.flushed(stats),
    // While the disk is low a flush may still succeed now and then (ClickHouse frees what a failed one wrote): no sign of health.
    onRecovered: (table) => void (storeDiskLow(writer.health.snapshot(), config.diskMinFreeBytes) ? undefined : backoffRetry.now(`a flush of ${table} succeeded again`)),
    // With a shared server several workers may flush one table; embedded, this process is the only writer.
    lock: config.clickhouse.mode === 'server' ? new RedisLock(redis, config.queuePrefix) : undefined,
  });
  // For APIs in other processes (ROLE=api), which cannot ask this writer directly.
  const stopPublishing = watchWriterHealth(writer.health, () => freeBytes(config.dataDir), redis, config.queuePrefix, {
    minFreeBytes: config.diskMinFreeBytes,
    onRoomAgain: () => void backoffRetry.now('the disk has room again', { always: true }),
  });
  shutdown.addConnection('writer health', async () => stopPublishing());
  metrics.watchStore({ freeBytes: () => freeBytes(config.dataDir), writer: () => writer.health.snapshot() });
  readiness.writer = async () => {
    const state = writer.health.snapshot();
    if (writerStalled(state, config.ingest.writerStallMs)) throw new Error(`every flush has failed for ${Math.round((Date.now() - state.failingSince!) / 1000)} s: ${state.lastError}`);
  };

  // With no API in this process (npm start's worker process, ROLE=worker), its own writer records what its start applied.
  if (!config.roles.includes('api')) recordStartupMigrations(new DirectEventSink(writer, logger.child({ component: 'startup' })), conns.migrated, config.roles);
  const risk = startRiskWorker({
    config,
    pg,
    redis,
    workerRedis,
    webhookQueue: queues.webhooks,
    sink: new DirectEventSink(writer, logger.child({ component: 'risk-worker' })),
    logger: logger.child({ component: 'risk-worker' }),
    onDecision: (decision) => metrics.riskDecided(decision),
  });
  // Lag admission reads the held jobs' age from Redis, whichever process runs the API.
  const heldJobs = new HeldJobs();
  const stopPublishingHeld = publishHeldSince(heldJobs, redis, config.queuePrefix);
  shutdown.addConnection('held jobs', stopPublishingHeld);
  const ingestWorker = startIngestWorker({
    held: heldJobs,
    risk: risk.engine,
    config,
    connection: workerRedis,
    writer,
    deadLetters,
    logger: logger.child({ component: 'ingest-worker' }),
    onDeadLettered: (events) => metrics.deadLettered('attempts_exhausted', events),
  });

  const verifier = buildVerifier(pg, clickhouse, keys);
  const webhooks = new WebhookNotifier(queues.webhooks, new WebhookRepository(pg), config.webhooks);
  const alarm = brokenChainAlarm(new DirectEventSink(writer, logger.child({ component: 'integrity' })), webhooks);
  const controlProcessor = createControlProcessor({
    deadLetters,
    ingestQueue: queues.ingest,
    logger,
    reader: directReader(clickhouse),
    analyst: conns.clickhouse.analyst,
    redis,
    verifier: buildRecordedVerification(pg, verifier, alarm),
    retention: buildRetention(config, pg, clickhouse, writer, keys, logger),
    reports: buildReportBuilder(pg, clickhouse, verifier, keys),
  });
  // Relayed reads are short; a few at once keep the dashboard responsive during a replay.
  const controlWorker = new Worker<ControlJob>(QUEUE_NAMES.control, controlProcessor, { connection: workerRedis, prefix: config.queuePrefix, concurrency: 4 });
  // Without a listener BullMQ prints its errors (a refused write under OOM, a lost connection) to stderr, command arguments and all.
  controlWorker.on('error', (error) => logger.error({ err: error }, 'control worker error'));

  // Workers close while the writer keeps flushing, so in-flight jobs finish; then the final flush.
  shutdown.add('drain workers', {
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
  shutdown.add('final flush', { name: 'final flush', run: () => writer.close() });
  return { writer, risk };
}

import type { Config } from '../config/env';
import type { AnalystQueryRunner } from '../features/analyst/analyst-query-runner';
import type { ClickHouseWriter } from '../features/ingest/writer/clickhouse-writer';
import { createOpsApp } from '../features/ops/ops-app';
import type { RiskWorker } from '../features/risk/risk.worker';
import type { ClickHouseClient } from '../lib/clickhouse';
import type { Logger } from '../lib/logger';
import type { AppMetrics } from '../lib/metrics';
import { ShutdownPlan } from '../lib/shutdown';
import { IngestProducer } from '../queues/ingest.producer';
import { IngestQueueOutlet } from '../queues/ingest-queue-outlet';
import { startApiRole } from './api-role';
import { openConnections, type Connections } from './connections';
import { closeServer, listen, portOf } from './http-server';
import { startScheduler } from './scheduler-role';
import { recordStartupMigrations } from './startup-migrations';
import type { WorkerProcess } from './worker-process';
import { startWorkerRole, type WorkerRole } from './worker-role';

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
  metrics?: AppMetrics;
  /** Stops every role in order; resolves true when all steps closed cleanly. */
  stop: () => Promise<boolean>;
}

/**
 * Builds the connections and starts the roles named in config. Nothing
 * connects before this runs, so tests build the same graph with their own
 * database, queue prefix and ClickHouse directory.
 */
export async function start(config: Config, logger: Logger, options: { workerProcess?: WorkerProcess } = {}): Promise<Running> {
  const shutdown = new ShutdownPlan();
  const running: Running = { stop: () => shutdown.run(logger) };
  try {
    const conns = await openConnections(config, logger, shutdown);
    running.clickhouse = conns.clickhouse?.client;
    running.analyst = conns.clickhouse?.analyst;
    running.metrics = conns.metrics;
    const { workerProcess } = options;
    if (workerProcess) {
      // The worker role of this process runs in a child: it is stopped after the API's last events, like an inline one.
      conns.readiness.worker = workerProcess.ready;
      conns.metrics.addSource(workerProcess.metrics);
      shutdown.add('drain workers', { name: 'worker process', run: async () => (await workerProcess.stop()) || Promise.reject(new Error('the worker process did not exit cleanly')) });
    }
    let worker: WorkerRole | undefined;
    if (conns.clickhouse) {
      worker = startWorkerRole(config, { ...conns, clickhouse: conns.clickhouse }, logger, shutdown);
      Object.assign(running, worker);
    }
    if (config.roles.includes('api')) {
      const local = conns.clickhouse && worker ? { clickhouse: conns.clickhouse, writer: worker.writer } : undefined;
      running.port = await startApiRole(config, conns, local, logger, shutdown);
    }
    if (config.roles.includes('scheduler')) {
      const scheduler = startScheduler(conns.queues.control, logger.child({ component: 'scheduler' }));
      shutdown.add('stop intake', { name: 'scheduler', run: async () => scheduler.stop() });
      // Alone (ROLE=scheduler), no API or worker here records what this start applied.
      if (!running.port && !worker) recordThroughQueue(config, conns, logger, shutdown);
    }
    // Last, once every role has added its readiness checks.
    if (config.metricsPort !== undefined) running.opsPort = await startOpsServer(config, conns, logger, shutdown);
    return running;
  } catch (error) {
    await running.stop();
    throw error;
  }
}

/** A process with neither an API nor a worker records its start's migrations straight into the ingest queue. */
function recordThroughQueue(config: Config, conns: Connections, logger: Logger, shutdown: ShutdownPlan): void {
  const producer = new IngestProducer(conns.queues.ingest, conns.redis, { prefix: config.queuePrefix, idempotencyWindowMinutes: config.ingest.idempotencyWindowMinutes });
  const outlet = new IngestQueueOutlet(producer, logger.child({ component: 'startup' }));
  shutdown.add('own events', { name: 'startup events', run: () => outlet.close() });
  recordStartupMigrations(outlet, conns.migrated, config.roles);
}

/** Serves /healthz, /readyz and /metrics on METRICS_PORT; stops with the API's server, before anything else. */
async function startOpsServer(config: Config, conns: Connections, logger: Logger, shutdown: ShutdownPlan): Promise<number> {
  const server = await listen(createOpsApp({ logger, metrics: conns.metrics, metricsToken: config.metricsToken, readiness: conns.readiness }), config.metricsPort!, config.host);
  shutdown.add('stop intake', { name: 'ops server', run: () => closeServer(server) });
  const port = portOf(server);
  logger.info({ port, host: config.host }, 'ops server listening');
  return port;
}

import { type Config, loadConfig } from './config/env';
import { ConfigError } from './lib/errors/config-error';
import { StoreLockedError } from './lib/errors/store-locked-error';
import { LogOutput } from './lib/log-output';
import { createLogger } from './lib/logger';
import { makePrivateDir, ownerOnlyUmask } from './lib/private-dir';
import { lowerOwnPriority } from './lib/process-priority';
import { start } from './roles/start';
import { startWorkerProcess, STORE_LOCKED_EXIT, WORKER_PROCESS_ENV, type FromWorker, type ToWorker } from './roles/worker-process';
import { configureZod } from './schemas/zod-config';
import { WorkerProcessFailed } from './lib/errors/worker-process-failed-error';

/** Starts the roles named in ROLE (default: all) and stops them cleanly on SIGTERM/SIGINT. */
export async function main(): Promise<void> {
  // Before anything creates a file: the store, mail and spool hold personal data.
  ownerOnlyUmask();
  configureZod();
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`auditflow: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  // A DATA_DIR created under an older umask (0644 files in 0755 dirs) is made owner-only too.
  makePrivateDir(config.dataDir);
  // Bounded and asynchronous: a reader of stdout that cannot keep up (a flood's request lines) must not freeze or bloat the process.
  const output = new LogOutput();
  const logger = createLogger(config.logLevel, { pid: process.pid }, output);
  output.reportDrops((lines) => logger.warn({ lines }, 'log lines dropped: stdout could not keep up'));
  /** Exits once the logs are out, or after `drainMs` whatever the reader of stdout does. */
  const exit = (code: number, drainMs: number) => void output.close(drainMs).finally(() => process.exit(code));
  let running: Awaited<ReturnType<typeof start>> | undefined;
  let stopping = false;
  /** Stops the roles in order (last flush, then the embedded store closed) before exiting: exiting with chDB open crashes in its teardown. */
  const stop = async (reason: string, code?: number) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      exit(1, 1000);
    }, config.shutdownTimeoutMs);
    force.unref();
    const clean = running ? await running.stop() : true;
    logger.info({ clean, logLinesDropped: output.dropped }, 'stopped');
    exit(code ?? (clean ? 0 : 1), 2000);
  };
  // A promise nobody awaited failed: the operation it belonged to is over and failed, the rest of the
  // process is in a known state, so it is logged and the process goes on (Node's default would exit).
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
  // A throw out of an event handler may have left anything half done: state is unknown, so stop, in order.
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception; stopping');
    void stop('uncaughtException', 1);
  });
  const supervised = process.env[WORKER_PROCESS_ENV] === 'child' && process.send !== undefined;
  // Before the embedded store starts its threads, which then inherit the value. Only a
  // scheduling preference: where the system refuses it, the worker runs as it would have.
  if (supervised && config.workerNice > 0) {
    try {
      logger.debug({ nice: config.workerNice, threads: lowerOwnPriority(config.workerNice) }, 'worker process priority lowered');
    } catch (error) {
      logger.warn({ err: error, nice: config.workerNice }, 'could not lower the worker process priority');
    }
  }
  // Handlers first, before anything starts: a signal that arrived just as the process said it had started
  // used to meet Node's default action (an exit with the store open, no flush). One during the start is
  // acted on once the start is over; a second one then means now.
  let signalled: string | undefined;
  const onSignal = (name: string) => {
    if (running) return void stop(name);
    if (signalled) process.exit(1);
    signalled = name;
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  // Ctrl-C reaches a worker process too (one process group): its parent stops it, in order.
  process.on('SIGINT', () => void (supervised ? undefined : onSignal('SIGINT')));
  if (supervised)
    answerParent(
      () => running,
      (reason) => void stop(reason),
    );
  try {
    // With other roles, the worker role runs in a child process by default, so ingest work gets a core of its own.
    const apart = config.workerProcess === 'separate' && config.roles.includes('worker') && config.roles.length > 1;
    const workerProcess = apart ? await startWorkerProcess(logger, output) : undefined;
    running = await start(apart ? { ...config, roles: config.roles.filter((role) => role !== 'worker') } : config, logger, { workerProcess });
    if (supervised) process.send!({ type: 'ready' } satisfies FromWorker);
  } catch (error) {
    if (error instanceof StoreLockedError) {
      process.stderr.write(`auditflow: ${error.message}\n`);
      process.exit(STORE_LOCKED_EXIT);
    }
    // The worker process already said why, on the same stderr.
    if (error instanceof WorkerProcessFailed) process.exit(error.exitCode === STORE_LOCKED_EXIT ? STORE_LOCKED_EXIT : 1);
    logger.fatal({ err: error }, 'could not start');
    exit(1, 2000);
    return;
  }
  // 'auditflow started' means the whole process is up: a worker process reports only its own part.
  logger.info({ roles: config.roles, clickhouse: config.clickhouse.mode }, supervised ? 'worker process started' : 'auditflow started');
  if (signalled) void stop(signalled);
}

/** In a worker process: stop when the parent asks or is gone, and send it this process's metrics. */
function answerParent(running: () => Awaited<ReturnType<typeof start>> | undefined, stop: (reason: string) => void): void {
  process.on('message', (message: ToWorker) => {
    if (message.type === 'stop') stop('asked by the main process');
    else if (message.type === 'metrics') {
      void (running()?.metrics?.registry.getMetricsAsJSON() ?? Promise.resolve([])).then((metrics) => process.send?.({ type: 'metrics', id: message.id, metrics } satisfies FromWorker));
    }
  });
  // The main process died without stopping this one (SIGKILL): drain and close the store rather than linger.
  process.on('disconnect', () => stop('the main process is gone'));
}

if (require.main === module) void main();

import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import type { Logger } from '../lib/logger';
import { WorkerProcessFailed } from '../lib/errors/worker-process-failed-error';
import type { MetricsJson } from '../lib/metrics';
import { withServerNodeFlags } from './node-flags';

/** Messages between `npm start`'s main process and its worker process. */
export type ToWorker = { type: 'stop' } | { type: 'metrics'; id: number };
export type FromWorker = { type: 'ready' } | { type: 'metrics'; id: number; metrics: MetricsJson };

/** Set in the worker process's environment; main.ts then answers the messages above. */
export const WORKER_PROCESS_ENV = 'AUDITFLOW_WORKER_PROCESS';

/** The worker role running in a child process of this one. */
export interface WorkerProcess {
  /** Rejects while no worker process runs (between a crash and its restart). */
  ready: () => Promise<void>;
  metrics: () => Promise<MetricsJson>;
  /** Asks the worker to drain and close the store; resolves true if it exited cleanly. */
  stop: () => Promise<boolean>;
}

/** Exit code of a worker process that found the embedded store owned by another process (as main.ts exits). */
export const STORE_LOCKED_EXIT = 3;

const RESTART_DELAY_MS = { first: 1000, max: 30_000 };
const METRICS_TIMEOUT_MS = 5000;

/**
 * Runs the worker role (ingest worker, writer and sealer, risk worker, the
 * embedded store) in a child process, so that HTTP and ingest work use both
 * cores. Resolves once the worker is ready; a worker that dies later is
 * restarted with backoff, while the API goes on queueing in Redis.
 */
export async function startWorkerProcess(logger: Logger, output: { write(line: string): void }, env: NodeJS.ProcessEnv = process.env): Promise<WorkerProcess> {
  const script = path.join(__dirname, '..', 'main.js');
  const childEnv: NodeJS.ProcessEnv = { ...env, ROLE: 'worker', [WORKER_PROCESS_ENV]: 'child' };
  // The main process serves /metrics and /readyz for both.
  delete childEnv.METRICS_PORT;
  let child: ChildProcess | undefined;
  let stopping = false;
  let nextId = 1;
  const pending = new Map<number, (metrics: MetricsJson) => void>();

  const spawnReady = () =>
    new Promise<ChildProcess>((resolve, reject) => {
      // Its log lines go out through this process's output, so lines of the two never interleave mid-line.
      const started = fork(script, [], { env: childEnv, execArgv: withServerNodeFlags(process.execArgv), stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
      readline.createInterface({ input: started.stdout! }).on('line', (line) => output.write(`${line}\n`));
      const onExit = (code: number | null) => reject(new WorkerProcessFailed(code));
      started.once('exit', onExit);
      started.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          started.off('exit', onExit);
          resolve(started);
        } else if (message.type === 'metrics') {
          pending.get(message.id)?.(message.metrics);
          pending.delete(message.id);
        }
      });
    });

  /** Watches a ready worker; if it dies while this process is not stopping, restarts it with backoff. */
  const supervise = (running: ChildProcess) => {
    child = running;
    running.once('exit', (code, signal) => {
      child = undefined;
      if (stopping) return;
      logger.error({ code, signal }, 'the worker process exited; restarting it (the API goes on queueing in Redis)');
      void restart();
    });
  };
  const restart = async () => {
    for (let delayMs = RESTART_DELAY_MS.first; !stopping; delayMs = Math.min(delayMs * 2, RESTART_DELAY_MS.max)) {
      await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
      if (stopping) return;
      try {
        const restarted = await spawnReady();
        logger.info({ workerPid: restarted.pid }, 'worker process restarted');
        supervise(restarted);
        // Stopped while it was starting: it gets the stop request now.
        if (stopping) await stopChild(restarted);
        return;
      } catch (error) {
        logger.error({ err: error, retryInMs: delayMs * 2 }, 'the worker process could not restart');
      }
    }
  };
  const stopChild = async (current: ChildProcess): Promise<boolean> => {
    if (current.exitCode !== null) return current.exitCode === 0;
    const exited = new Promise<number | null>((resolve) => current.once('exit', (code) => resolve(code)));
    if (current.connected) current.send({ type: 'stop' } satisfies ToWorker);
    else current.kill('SIGTERM');
    return (await exited) === 0;
  };

  const first = await spawnReady();
  logger.info({ workerPid: first.pid }, 'worker process ready');
  supervise(first);

  return {
    ready: async () => {
      if (!child) throw new Error('the worker process is not running; it is being restarted');
    },
    metrics: () =>
      new Promise<MetricsJson>((resolve, reject) => {
        const current = child;
        if (!current?.connected) return reject(new Error('no worker process'));
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error('the worker process did not send its metrics'));
        }, METRICS_TIMEOUT_MS);
        pending.set(id, (metrics) => {
          clearTimeout(timer);
          resolve(metrics);
        });
        current.send({ type: 'metrics', id } satisfies ToWorker);
      }),
    stop: async () => {
      stopping = true;
      return child ? stopChild(child) : true;
    },
  };
}

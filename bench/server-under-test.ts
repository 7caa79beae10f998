import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { DIST_DIR } from '../traffic/product';
import { sleep } from '../traffic/load';
import { processTree } from './proc';

/**
 * The server under test: `node <flags> dist/main.js`, the command `npm start` execs (its flags read from package.json),
 * with the environment given (ROLE unset = all, WORKER_PROCESS unset =
 * separate: the main process forks the worker role into a child). Nothing is
 * added to the product: the bench talks to it over HTTP only (the ingest
 * API, /readyz, and /clickhouse for what is visible), and reads its CPU and
 * RSS from /proc, the worker process found with `pgrep -P`.
 */
export interface ServerUnderTest {
  name: string;
  child: ChildProcess;
  /** The API's port (undefined for a process without the api role). */
  port?: number;
  /** The main pid and its descendants (the worker process), refreshed at most once a second. */
  pids(): number[];
  /** The last lines it wrote (stdout and stderr). */
  output(): string;
  /**
   * Freezes every process of the server (SIGSTOP), or thaws them (SIGCONT): a baseline measured
   * beside it then gets the cores without the server's background work (merges, timers).
   */
  pause(): void;
  resume(): void;
  /** SIGTERM, as a container runtime or Ctrl-C sends it (after SIGCONT: it may be paused); SIGKILL to the whole tree after `timeoutMs`. Resolves the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** A port free right now on 127.0.0.1 (the server is started on it: with LOG_LEVEL=warn it does not log the one it got for PORT=0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const live = new Set<ServerUnderTest>();

/** Every server still running (for the bench's cleanup). */
export function liveServers(): ServerUnderTest[] {
  return [...live];
}

/**
 * Starts `node dist/main.js` and resolves once `/readyz` answers 200 on
 * `readyPort` (the API's PORT, or METRICS_PORT for a process without the api
 * role): every dependency answers, including the worker process.
 */
export async function startServer(
  name: string,
  env: NodeJS.ProcessEnv,
  /** execArgv: node flags (BENCH_CPU_PROF's --cpu-prof); the worker process inherits them, as fork() passes its parent's execArgv on. */
  /** distDir: another build of the product (bench/singles-ab.ts compares two); default this tree's dist/. */
  /** nodePath: another node binary (a Node version compared side by side); default the bench's own. */
  options: { port?: number; readyPort: number; timeoutMs?: number; execArgv?: string[]; distDir?: string; nodePath?: string },
): Promise<ServerUnderTest> {
  const distDir = options.distDir ?? DIST_DIR;
  const args = [...startFlags(distDir), ...(options.execArgv ?? []), path.join(distDir, 'main.js')];
  const child = spawn(options.nodePath ?? process.execPath, args, { cwd: path.dirname(distDir), env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let tree: { at: number; pids: number[] } | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const server: ServerUnderTest = {
    name,
    child,
    ...(options.port === undefined ? {} : { port: options.port }),
    pids() {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return [];
      if (!tree || performance.now() - tree.at > 1000) tree = { at: performance.now(), pids: processTree(child.pid) };
      return tree.pids;
    },
    output: () => output,
    pause() {
      if (child.pid !== undefined) signalAll(processTree(child.pid), 'SIGSTOP');
    },
    resume() {
      if (child.pid !== undefined) signalAll(processTree(child.pid), 'SIGCONT');
    },
    async stop(timeoutMs = 60_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const descendants = child.pid === undefined ? [] : processTree(child.pid).slice(1);
      if (child.pid !== undefined) signalAll([child.pid, ...descendants], 'SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        for (const pid of descendants) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }, timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      // The worker process stops before its parent exits; wait for it anyway, so the next server's store and CPU are its own.
      for (const pid of descendants) {
        for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
      }
      live.delete(server);
      return code;
    },
  };
  live.add(server);
  void exited.then(() => live.delete(server));

  const deadline = performance.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited (code ${child.exitCode}, signal ${child.signalCode}) before it was ready\n${output}`);
    if (performance.now() > deadline) {
      await server.stop(5000);
      throw new Error(`${name} was not ready within ${options.timeoutMs ?? 120_000} ms\n${output}`);
    }
    try {
      const response = await fetch(`http://127.0.0.1:${options.readyPort}/readyz`, { signal: AbortSignal.timeout(5000) });
      await response.arrayBuffer();
      if (response.status === 200) return server;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
}

/** The node flags `npm start` gives the server, from the package.json beside the build: what the bench runs is what `npm start` runs. */
export function startFlags(distDir: string): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(distDir), 'package.json'), 'utf8')) as { scripts?: { start?: string } };
  const command = pkg.scripts?.start ?? '';
  const between = /\bnode\s+(.*?)\s*dist\/main\.js/.exec(command)?.[1] ?? '';
  return between.split(/\s+/).filter((token) => token.startsWith('--'));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

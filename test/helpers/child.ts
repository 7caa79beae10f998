import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

const ROOT = path.resolve(__dirname, '..', '..');

/** Children still running when the test process exits are killed, so a failed test leaves no server behind. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Lines kept per child. Its stdout and stderr are always read to the end (a
 * child whose pipe fills up would stall on its logs), but under a flood it
 * writes a line per request: keeping them all would grow this process by
 * the gigabyte.
 */
const KEPT_LINES = 10_000;

function keep<T>(lines: T[], line: T): void {
  lines.push(line);
  if (lines.length > KEPT_LINES * 1.5) lines.splice(0, lines.length - KEPT_LINES);
}

export interface AuditflowProcess {
  child: ChildProcess;
  /** Port of the API, once it listens (only when the api role runs). */
  port?: number;
  /** Port of the ops server (/healthz, /readyz, /metrics), when METRICS_PORT is set. */
  opsPort?: number;
  /** The last KEPT_LINES JSON log lines it wrote to stdout, parsed. */
  logs: Record<string, unknown>[];
  /** The last KEPT_LINES lines of stderr, and of its error log lines. */
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `node dist/main.js` (the built product, as `npm start` runs it) and
 * resolves once it has started. Tests run `npm run build` first via `npm test`.
 * `onSpawn` gets the process at once, for a test that must act while it is still starting.
 */
export async function spawnAuditflow(env: Record<string, string>, timeoutMs = 30_000, onSpawn?: (child: ChildProcess) => void): Promise<AuditflowProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'main.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  onSpawn?.(child);
  child.once('exit', () => live.delete(child));
  const proc: AuditflowProcess = {
    child,
    stderr: [],
    logs: [],
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
  };
  readline.createInterface({ input: child.stderr! }).on('line', (line) => keep(proc.stderr, line));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`auditflow did not start in ${timeoutMs} ms: ${proc.stderr.join('\n')}`)), timeoutMs);
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const log = JSON.parse(line) as { msg?: string; port?: number; level?: number };
        keep(proc.logs, log);
        if (log.msg === 'API listening') proc.port = log.port;
        if (log.msg === 'ops server listening') proc.opsPort = log.port;
        if (log.msg === 'auditflow started') {
          clearTimeout(timer);
          resolve();
        }
        if ((log.level ?? 0) >= 50) keep(proc.stderr, line);
      } catch {
        /* not a log line */
      }
    });
    void proc.exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`auditflow exited with ${code} before starting: ${proc.stderr.join('\n')}`));
    });
  });
  return proc;
}

/** Runs the `auditflow` CLI to completion. */
export function runCli(args: string[], env: Record<string, string>): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'auditflow.js'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs the `auditflow` CLI without blocking the event loop (needed when this process serves its requests); `input` is its standard input. */
export function runCliAsync(args: string[], env: Record<string, string>, input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'auditflow.js'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    // What the operator would type or pipe in (--password-stdin).
    if (input !== undefined) child.stdin.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // 'close', not 'exit': at 'exit' the child's output may still be unread.
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

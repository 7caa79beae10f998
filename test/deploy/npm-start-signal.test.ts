import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { createNamespace, eventually } from '../helpers/test-env';

/**
 * `kill -TERM <npm pid>` used to leave `node dist/main.js` listening with
 * PPID 1: npm signalled the `sh -c` it ran, which died without passing the
 * signal on. The start script now `exec`s node, so npm's signal reaches it.
 */
const ns = createNamespace('npmstart');
afterAll(() => ns.cleanup());

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it('SIGTERM to the npm process of `npm start` stops the server cleanly within 10 s', async () => {
  const root = path.resolve(__dirname, '..', '..');
  const npm = spawn('npm', ['start', '--silent'], { cwd: root, env: { ...process.env, ...ns.env({ LOG_LEVEL: 'info' }) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: { msg?: string; pid?: number; clean?: boolean }[] = [];
  const started = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('auditflow did not start in 45 s')), 45_000);
    readline.createInterface({ input: npm.stdout! }).on('line', (line) => {
      try {
        const log = JSON.parse(line) as { msg?: string; pid?: number };
        logs.push(log);
        if (log.msg === 'auditflow started') {
          clearTimeout(timer);
          resolve(log.pid!);
        }
      } catch {
        /* npm's banner */
      }
    });
  });
  npm.stderr!.resume();
  const serverPid = await started;
  expect(serverPid).not.toBe(npm.pid);

  const stoppedAt = Date.now();
  npm.kill('SIGTERM');
  while (isAlive(serverPid) && Date.now() - stoppedAt < 10_000) await new Promise((r) => setTimeout(r, 100));
  expect(isAlive(serverPid)).toBe(false);
  // The main process's last line (a worker process logs its own 'stopped' first).
  const stopped = await eventually(async () => logs.find((l) => l.msg === 'stopped' && l.pid === serverPid), 5000).catch(() => undefined);
  expect({ stopped: stopped?.clean, lines: stopped ? [] : logs.slice(-8) }).toEqual({ stopped: true, lines: [] });
}, 70_000);

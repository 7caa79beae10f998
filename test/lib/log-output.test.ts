import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * A child that logs ~200 MB through LogOutput to a stdout nobody reads (its
 * parent pauses the pipe), then closes the output and exits, as main.ts does.
 * Prints what it measured on stderr.
 */
const CHILD = `
const { LogOutput } = require(${JSON.stringify(path.join(ROOT, 'dist', 'lib', 'log-output.js'))});
const { createLogger } = require(${JSON.stringify(path.join(ROOT, 'dist', 'lib', 'logger.js'))});
const output = new LogOutput({ maxBufferBytes: 4 * 1024 * 1024 });
const logger = createLogger('info', {}, output);
const filler = 'x'.repeat(1000);
let peakBuffered = 0;
for (let i = 0; i < 200000; i++) {
  logger.info({ i, filler }, 'request completed');
  peakBuffered = Math.max(peakBuffered, output.bufferedBytes);
}
const rssMb = Math.round(process.memoryUsage().rss / 1048576);
const started = performance.now();
output.close(300).finally(() => {
  process.stderr.write(JSON.stringify({ dropped: output.dropped, peakBuffered, rssMb, closeMs: Math.round(performance.now() - started) }) + '\\n');
  process.exit(0);
});
`;

it('a stdout nobody reads costs dropped log lines, not unbounded memory or an exit that never comes', async () => {
  const child = spawn(process.execPath, ['-e', CHILD], { stdio: ['ignore', 'pipe', 'pipe'] });
  // The reader is stuck: nothing is read from the child's stdout until it has exited.
  child.stdout.pause();
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
  child.stdout.destroy();
  expect(exited).toEqual({ code: 0, signal: null });
  const stats = JSON.parse(stderr.trim().split('\n').at(-1)!) as { dropped: number; peakBuffered: number; rssMb: number; closeMs: number };
  expect(stats.peakBuffered).toBeLessThanOrEqual(4 * 1024 * 1024);
  expect(stats.dropped).toBeGreaterThan(100_000);
  // ~200 MB of lines were logged; without the bound they would all be held in memory.
  expect(stats.rssMb).toBeLessThan(150);
  // The exit came on its own (no SIGKILL at 20 s), and close() kept to its 300 ms deadline, give or take a busy
  // machine's scheduling. How long the whole child took is its 200 MB of logging, CPU-bound: not asserted.
  expect(stats.closeMs).toBeLessThan(1000);
}, 30_000);

it('a reader that keeps up gets every line, in order, before the exit', async () => {
  // Drained for up to 2 s, as main.ts does on a normal exit. With the stuck-reader test's 300 ms, a reader
  // that keeps up but is itself slowed (this Jest worker, under the whole suite) lost its last lines mid-line.
  const child = spawn(process.execPath, ['-e', CHILD.replace('200000', '2000').replace('output.close(300)', 'output.close(2000)')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const read = new Promise((r) => child.stdout.once('close', r));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  await read;
  expect(code).toBe(0);
  const lines = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { i: number });
  expect(lines.map((l) => l.i)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
}, 30_000);

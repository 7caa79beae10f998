/**
 * Opt-in diagnostic for "A worker process has failed to exit gracefully":
 * with JEST_HANDLE_REPORT=<dir>, each Jest worker appends the kinds and
 * counts of its live handles as each test file starts (a handle one file
 * leaks shows as growth at the start of the next), and, if it is still
 * alive 300 ms after Jest told it to end, what keeps it alive.
 */
import fs from 'node:fs';
import path from 'node:path';

const dir = process.env.JEST_HANDLE_REPORT;
/** Jest's "end" message to a worker (jest-worker CHILD_MESSAGE_END). */
const CHILD_MESSAGE_END = 2;

type Internal = NodeJS.Process & { _getActiveHandles(): unknown[]; __handleReportArmed?: boolean };

function describeHandle(h: unknown): string {
  const name = (h as object)?.constructor?.name ?? typeof h;
  const socket = h as { remoteAddress?: string; remotePort?: number; localPort?: number; destroyed?: boolean };
  if (name === 'Socket') return `Socket ${socket.remoteAddress ?? '-'}:${socket.remotePort ?? '-'} local ${socket.localPort ?? '-'} destroyed=${socket.destroyed}`;
  const timer = h as { _onTimeout?: { name?: string; toString(): string }; _idleTimeout?: number };
  if (timer._onTimeout) return `${name} ${timer._idleTimeout} ms ${timer._onTimeout.name || timer._onTimeout.toString().slice(0, 200).replace(/\s+/g, ' ')}`;
  return name;
}

if (dir) {
  const file = path.join(dir, `${process.pid}.log`);
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  fs.mkdirSync(dir, { recursive: true });
  fs.appendFileSync(file, `${new Date().toISOString()} ${path.relative(process.cwd(), expect.getState().testPath ?? '?')} ${JSON.stringify(counts)}\n`);
  const proc = process as Internal;
  if (!proc.__handleReportArmed) {
    proc.__handleReportArmed = true;
    const onMessage = (message: unknown): void => {
      if (!Array.isArray(message) || message[0] !== CHILD_MESSAGE_END) return;
      process.removeListener('message', onMessage);
      fs.appendFileSync(file, `${new Date().toISOString()} END received: ${JSON.stringify(process.getActiveResourcesInfo())}\n`);
      process.once('exit', () => fs.appendFileSync(file, `${new Date().toISOString()} exit event\n`));
      setTimeout(() => {
        const live = proc._getActiveHandles().map(describeHandle);
        fs.appendFileSync(file, `${new Date().toISOString()} STILL ALIVE after end: ${JSON.stringify(process.getActiveResourcesInfo())}\n  ${live.join('\n  ')}\n`);
      }, 300).unref();
    };
    process.on('message', onMessage);
  }
}

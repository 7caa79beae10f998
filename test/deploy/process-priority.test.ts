import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

/**
 * lowerOwnPriority, as the worker process calls it at start (from dist/, in
 * a process of its own: a nice value cannot be taken back without privilege).
 * The child lowers itself, then starts a thread, as the embedded store starts
 * its pools later, and prints each thread's nice value.
 */
const MODULE = path.join(__dirname, '..', '..', 'dist', 'lib', 'process-priority.js');
const CHILD = `
const fs = require('node:fs');
const os = require('node:os');
const { Worker } = require('node:worker_threads');
const changed = require(${JSON.stringify(MODULE)}).lowerOwnPriority(Number(process.argv[1]));
const nices = () => fs.readdirSync('/proc/self/task').map((tid) => os.getPriority(Number(tid)));
const before = nices().length;
const worker = new Worker('setTimeout(() => {}, 300)', { eval: true });
worker.once('online', () => {
  console.log(JSON.stringify({ changed, before, nices: nices() }));
  worker.terminate();
});
`;

const run = (nice: number, prefix: string[] = []) => {
  const [command, ...args] = [...prefix, process.execPath, '-e', CHILD, String(nice)];
  return JSON.parse(execFileSync(command!, args, { encoding: 'utf8' })) as { changed: number; before: number; nices: number[] };
};

// Whatever the test runner itself was started at, the child starts there too.
const inherited = os.getPriority();
const onLinux = process.platform === 'linux' ? it : it.skip;

describe("the worker process's priority", () => {
  onLinux('is lowered on every thread, and a thread started later inherits it', () => {
    const result = run(10);
    expect(result.changed).toBe(inherited < 10 ? result.before : 0);
    expect(result.nices.length).toBeGreaterThan(result.before);
    expect(new Set(result.nices)).toEqual(new Set([Math.max(10, inherited)]));
  });

  onLinux("is never raised: an operator's own higher nice value stays", () => {
    const result = run(10, ['nice', '-n', '15']);
    expect(result.changed).toBe(0);
    expect(new Set(result.nices)).toEqual(new Set([Math.min(19, inherited + 15)]));
  });
});

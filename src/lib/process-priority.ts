import fs from 'node:fs';
import os from 'node:os';

/**
 * Lowers this process's scheduling priority to `nice` (never raises it: an
 * operator's own higher value, from `nice -n` or the container, stays).
 *
 * On Linux a nice value belongs to each thread, and setpriority() on the
 * process id reaches only the main thread, so every thread running now is
 * set. Call it before the process starts more (the embedded store's pools):
 * a new thread takes its creator's value. Elsewhere the value is the
 * process's. Returns how many threads it changed.
 */
export function lowerOwnPriority(nice: number): number {
  const threads = process.platform === 'linux' ? fs.readdirSync('/proc/self/task').map(Number) : [0];
  let changed = 0;
  for (const thread of threads) {
    try {
      if (os.getPriority(thread) >= nice) continue;
      os.setPriority(thread, nice);
      changed++;
    } catch (error) {
      // A V8 or libuv thread that ended between the listing and the call.
      if ((error as { info?: { code?: string } }).info?.code !== 'ESRCH') throw error;
    }
  }
  return changed;
}

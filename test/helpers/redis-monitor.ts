import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/** The commands Redis executed while a watch was open, as MONITOR reported them (a Lua script's own calls included). */
export interface RedisWatch {
  /** Waits until Redis has reported everything it executed before this call, then closes the watch. */
  stop(): Promise<string[][]>;
}

const QUEUE_STATE_ERROR = 'Command queue state error';

/**
 * Opens a MONITOR connection beside `redis` and keeps the commands for which `keep` is true.
 *
 * ioredis marks its connection as monitoring one turn after MONITOR's `OK` arrives. A line of another
 * client's command that comes in the same read is taken for a reply to a command nobody sent, and raised
 * as a "Command queue state error" (the race of taskforcesh/bullmq#2505). Such lines come before the
 * watch is open, so they are never the caller's commands: they are dropped, and only they.
 */
export async function watchRedis(redis: Redis, keep: (args: string[]) => boolean): Promise<RedisWatch> {
  const monitor = redis.duplicate({ monitor: true });
  const seen: string[][] = [];
  let open = false;
  // One error path for the whole watch: while opening, and until it stops.
  const failed = new Promise<never>((_, reject) => {
    monitor.on('error', (error: Error) => {
      if (!open && error.message.startsWith(QUEUE_STATE_ERROR)) return;
      reject(error);
    });
  });
  failed.catch(() => {});
  let onMarker: ((args: string[]) => void) | undefined;
  monitor.on('monitor', (_time: string, args: string[]) => {
    onMarker?.(args);
    if (keep(args)) seen.push(args);
  });
  try {
    const opened = new Promise<void>((resolve) =>
      monitor.once('monitoring', () => {
        open = true;
        resolve();
      }),
    );
    await Promise.race([opened, failed]);
  } catch (error) {
    monitor.disconnect();
    throw error;
  }
  return {
    async stop() {
      // MONITOR reports commands in the order Redis ran them: once the marker is in, so is all before it.
      const marker = `auditflow-watch-end-${randomUUID()}`;
      const markerSeen = new Promise<void>((resolve) => {
        onMarker = (args) => {
          if (args.includes(marker)) resolve();
        };
      });
      try {
        await redis.echo(marker);
        await Promise.race([markerSeen, failed]);
      } finally {
        monitor.disconnect();
      }
      return seen;
    },
  };
}

import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { createLogger } from '../../src/lib/logger';
import { ThrowawayRedis } from '../helpers/redis-server';

it('logs a Redis write refused for memory by its message and command name, without the command’s arguments', async () => {
  const redis = await ThrowawayRedis.start(['--maxmemory', String(2 * 1024 * 1024), '--maxmemory-policy', 'noeviction']);
  const client = new Redis(redis.url);
  const lines: string[] = [];
  const logger = createLogger(
    'info',
    {},
    new Writable({
      write: (chunk, _enc, done) => {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  try {
    for (let i = 0; i < 40; i++) await client.set(`fill:${i}`, 'x'.repeat(100_000)).catch(() => undefined);
    const payload = 'secret-event-content '.repeat(10_000);
    const error = await client.eval("return redis.call('set', KEYS[1], ARGV[1])", 1, 'big', payload).then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/^OOM /);
    logger.warn({ err: new Error('the event queue is unavailable', { cause: error }) }, 'refused');
    logger.warn({ err: error }, 'refused');
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).toContain('OOM command not allowed');
      expect(line).not.toContain('secret-event-content');
      expect(line.length).toBeLessThan(4000);
    }
    expect(JSON.parse(lines[1]!).err.command).toEqual({ name: 'eval' });
  } finally {
    client.disconnect();
    await redis.stop();
  }
}, 30_000);

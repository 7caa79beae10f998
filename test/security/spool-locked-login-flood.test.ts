import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { api, signUp } from '../helpers/accounts';
import { ThrowawayRedis } from '../helpers/redis-server';
import { spoolDir } from '../helpers/spool';
import { startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

/**
 * The spool's bound fails closed (docs/reliability.md): once it is full,
 * every API route answers 503. A login refused with 423 because the email is
 * locked checks no password (no Argon2), needs no credential, has no per-IP
 * limit (and the route limits fail open while Redis is down anyway), and
 * still spools a failed_login row and a login_failed auth event, each with
 * the caller's user agent (up to 2 KiB). Anyone who locks any email, even
 * one with no account, with five wrong guesses can then fill the spool during
 * a Redis outage at PostgreSQL's speed, and shut the todo/auth API down.
 */
const ns = createNamespace('spoollocked');
let redis: ThrowawayRedis;

beforeAll(async () => {
  redis = await ThrowawayRedis.start();
});
afterAll(async () => {
  await redis.stop();
  await ns.cleanup();
});

it('logins refused for a locked email while Redis is down cannot fill the spool and shut the todo API down', async () => {
  const maxBytes = 1024 * 1024;
  fs.mkdirSync(spoolDir(ns.dataDir), { recursive: true });
  const foreign = path.join(spoolDir(ns.dataDir), `000000000000-${process.ppid}.spool`);
  fs.writeFileSync(foreign, `${'0'.repeat(16)} ${JSON.stringify({ events: [], padding: 'x'.repeat(Math.round(maxBytes * 0.6)) })}\n`);
  const stack = await startStack(ns, { ROLE: 'api', REDIS_URL: redis.url, SPOOL_MAX_BYTES: String(maxBytes) });
  try {
    const { token } = await signUp(stack.url, ns, `victim-${randomUUID()}@example.com`);
    // Any email locks after five wrong guesses, registered or not.
    const locked = `nobody-${randomUUID()}@example.com`;
    for (let i = 0; i < 5; i++) await api(stack.url, 'POST', '/auth/login', { body: { email: locked, password: `wrong guess ${i}` } });
    await redis.stop();

    const statuses: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next++ < 300) {
          const res = await api(stack.url, 'POST', '/auth/login', { body: { email: locked, password: 'whatever it is' }, headers: { 'user-agent': `flood ${'u'.repeat(2000)}` } });
          statuses.push(res.status);
        }
      }),
    );
    expect(statuses.filter((s) => s === 423).length).toBeGreaterThan(0);

    const todo = await api(stack.url, 'POST', '/todos', { token, body: { title: 'after the flood' } });
    expect(todo.status).toBe(201);
  } finally {
    await redis.restart();
    await stack.stop();
    fs.rmSync(foreign, { force: true });
  }
}, 90_000);

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { api, signUp } from '../helpers/accounts';
import { ThrowawayRedis } from '../helpers/redis-server';
import { spoolDir, spooledEvents } from '../helpers/spool';
import { startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

/**
 * While Redis is down, the API's own events go to the disk spool, and a full
 * spool makes every API route answer 503 (docs/reliability.md, "Bound: fail
 * closed"). Half of it is kept for acknowledged actions: the events of
 * requests that acknowledged nothing must not use it up. A request refused
 * with a 4xx (no credential, a made-up API key, a route that does not exist,
 * a body that does not validate) acknowledges nothing either, and needs no
 * credential at all: before, each such request spooled its api_access event
 * (with its user agent, up to 2 KiB, and path, up to 512 characters) and its
 * `error` event past half full, so anyone could fill the spool during a
 * Redis outage and shut the todo/auth API down.
 */
const ns = createNamespace('spoolrefused');
let redis: ThrowawayRedis;

beforeAll(async () => {
  redis = await ThrowawayRedis.start();
});
afterAll(async () => {
  await redis.stop();
  await ns.cleanup();
});

const JUNK_ID = 'anonymous-junk';

/** One anonymous request that is refused with a 4xx: no credential, or a made-up one. */
function junk(url: string, i: number): Promise<Response> {
  const headers = { 'x-request-id': JUNK_ID, 'user-agent': `junk ${'u'.repeat(2000)}` };
  switch (i % 3) {
    case 0:
      return fetch(`${url}/no-such-route/${'p'.repeat(480)}`, { headers });
    case 1:
      return fetch(`${url}/v1/events`, { method: 'POST', headers: { ...headers, authorization: `Bearer af_${randomUUID()}`, 'content-type': 'application/json' }, body: '{}' });
    default:
      return fetch(`${url}/auth/verify-email`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"nope": 1}' });
  }
}

it('anonymous requests refused with a 4xx while Redis is down cannot fill the spool past half and shut the todo API down', async () => {
  const maxBytes = 1024 * 1024;
  // As in test/api/spool.test.ts: another live process's segment already holds 60 % of the limit.
  fs.mkdirSync(spoolDir(ns.dataDir), { recursive: true });
  const foreign = path.join(spoolDir(ns.dataDir), `000000000000-${process.ppid}.spool`);
  fs.writeFileSync(foreign, `${'0'.repeat(16)} ${JSON.stringify({ events: [], padding: 'x'.repeat(Math.round(maxBytes * 0.6)) })}\n`);
  const stack = await startStack(ns, { ROLE: 'api', REDIS_URL: redis.url, SPOOL_MAX_BYTES: String(maxBytes) });
  try {
    const { token } = await signUp(stack.url, ns, `junk-${randomUUID()}@example.com`);
    await redis.stop();

    // ~400 KiB of room left; each junk request used to spool 2.5-3 KiB. 300 of them, 16 at a time: a few seconds.
    const statuses: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < 300) {
          const res = await junk(stack.url, next++);
          await res.arrayBuffer();
          statuses.push(res.status);
        }
      }),
    );
    // Each was refused as the client's mistake (or, once the spool was full, with the 503 of a full spool).
    expect(statuses.filter((s) => s < 400 || (s >= 500 && s !== 503))).toEqual([]);

    // The user's action is still taken and recorded: the junk did not take the half kept for it.
    const todo = await api(stack.url, 'POST', '/todos', { token, body: { title: 'after the junk' }, headers: { 'x-request-id': 'todo-after-junk' } });
    expect(todo.status).toBe(201);
    const onDisk = spooledEvents(ns.dataDir);
    expect(onDisk.filter((e) => (e as { request_headers?: { 'x-request-id'?: string } }).request_headers?.['x-request-id'] === 'todo-after-junk').length).toBe(1);
    // And none of the junk went past half of the spool (some may have gone below it).
    const junkSpooled = onDisk.filter((e) => JSON.stringify(e).includes(JUNK_ID)).length;
    expect(junkSpooled).toBeLessThan(150);
    expect(statuses.filter((s) => s === 503)).toEqual([]);
  } finally {
    await redis.restart();
    await stack.stop();
    fs.rmSync(foreign, { force: true });
  }
}, 90_000);

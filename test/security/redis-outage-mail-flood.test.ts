import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { api, signUp } from '../helpers/accounts';
import { ThrowawayRedis } from '../helpers/redis-server';
import { startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

/**
 * docs/security.md: anyone may reset a password, but cannot "exceed the
 * per-IP and per-address limits (429 + Retry-After), mail an address more
 * than 10 times an hour". Both were counted in Redis only, and switched off
 * altogether while Redis was unreachable: during an outage one client could
 * make the API mail a victim's inbox without any bound (a reset mail per
 * request), and create guest sessions in PostgreSQL without any bound.
 */
const ns = createNamespace('redismailflood');
let redis: ThrowawayRedis;

beforeAll(async () => {
  redis = await ThrowawayRedis.start();
});
afterAll(async () => {
  await redis.stop();
  await ns.cleanup();
});

const mailsTo = (to: string) => (fs.existsSync(path.join(ns.dataDir, 'mail')) ? fs.readdirSync(path.join(ns.dataDir, 'mail')).filter((f) => f.includes(`-${to}-`)).length : 0);

it('while Redis is down, one client cannot mail a victim past the hourly cap, nor pass the per-IP limits', async () => {
  const stack = await startStack(ns, { ROLE: 'api', REDIS_URL: redis.url });
  try {
    const victim = `victim-${randomUUID()}@example.com`;
    await signUp(stack.url, ns, victim);
    const before = mailsTo(victim);

    await redis.stop();
    const from = { 'x-forwarded-for': '198.51.100.77' };
    const forgot = [];
    for (let i = 0; i < 30; i++) forgot.push((await api(stack.url, 'POST', '/auth/password/forgot', { body: { email: victim }, headers: from })).status);
    // Reset mails are sent after the answer.
    await new Promise((r) => setTimeout(r, 1500));

    // At most the forgot route's per-address limit (3), and never past the mail cap (10 an hour).
    expect(forgot.filter((s) => s === 202).length).toBeLessThanOrEqual(3);
    expect(forgot.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(mailsTo(victim) - before).toBeLessThanOrEqual(10);

    // Guest sessions: 30 an hour per IP (rate_limit.guest.per_ip).
    const guests = [];
    for (let i = 0; i < 35; i++) guests.push((await api(stack.url, 'POST', '/auth/guest', { headers: { 'x-forwarded-for': '198.51.100.78' } })).status);
    expect(guests.filter((s) => s === 201).length).toBeLessThanOrEqual(30);
    expect(guests.slice(30)).toEqual([429, 429, 429, 429, 429]);
  } finally {
    await stack.stop();
  }
}, 90_000);

import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually, REDIS_URL } from '../helpers/test-env';

const ns = createNamespace('tenancy');
let stack: Awaited<ReturnType<typeof startStack>>;
let redis: Redis;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  redis = new Redis(REDIS_URL);
});

afterAll(async () => {
  redis?.disconnect();
  await stack?.stop();
  await ns.cleanup();
});

async function rowsOf(eventId: string) {
  await stack.writer!.flushAll();
  return queryRows<{ source_app: string; user_id: string }>(
    stack.clickhouse!,
    `SELECT source_app, user_id FROM audit_logs WHERE event_id = {id:UUID} ORDER BY source_app`,
    { id: eventId },
  );
}

describe('source apps as tenants', () => {
  it('records the key’s app, not its name, as source_app: a rotated key keeps the app’s data together', async () => {
    const old = await createApiKey(ns, 'shop-2025', ['ingest'], 'shop');
    const rotated = await createApiKey(ns, 'shop-2026', ['ingest'], 'shop');
    const ids = [randomUUID(), randomUUID()];
    expect((await postEvents(stack.url, old, { kind: 'audit', event_type: 'logout', event_id: ids[0], user_id: 'u1' })).status).toBe(202);
    expect((await postEvents(stack.url, rotated, { kind: 'audit', event_type: 'logout', event_id: ids[1], user_id: 'u1' })).status).toBe(202);
    for (const id of ids) expect(await eventually(async () => (await rowsOf(id)).length > 0 && rowsOf(id))).toEqual([{ source_app: 'shop', user_id: 'u1' }]);
  });

  it('stores the same event_id from two apps as two rows; a repost by either adds none', async () => {
    const a = await createApiKey(ns, 'app-a');
    const b = await createApiKey(ns, 'app-b');
    const eventId = randomUUID();
    const post = (key: string, user: string) => postEvents(stack.url, key, { kind: 'audit', event_type: 'logout', event_id: eventId, user_id: user });

    const first = await post(a, 'alice');
    expect(first.body.events[0].status).toBe('accepted');
    // B chose the same id for its own event: accepted, not a duplicate of or a conflict with A's.
    const second = await post(b, 'bob');
    expect(second.status).toBe(202);
    expect(second.body.events[0].status).toBe('accepted');
    const both = [
      { source_app: 'app-a', user_id: 'alice' },
      { source_app: 'app-b', user_id: 'bob' },
    ];
    expect(await eventually(async () => (await rowsOf(eventId)).length === 2 && rowsOf(eventId))).toEqual(both);

    // Reposts within the idempotency window: each app's own record answers.
    expect((await post(a, 'alice')).body.events[0].status).toBe('duplicate');
    expect((await post(b, 'bob')).body.events[0].status).toBe('duplicate');
    expect((await post(b, 'alice')).status).toBe(409);

    // Past the window (records gone), the writer still drops each app's repeat.
    const records = await redis.keys(`${ns.queuePrefix}:idem:*${eventId}`);
    expect(records).toHaveLength(2);
    await redis.del(...records);
    expect((await post(a, 'alice')).body.events[0].status).toBe('accepted');
    expect((await post(b, 'bob')).body.events[0].status).toBe('accepted');
    await new Promise((r) => setTimeout(r, 500));
    expect(await rowsOf(eventId)).toEqual(both);
    const [totals] = await queryRows<{ n: number; u: number }>(stack.clickhouse!, 'SELECT count() AS n, uniqExact(source_app, event_id) AS u FROM audit_logs');
    expect(totals!.n).toBe(totals!.u);
  });
});

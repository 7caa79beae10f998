/**
 * One accepted batch whose occurred_at values span more than 100
 * months. Every table is partitioned by toYYYYMM(occurred_at), and ClickHouse
 * refuses an INSERT block that touches more than max_partitions_per_insert_block
 * (100) partitions with TOO_MANY_PARTS, which the writer takes for a transient
 * failure: the whole flush failed on every retry, and every event buffered with
 * the batch (another app's included) was dead-lettered after its 202.
 */
import { randomUUID } from 'node:crypto';
import { createApiKey, drainIngest, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

const ns = createNamespace('many-months');
let stack: Awaited<ReturnType<typeof startStack>>;
let hostileKey: string;
let innocentKey: string;

beforeAll(async () => {
  // Few, quick attempts: on the faulty code the jobs give up in seconds rather than minutes.
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '300', JOB_ATTEMPTS: '2', JOB_BACKOFF_MS: '200' });
  hostileKey = await createApiKey(ns, 'parts-hostile');
  innocentKey = await createApiKey(ns, 'parts-innocent');
});

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

describe('a batch spanning many months', () => {
  it('stores every event of a 202 batch whose occurred_at spans 150 months, and the events flushed with it', async () => {
    const months = Array.from({ length: 150 }, (_, i) => ({
      kind: 'session',
      event_id: randomUUID(),
      session_id: `parts-${i}`,
      expires_at: '2030-01-01T00:00:00Z',
      occurred_at: `${2000 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}-15T12:00:00Z`,
    }));
    const innocent = { kind: 'session', event_id: randomUUID(), session_id: 'parts-innocent', expires_at: '2030-01-01T00:00:00Z' };
    const [hostile, other] = await Promise.all([postEvents(stack.url, hostileKey, months), postEvents(stack.url, innocentKey, innocent)]);
    expect([hostile.status, hostile.body.accepted]).toEqual([202, 150]);
    expect(other.status).toBe(202);

    await drainIngest(stack, ns);
    const dead = await queryRows<{ source_app: string; n: number; error: string }>(
      stack.clickhouse!,
      'SELECT source_app, count() AS n, any(substring(error, 1, 100)) AS error FROM dead_letter_events GROUP BY source_app ORDER BY source_app',
    );
    expect(dead).toEqual([]);
    const stored = await queryRows<{ source_app: string; n: number }>(
      stack.clickhouse!,
      'SELECT source_app, count() AS n FROM user_sessions WHERE session_id LIKE {p:String} GROUP BY source_app ORDER BY source_app',
      { p: 'parts-%' },
    );
    expect(stored).toEqual([
      { source_app: 'parts-hostile', n: 150 },
      { source_app: 'parts-innocent', n: 1 },
    ]);
  }, 90_000);
});

import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE_NAMES, type IngestJob } from '../../src/queues/queue-names';
import { runCliAsync } from '../helpers/child';
import { countUnique, createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually, REDIS_URL } from '../helpers/test-env';

const ns = createNamespace('dlq');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;
let redis: Redis;
let queue: Queue<IngestJob>;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100', JOB_ATTEMPTS: '1' });
  key = await createApiKey(ns, 'dlq-app');
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  queue = new Queue<IngestJob>(QUEUE_NAMES.ingest, { connection: redis, prefix: ns.queuePrefix });
});

afterAll(async () => {
  await queue?.close();
  await redis?.quit();
  await stack?.stop();
  await ns.cleanup();
});

const deadLetters = () =>
  queryRows<{ event_id: string; error: string; kind: string; raw_payload: string; source_app: string }>(
    stack.clickhouse!,
    'SELECT toString(event_id) AS event_id, error, kind, raw_payload, source_app FROM dead_letter_events',
  );

it('sends a poison event to dead letters with its payload and error, and writes the rest of its batch', async () => {
  const good = randomUUID();
  const poison = randomUUID();
  const receivedAt = new Date().toISOString();
  const event = (event_id: string, extra: Record<string, unknown>) => ({
    kind: 'audit',
    event_type: 'profile_updated',
    event_id,
    occurred_at: receivedAt,
    client_event_id: true,
    user_id: 'poison-user',
    operation_status: 'SUCCESS',
    content_hash: event_id,
    ...extra,
  });
  // A job built behind the API's back, as an older producer might have: ClickHouse cannot store a duration of "abc".
  await queue.add('events', {
    batches: [{ sourceApp: 'legacy-app', receivedAt, events: [event(good, {}), event(poison, { duration_ms: 'abc' })] as never }],
  });
  const [dead] = await eventually(async () => {
    const rows = await deadLetters();
    return rows.length > 0 && rows;
  });
  expect(dead).toMatchObject({ event_id: poison, kind: 'audit', source_app: 'legacy-app', error: expect.stringMatching(/insert rejected/) });
  expect(JSON.parse(dead!.raw_payload).event.duration_ms).toBe('abc');
  const written = await queryRows(stack.clickhouse!, `SELECT toString(event_id) AS id FROM audit_logs WHERE user_id = 'poison-user'`);
  expect(written).toEqual([{ id: good }]);
});

it('dead-letters events that exhaust their attempts, and `dlq replay` writes them once the cause is fixed', async () => {
  await stack.clickhouse!.command({ query: 'RENAME TABLE error_logs TO error_logs_away' });
  const eventIds: string[] = [randomUUID(), randomUUID()];
  const res = await postEvents(
    stack.url,
    key,
    eventIds.map((event_id) => ({ kind: 'error', event_id, error_code: 'TODOAPP-SYS-003', error_type: 'system', severity_level: 'critical', error_message: 'Disk full' })),
  );
  expect(res.status).toBe(202);
  await eventually(async () => (await deadLetters()).filter((d) => eventIds.includes(d.event_id)).length === 2, 30_000);
  expect(await queue.getJobCountByTypes('failed', 'active', 'waiting')).toBe(0);

  await stack.clickhouse!.command({ query: 'RENAME TABLE error_logs_away TO error_logs' });
  // The server holds the embedded store, so the CLI hands the replay to its worker.
  const replay = await runCliAsync(['dlq', 'replay'], ns.env());
  expect(replay.stderr).toBe('');
  expect(replay.code).toBe(0);
  // The two errors, and the poison event of the first test, which fails again and is dead-lettered anew.
  expect(replay.stdout).toMatch(/Re-queued 3 dead-lettered event/);
  // Each replay is recorded under its entry's app, which a key restricted to apps filters on.
  expect(await queryRows(stack.clickhouse!, 'SELECT DISTINCT source_app FROM dead_letter_replays ORDER BY source_app')).toEqual([{ source_app: 'dlq-app' }, { source_app: 'legacy-app' }]);
  await eventually(async () => (await countUnique(stack.clickhouse!, 'error_logs')).count === 2, 20_000);

  await eventually(async () => (await deadLetters()).filter((d) => d.error.includes('insert rejected')).length === 2);

  // A second replay only re-sends the still-poisonous event, and writes nothing twice.
  const again = await runCliAsync(['dlq', 'replay'], ns.env());
  expect(again.stdout).toMatch(/Re-queued 1 dead-lettered event/);
  await stack.writer!.flushAll();
  expect(await countUnique(stack.clickhouse!, 'error_logs')).toEqual({ count: 2, unique: 2 });
}, 90_000);

/**
 * When the store works again, the ingest jobs waiting out their backoff are
 * retried at once instead of up to half a minute later: the writer says when
 * a table's flush succeeds after failing, and IngestBackoffRetry puts the
 * delayed jobs back in the queue (at most once per interval, unless the
 * signal is a clear one).
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { IngestBackoffRetry } from '../../src/features/ingest/backoff-retry';
import { DeadLetterRepository } from '../../src/features/ingest/dead-letters/dead-letter.repository';
import { ClickHouseWriter } from '../../src/features/ingest/writer/clickhouse-writer';
import { openClickHouse, type ClickHouseClient } from '../../src/lib/clickhouse';
import { migrateClickHouse } from '../../src/lib/clickhouse-migrations';
import { auditRow } from '../helpers/rows';
import { silentLogger } from '../helpers/stack';
import { createNamespace, REDIS_URL } from '../helpers/test-env';

const ns = createNamespace('backoffretry');
let clickhouse: ClickHouseClient;
let redis: Redis;
let queue: Queue;

beforeAll(async () => {
  clickhouse = await openClickHouse(ns.config().clickhouse);
  await migrateClickHouse(clickhouse);
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  queue = new Queue('backoff-retry', { connection: redis, prefix: ns.queuePrefix });
});

afterAll(async () => {
  await queue?.obliterate({ force: true });
  await queue?.close();
  await redis?.quit();
  await clickhouse?.close();
  await ns.cleanup();
});

const row = () => auditRow('retry-app', 'u-retry');

it('the writer says when a table flushes again after failing, and only then', async () => {
  const recovered: string[] = [];
  const writer = new ClickHouseWriter(clickhouse, new DeadLetterRepository(clickhouse), {
    maxRows: 1,
    maxAgeMs: 10,
    retryDelaysMs: [],
    logger: silentLogger,
    onRecovered: (table) => recovered.push(table),
  });
  await writer.write('audit_logs', [row()]);
  await clickhouse.command({ query: 'RENAME TABLE audit_logs TO audit_logs_away' });
  try {
    await expect(writer.write('audit_logs', [row()])).rejects.toThrow();
    await expect(writer.write('audit_logs', [row()])).rejects.toThrow();
  } finally {
    await clickhouse.command({ query: 'RENAME TABLE audit_logs_away TO audit_logs' });
  }
  expect(recovered).toEqual([]);
  await writer.write('audit_logs', [row()]);
  await writer.write('audit_logs', [row()]);
  expect(recovered).toEqual(['audit_logs']);
  await writer.close();
});

it('puts the jobs in backoff back in the queue, at most once per interval unless told always', async () => {
  const retry = new IngestBackoffRetry(queue, silentLogger, 60_000);
  const delayed = async () => queue.getJobCountByTypes('delayed');
  await queue.add('a', {}, { delay: 600_000 });
  await queue.add('b', {}, { delay: 600_000 });
  await retry.now('a flush succeeded again');
  expect(await delayed()).toBe(0);
  expect(await queue.getJobCountByTypes('waiting')).toBe(2);

  await queue.add('c', {}, { delay: 600_000 });
  await retry.now('another flush succeeded again');
  expect(await delayed()).toBe(1); // within the interval: the flicker costs no attempt
  await retry.now('the disk has room again', { always: true });
  expect(await delayed()).toBe(0);
});

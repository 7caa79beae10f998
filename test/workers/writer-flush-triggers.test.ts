/**
 * When the writer flushes a table: at maxRows rows, when its oldest row is
 * maxAgeMs old, or when maxWrites jobs wait in it, so that small jobs waiting
 * out the age limit never hold every worker slot. Rows that age while the
 * table's previous flush runs wait for it and go in one flush.
 */
import { Redis } from 'ioredis';
import { openClickHouse, type ClickHouseClient } from '../../src/lib/clickhouse';
import { migrateClickHouse } from '../../src/lib/clickhouse-migrations';
import { ClickHouseWriter } from '../../src/features/ingest/writer/clickhouse-writer';
import { DeadLetterRepository } from '../../src/features/ingest/dead-letters/dead-letter.repository';
import { RedisLock } from '../../src/lib/redis-lock';
import { auditRow } from '../helpers/rows';
import { queryRows, silentLogger } from '../helpers/stack';
import { createNamespace, eventually, REDIS_URL } from '../helpers/test-env';

const ns = createNamespace('flushtrig');
const HOUR = 3_600_000;
let clickhouse: ClickHouseClient;

beforeAll(async () => {
  clickhouse = await openClickHouse(ns.config().clickhouse);
  await migrateClickHouse(clickhouse);
});

afterAll(async () => {
  await clickhouse?.close();
  await ns.cleanup();
});

const row = () => auditRow('flush-app', 'u-flush');

describe('writer flush triggers', () => {
  it('flushes a table once maxWrites writes wait in it, long before the age limit', async () => {
    const flushes: number[] = [];
    const writer = new ClickHouseWriter(clickhouse, new DeadLetterRepository(clickhouse), {
      maxRows: 10_000,
      maxAgeMs: HOUR,
      maxWrites: 3,
      logger: silentLogger,
      onFlush: (stats) => flushes.push(stats.rows),
    });
    const writes = [writer.write('audit_logs', [row(), row()]), writer.write('audit_logs', [row()])];
    expect(writer.bufferedRows()).toBe(3);
    writes.push(writer.write('audit_logs', [row()]));
    // The third write starts the flush at once: nothing is left waiting for the hour.
    expect(writer.bufferedRows()).toBe(0);
    await Promise.all(writes);
    expect(flushes).toEqual([4]);
    const [stored] = await queryRows<{ n: string }>(clickhouse, "SELECT count() AS n FROM audit_logs WHERE source_app = 'flush-app'");
    expect(Number(stored!.n)).toBe(4);
    await writer.close();
  });

  it('without maxWrites, writes wait for maxRows or the age limit', async () => {
    const writer = new ClickHouseWriter(clickhouse, new DeadLetterRepository(clickhouse), { maxRows: 3, maxAgeMs: HOUR, logger: silentLogger });
    const writes = Array.from({ length: 5 }, () => writer.write('audit_logs', [row()]).then(() => 'written'));
    // Three rows filled one flush; the other two wait.
    expect(writer.bufferedRows()).toBe(2);
    await writer.close();
    expect(await Promise.all(writes)).toEqual(Array(5).fill('written'));
  });

  it('lets rows that age during a slow flush wait for it, and writes them in one flush, not one per age limit', async () => {
    // Another process holds the table's flush lock (as a slow flush would): the first flush waits for it.
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let holding!: () => void;
    const lockTaken = new Promise<void>((r) => (holding = r));
    const other = new RedisLock(redis, ns.queuePrefix).withLock('flush:audit_logs', () => {
      holding();
      return held;
    });
    await lockTaken;
    const flushes: number[] = [];
    const writer = new ClickHouseWriter(clickhouse, new DeadLetterRepository(clickhouse), {
      maxRows: 10_000,
      maxAgeMs: 10,
      logger: silentLogger,
      lock: new RedisLock(redis, ns.queuePrefix),
      onFlush: (stats) => flushes.push(stats.rows),
    });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const writes = [writer.write('audit_logs', [row()])];
    await eventually(async () => writer.bufferedRows() === 0, 5000, 5); // the first flush has begun, and waits for the lock
    for (let i = 0; i < 5; i++) {
      writes.push(writer.write('audit_logs', [row()]));
      await sleep(30); // each row is three age limits old before the next
    }
    expect(writer.bufferedRows()).toBe(5);
    release();
    await other;
    await Promise.all(writes);
    expect(flushes).toEqual([1, 5]);
    await writer.close();
    await redis.quit();
  });
});

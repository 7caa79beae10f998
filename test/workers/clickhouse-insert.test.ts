import { randomUUID } from 'node:crypto';
import { embeddedConnection, isTransientClickHouseError, openClickHouse, type ClickHouseClient } from '../../src/lib/clickhouse';
import { insertCompactRows } from '../../src/lib/clickhouse-insert';
import { queryRows } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

/**
 * The writer's insert on the embedded store goes to chDB as one buffer
 * (rawInsert), not through the client. These tests hold that path to what the
 * writer relies on from the client's: the settings of the INSERT apply (the
 * deduplication token above all), and a failure carries ClickHouse's error
 * type, so a bad row is judged content (poison isolation), not an outage.
 */
const ns = createNamespace('ch-insert');
let clickhouse: ClickHouseClient;

beforeAll(async () => {
  clickhouse = await openClickHouse(ns.config().clickhouse);
  await clickhouse.command({
    query: "CREATE TABLE t (id UUID, n UInt32, at DateTime64(3, 'UTC'), note Nullable(String)) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100",
  });
});

afterAll(async () => {
  await clickhouse?.close();
  await ns.cleanup();
});

const settings = (token: string) => ({ async_insert: 0, insert_deduplicate: 1, insert_deduplication_token: token, date_time_input_format: 'best_effort', input_format_null_as_default: 1 }) as const;
const count = async (ids: string[]) => (await queryRows<{ n: string }>(clickhouse, 'SELECT count() AS n FROM t WHERE id IN {ids:Array(UUID)}', { ids }))[0]!.n;

describe('insertCompactRows on the embedded store', () => {
  it('takes the raw path there', () => {
    expect(embeddedConnection(clickhouse)).toBeDefined();
  });

  it('stores the rows as JSONCompactEachRow, with null for a missing value and best-effort timestamps', async () => {
    const ids = [randomUUID(), randomUUID()];
    await insertCompactRows(clickhouse, {
      table: 't',
      columns: ['id', 'n', 'at', 'note'],
      values: [
        [ids[0], 1, '2026-11-22T03:37:49.948Z', 'a "quoted"\nnote'],
        [ids[1], 2, '2026-11-22T03:37:50Z', null],
      ],
      settings: settings(randomUUID()),
    });
    const rows = await queryRows<Record<string, unknown>>(clickhouse, 'SELECT id, n, toString(at) AS at, note FROM t WHERE id IN {ids:Array(UUID)} ORDER BY n', { ids });
    expect(rows).toEqual([
      { id: ids[0], n: 1, at: '2026-11-22 03:37:49.948', note: 'a "quoted"\nnote' },
      { id: ids[1], n: 2, at: '2026-11-22 03:37:50.000', note: null },
    ]);
  });

  it('honours the deduplication token: a second block with the same token is dropped, whatever it holds', async () => {
    // Another row under the same token: only the token can make ClickHouse drop it (the block's own hash differs).
    const ids = [randomUUID(), randomUUID()];
    const token = randomUUID();
    const insert = (id: string) => insertCompactRows(clickhouse, { table: 't', columns: ['id', 'n', 'at'], values: [[id, 7, '2026-11-22T00:00:00Z']], settings: settings(token) });
    await insert(ids[0]!);
    await insert(ids[1]!);
    expect(Number(await count(ids))).toBe(1);
  });

  it('reports a row ClickHouse cannot parse with its error type, which is not transient', async () => {
    const error = await insertCompactRows(clickhouse, {
      table: 't',
      columns: ['id', 'n', 'at'],
      values: [[randomUUID(), 'not a number', '2026-11-22T00:00:00Z']],
      settings: settings(randomUUID()),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ type: expect.any(String), code: expect.any(String) });
    expect(isTransientClickHouseError(error)).toBe(false);
  });

  it('reports a column the table lacks with its error type, which is not transient', async () => {
    const error = await insertCompactRows(clickhouse, { table: 't', columns: ['id', 'no_such_column'], values: [[randomUUID(), 1]], settings: settings(randomUUID()) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ type: expect.any(String) });
    expect(isTransientClickHouseError(error)).toBe(false);
  });

  it('keeps a hostile column name one quoted name: it fails as an unknown column and runs no SQL', async () => {
    const before = Number((await queryRows<{ n: string }>(clickhouse, 'SELECT count() AS n FROM t'))[0]!.n);
    const error = await insertCompactRows(clickhouse, {
      table: 't',
      columns: ['id', 'n) SELECT 1; DROP TABLE t; --'],
      values: [[randomUUID(), 1]],
      settings: settings(randomUUID()),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ type: expect.any(String) });
    expect(isTransientClickHouseError(error)).toBe(false);
    expect(Number((await queryRows<{ n: string }>(clickhouse, 'SELECT count() AS n FROM t'))[0]!.n)).toBe(before);
  });
});

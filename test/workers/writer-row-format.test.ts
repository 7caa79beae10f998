import { randomUUID } from 'node:crypto';
import { tableOf, toClickHouseRow, type ClickHouseRow } from '../../src/domain/event-row';
import { toQueuedEvent } from '../../src/domain/queued-event';
import { openClickHouse, type ClickHouseClient } from '../../src/lib/clickhouse';
import { migrateClickHouse } from '../../src/lib/clickhouse-migrations';
import { parseEvent } from '../../src/schemas/event';
import { ClickHouseWriter } from '../../src/features/ingest/writer/clickhouse-writer';
import { DeadLetterRepository } from '../../src/features/ingest/dead-letters/dead-letter.repository';
import { SEED_EVENTS, VERBATIM_SEED_ROWS } from '../fixtures/seed-events';
import { queryRows, silentLogger } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

/**
 * The writer sends each batch as JSONCompactEachRow (compactRows): one
 * column list for the batch, null where a row lacks a column. These tests
 * hold it to what the same rows, each with only its own keys, store as
 * JSONEachRow.
 */
const ns = createNamespace('row-format');
let clickhouse: ClickHouseClient;
let writer: ClickHouseWriter;

beforeAll(async () => {
  clickhouse = await openClickHouse(ns.config().clickhouse);
  await migrateClickHouse(clickhouse);
  writer = new ClickHouseWriter(clickhouse, new DeadLetterRepository(clickhouse), { maxRows: 10_000, maxAgeMs: 20, logger: silentLogger });
});

afterAll(async () => {
  await writer?.close();
  await clickhouse?.close();
  await ns.cleanup();
});

/** Every seed event and verbatim seed row, as the worker builds its row, with a fresh event_id. */
function seedRows(): Map<string, ClickHouseRow[]> {
  const byTable = new Map<string, ClickHouseRow[]>();
  const raws = [...Object.values(SEED_EVENTS), ...VERBATIM_SEED_ROWS.map((s) => s.row)].map((r) => {
    const { id: _id, ...rest } = r as Record<string, unknown>;
    return { ...rest, event_id: randomUUID() };
  });
  for (const raw of raws) {
    const parsed = parseEvent(raw);
    if (!parsed.ok) throw new Error(`bad fixture: ${JSON.stringify(parsed.issues)}`);
    const table = tableOf(parsed.event.kind);
    const rows = byTable.get(table) ?? [];
    rows.push(toClickHouseRow(toQueuedEvent(parsed.event, raw), 'format-app', new Date().toISOString()));
    byTable.set(table, rows);
  }
  return byTable;
}

const stored = (table: string, ids: string[]) => queryRows<Record<string, unknown>>(clickhouse, `SELECT * FROM ${table} WHERE event_id IN {ids:Array(UUID)} ORDER BY event_id`, { ids });

describe('the rows the writer sends as JSONCompactEachRow', () => {
  it('store exactly what each row alone stores as JSONEachRow, in every table, with rows of different shapes in one batch', async () => {
    const byTable = seedRows();
    expect(byTable.size).toBe(8);
    for (const [table, rows] of byTable) {
      const twin = `${table}_json_each_row`;
      await clickhouse.command({ query: `CREATE TABLE ${twin} AS ${table}` });
      for (const row of rows) {
        await clickhouse.insert({
          table: twin,
          values: [row],
          format: 'JSONEachRow',
          // Every setting explicit: the embedded session keeps the last insert's, its deduplication token too.
          clickhouse_settings: {
            async_insert: 0,
            insert_deduplication_token: randomUUID(),
            date_time_input_format: 'best_effort',
            input_format_try_infer_dates: 0,
            input_format_try_infer_datetimes: 0,
            allow_simdjson: 1,
            input_format_skip_unknown_fields: 0,
          },
        });
      }
      await writer.write(
        table,
        rows.map((r) => ({ ...r })),
      );
      const ids = rows.map((r) => String(r.event_id));
      const written = await stored(table, ids);
      expect(written).toHaveLength(rows.length);
      expect(written).toEqual(await stored(twin, ids));
    }
  });

  it('dead-letter a row with a column the table lacks, whatever its name holds, and store the rest of its batch', async () => {
    const good = seedRows().get('audit_logs')!;
    const hostile = { ...good[0]!, event_id: randomUUID(), 'user_id`) SELECT 1 --': 'x' };
    await writer.write('audit_logs', [...good, hostile]);
    expect(
      await stored(
        'audit_logs',
        good.map((r) => String(r.event_id)),
      ),
    ).toHaveLength(good.length);
    expect(await stored('audit_logs', [hostile.event_id])).toEqual([]);
    const letters = await queryRows<{ error: string }>(clickhouse, 'SELECT error FROM dead_letter_events WHERE event_id = {id:UUID}', { id: hostile.event_id });
    expect(letters).toEqual([{ error: expect.stringMatching(/user_id`\) SELECT 1 --/) }]);
  });
});

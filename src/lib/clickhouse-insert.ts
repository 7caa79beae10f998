import { parseError, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { PLAIN_IDENTIFIER, quoteIdentifier } from './clickhouse-identifier';
import { embeddedConnection } from './clickhouse';
import { clickHouseJson } from './clickhouse-json-text';

/** Rows in ClickHouse's JSONCompactEachRow shape: the column names once, then each row's values in their order. */
export interface CompactInsert {
  table: string;
  columns: readonly string[];
  values: readonly (readonly unknown[])[];
  settings: ClickHouseSettings;
}

/**
 * Inserts rows as JSONCompactEachRow.
 *
 * On the embedded store the rows go to chDB as one buffer (`rawInsert`),
 * with the settings in the INSERT's own SETTINGS clause. The client's path
 * pastes the rows into the SQL text after a SET per setting, and costs about
 * twice the CPU per row (docs/performance.md, "Run b9f2796b and the embedded store's raw
 * insert"). A name that is not a plain identifier takes the client's path,
 * quoted, so it fails as the table's unknown column, never as SQL.
 */
export async function insertCompactRows(client: ClickHouseClient, insert: CompactInsert): Promise<void> {
  const connection = embeddedConnection(client);
  if (connection && insert.columns.every((c) => PLAIN_IDENTIFIER.test(c))) {
    let payload = '';
    for (const row of insert.values) payload += `${clickHouseJson(row)}\n`;
    try {
      await connection.chdb.rawInsert({
        table: insert.table,
        columns: insert.columns,
        values: Buffer.from(payload),
        format: 'JSONCompactEachRow',
        settings: definedSettings(insert.settings),
      });
    } catch (error) {
      // The same shape as the client's errors (code, type), so callers judge them as they judge those.
      throw parseError(error instanceof Error ? error.message : String(error));
    }
    return;
  }
  await client.insert({
    table: insert.table,
    columns: insert.columns.map(quoteIdentifier) as [string, ...string[]],
    values: insert.values as unknown[][],
    format: 'JSONCompactEachRow',
    clickhouse_settings: insert.settings,
  });
}

function definedSettings(settings: ClickHouseSettings): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = value;
  }
  return out;
}

import { isTransientClickHouseError, type ClickHouseClient } from '../../../lib/clickhouse';
import type { ClickHouseRow } from '../../../domain/event-row';

/** A row ClickHouse refused for its content, and why. */
export interface PoisonedRow {
  row: ClickHouseRow;
  error: unknown;
}

/** A Null-engine twin of the table: inserting checks rows, stores nothing. */
export async function probeTable(clickhouse: ClickHouseClient, table: string): Promise<string> {
  const probe = `${table}_probe`;
  await clickhouse.command({ query: `CREATE TABLE IF NOT EXISTS ${probe} AS ${table} ENGINE = Null` });
  return probe;
}

/**
 * Splits rows in halves until the rows ClickHouse rejects are alone; writes the others to `target`
 * with `insert`. A transient failure is thrown: it says nothing about the rows.
 */
export async function isolatePoison(rows: ClickHouseRow[], target: string, insert: (target: string, rows: ClickHouseRow[]) => Promise<void>): Promise<PoisonedRow[]> {
  if (rows.length === 0) return [];
  try {
    await insert(target, rows);
    return [];
  } catch (error) {
    if (isTransientClickHouseError(error)) throw error;
    if (rows.length === 1) return [{ row: rows[0]!, error }];
    const middle = Math.ceil(rows.length / 2);
    return [...(await isolatePoison(rows.slice(0, middle), target, insert)), ...(await isolatePoison(rows.slice(middle), target, insert))];
  }
}

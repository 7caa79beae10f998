import type { PruneRecord } from '../../domain/seal';
import type { ClickHouseClient } from '../../lib/clickhouse';

/**
 * integrity_prunes in ClickHouse: the signed record of each retention prune,
 * written before the rows go, so verification accepts those seals without
 * rows and still flags any other deletion.
 */
export class PruneRecordRepository {
  constructor(private readonly clickhouse: ClickHouseClient) {}

  async insert(record: PruneRecord): Promise<void> {
    await this.clickhouse.insert({ table: 'integrity_prunes', values: [record], format: 'JSONEachRow', clickhouse_settings: { async_insert: 0 } });
  }

  /** Every table's prune records, as stored (their signatures unchecked), in order: forTable for all of them in one query. */
  async byTable(): Promise<Map<string, PruneRecord[]>> {
    const result = await this.clickhouse.query({
      query: 'SELECT * FROM integrity_prunes ORDER BY table_name, up_to_seq',
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    const byTable = new Map<string, PruneRecord[]>();
    for (const record of await result.json<PruneRecord>()) {
      const records = byTable.get(record.table_name);
      if (records) records.push(record);
      else byTable.set(record.table_name, [record]);
    }
    return byTable;
  }

  /** A table's prune records, as stored (their signatures unchecked), in order. */
  async forTable(table: string): Promise<PruneRecord[]> {
    return (await this.byTable()).get(table) ?? [];
  }
}

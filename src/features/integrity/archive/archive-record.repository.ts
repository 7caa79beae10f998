import type { ClickHouseClient } from '../../../lib/clickhouse';
import type { ArchiveManifest } from './archive-manifest';

/** The signed record of one archive file, in ClickHouse integrity_archives: its manifest without the seals. */
export type ArchiveRecord = Omit<ArchiveManifest, 'format' | 'seals'>;

/** integrity_archives in ClickHouse: which sealed flushes were archived, to which file, under which signature. */
export class ArchiveRecordRepository {
  constructor(private readonly clickhouse: ClickHouseClient) {}

  async insert(record: ArchiveRecord): Promise<void> {
    await this.clickhouse.insert({ table: 'integrity_archives', values: [record], format: 'JSONEachRow', clickhouse_settings: { async_insert: 0 } });
  }

  /** A table's archive records, as stored (their signatures unchecked), by first seal. */
  async forTable(table: string): Promise<ArchiveRecord[]> {
    const result = await this.clickhouse.query({
      query: 'SELECT * FROM integrity_archives WHERE table_name = {t:String} ORDER BY from_seq',
      query_params: { t: table },
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    return result.json<ArchiveRecord>();
  }
}

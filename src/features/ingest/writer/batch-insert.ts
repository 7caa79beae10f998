import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '../../../lib/clickhouse';
import { insertCompactRows } from '../../../lib/clickhouse-insert';
import type { ClickHouseRow } from '../../../domain/event-row';
import { compactRows } from './compact-rows';
import { rowIdentity } from './row-identity';

/**
 * One INSERT of a flush's rows (JSONCompactEachRow), deduplicated by
 * ClickHouse under a token made of the rows' identities: a retried block
 * whose first attempt was stored but unanswered is dropped.
 *
 * Every setting is given explicitly on every insert: on the embedded engine
 * the client's queries SET their settings on the one chDB session, where
 * they would otherwise carry over into this insert.
 */
export async function insertBatch(clickhouse: ClickHouseClient, table: string, rows: ClickHouseRow[]): Promise<void> {
  const token = createHash('sha256')
    .update(table)
    .update(
      rows
        .map((r) => rowIdentity(r))
        .sort()
        .join(','),
    )
    .digest('hex');
  const { columns, values } = compactRows(rows);
  await insertCompactRows(clickhouse, {
    table,
    columns,
    values,
    settings: {
      // Explicit: ClickHouse 26 may default async_insert on, and an
      // asynchronous insert would acknowledge rows before they are stored.
      async_insert: 0,
      insert_deduplicate: 1,
      // A retried block the table drops must not be counted again by the materialized views.
      deduplicate_blocks_in_dependent_materialized_views: 1,
      insert_deduplication_token: token,
      date_time_input_format: 'best_effort',
      input_format_skip_unknown_fields: 0,
      // A row without a column gets null (compactRows): stored as if omitted.
      input_format_null_as_default: 1,
      // JSON columns keep strings as strings: without these, ClickHouse turns
      // "2026-11-22T03:37:49.948Z" inside metadata into a DateTime64 and gives
      // back "2026-11-22 03:37:49.948000000" — another value than was sent.
      input_format_try_infer_dates: 0,
      input_format_try_infer_datetimes: 0,
      // simdjson: the other parser reads about one full-precision double in ten as its
      // neighbour. simdjson refuses integers past 64 bits, which the rows' text therefore
      // spells with an exponent (clickHouseJson).
      allow_simdjson: 1,
      // Tables are partitioned by the month of occurred_at, which the client chooses. A batch spanning
      // more than 100 months (a backfill, or a hostile post) was refused whole, as TOO_MANY_PARTS,
      // which is retried as transient: every event flushed with it, other apps' too, ended in dead
      // letters after its 202.
      max_partitions_per_insert_block: '0',
    },
  });
}

import type { Pool } from 'pg';
import type { ClickHouseClient } from '../../lib/clickhouse';
import { GENESIS, type ChainHead, type Seal } from '../../domain/seal';

interface PgSeal extends Omit<Seal, 'seq' | 'sealed_at'> {
  seq: string;
  sealed_at: Date;
  final: boolean;
}

function fromPg(row: PgSeal): Seal & { final: boolean } {
  return { ...row, seq: Number(row.seq), sealed_at: row.sealed_at.toISOString().replace('T', ' ').replace('Z', '') };
}

/** Seals, in PostgreSQL (the writer's record, pending then final) and in ClickHouse (beside the rows, for verification). */
export class SealRepository {
  constructor(
    private readonly pg: Pool,
    private readonly clickhouse: ClickHouseClient,
  ) {}

  /**
   * The head of a table's chain, once its pending seals are settled: its last final seal. A pending seal
   * committed after the settling is a later flush's, sealed ahead on a chain that did not hold; it is
   * never a head (ClickHouseWriter).
   */
  async head(table: string): Promise<ChainHead> {
    const { rows } = await this.pg.query<PgSeal>('SELECT * FROM integrity_seals WHERE table_name = $1 AND final ORDER BY seq DESC LIMIT 1', [table]);
    const last = rows[0];
    return last ? { seq: Number(last.seq), sealHash: last.seal_hash, lastRowHash: last.last_hash, sealedAt: fromPg(last).sealed_at } : GENESIS;
  }

  async pending(table: string): Promise<(Seal & { final: boolean })[]> {
    const { rows } = await this.pg.query<PgSeal>('SELECT * FROM integrity_seals WHERE table_name = $1 AND NOT final ORDER BY seq', [table]);
    return rows.map(fromPg);
  }

  async insertPending(seal: Seal): Promise<void> {
    await this.pg.query(
      `INSERT INTO integrity_seals (table_name, seq, row_count, first_previous_hash, last_hash, rows_root, previous_seal_hash, sealed_at, key_id, seal_hash, signature)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz, $9, $10, $11)`,
      [
        seal.table_name,
        seal.seq,
        seal.row_count,
        seal.first_previous_hash,
        seal.last_hash,
        seal.rows_root,
        seal.previous_seal_hash,
        `${seal.sealed_at.replace(' ', 'T')}Z`,
        seal.key_id,
        seal.seal_hash,
        seal.signature,
      ],
    );
  }

  /** Copies the seal to ClickHouse (once: `checkExisting` when settling after a crash) and marks it final. */
  async finalize(seal: Seal, { checkExisting }: { checkExisting: boolean }): Promise<void> {
    const existing = !checkExisting
      ? null
      : await this.clickhouse.query({
          query: 'SELECT count() AS n FROM integrity_seals WHERE table_name = {t:String} AND seq = {s:UInt64}',
          query_params: { t: seal.table_name, s: seal.seq },
          format: 'JSONEachRow',
        });
    if (!existing || Number((await existing.json<{ n: string }>())[0]?.n ?? 0) === 0) {
      // The seal's own fields only: a pending seal read back from PostgreSQL also carries `final`, which ClickHouse
      // refuses as an unknown field, so settling one after a failed flush (a full disk) failed on every retry.
      const { table_name, seq, row_count, first_previous_hash, last_hash, rows_root, previous_seal_hash, sealed_at, key_id, seal_hash, signature } = seal;
      const row = { table_name, seq, row_count, first_previous_hash, last_hash, rows_root, previous_seal_hash, sealed_at, key_id, seal_hash, signature };
      await this.clickhouse.insert({ table: 'integrity_seals', values: [row], format: 'JSONEachRow', clickhouse_settings: { async_insert: 0, input_format_skip_unknown_fields: 0 } });
    }
    await this.pg.query('UPDATE integrity_seals SET final = true WHERE table_name = $1 AND seq = $2', [seal.table_name, seal.seq]);
  }

  async discard(seal: Pick<Seal, 'table_name' | 'seq'>): Promise<void> {
    await this.pg.query('DELETE FROM integrity_seals WHERE table_name = $1 AND seq = $2 AND NOT final', [seal.table_name, seal.seq]);
  }

  /** Rows ClickHouse holds under a seal. */
  async rowsUnder(table: string, seq: number): Promise<number> {
    const result = await this.clickhouse.query({
      query: `SELECT count() AS n FROM ${table} WHERE seal_seq = {s:UInt64}`,
      query_params: { s: seq },
      format: 'JSONEachRow',
    });
    return Number((await result.json<{ n: string }>())[0]?.n ?? 0);
  }

  /** Seals of a table from `fromSeq` on, final or pending (being written now), from PostgreSQL, in order. */
  async recorded(table: string, fromSeq: number): Promise<Seal[]> {
    const { rows } = await this.pg.query<PgSeal>('SELECT * FROM integrity_seals WHERE table_name = $1 AND seq >= $2 ORDER BY seq', [table, fromSeq]);
    return rows.map(fromPg);
  }

  /** Final seals of a table, from PostgreSQL, in order. */
  async finalSeals(table: string): Promise<Seal[]> {
    const { rows } = await this.pg.query<PgSeal>('SELECT * FROM integrity_seals WHERE table_name = $1 AND final ORDER BY seq', [table]);
    return rows.map(fromPg);
  }
}

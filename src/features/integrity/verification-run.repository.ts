import type { Pool } from 'pg';
import type { VerificationResult, VerificationTrigger } from '../../domain/verification';
import type { VerifyRange } from './integrity-verifier';

/** One recorded verification, as the API and the dashboard show it. */
export interface VerificationRun {
  id: string;
  trigger: VerificationTrigger;
  started_at: string;
  finished_at: string;
  range_from: string | null;
  range_to: string | null;
  ok: boolean;
  rows_verified: number;
  tables: VerificationResult['tables'];
}

interface Row {
  id: string;
  trigger: VerificationTrigger;
  started_at: Date;
  finished_at: Date;
  range_from: Date | null;
  range_to: Date | null;
  ok: boolean;
  rows_verified: string;
  tables: VerificationResult['tables'];
}

const toRun = (r: Row): VerificationRun => ({
  id: r.id,
  trigger: r.trigger,
  started_at: r.started_at.toISOString(),
  finished_at: r.finished_at.toISOString(),
  range_from: r.range_from?.toISOString() ?? null,
  range_to: r.range_to?.toISOString() ?? null,
  ok: r.ok,
  rows_verified: Number(r.rows_verified),
  tables: r.tables,
});

/** integrity_verification_runs: the only writer of that table. */
export class VerificationRunRepository {
  constructor(private readonly pg: Pool) {}

  async record(trigger: VerificationTrigger, range: VerifyRange, startedAt: Date, result: VerificationResult): Promise<VerificationRun> {
    const { rows } = await this.pg.query<Row>(
      `INSERT INTO integrity_verification_runs (trigger, started_at, range_from, range_to, ok, rows_verified, tables)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      [trigger, startedAt, range.from ?? null, range.to ?? null, result.ok, result.rows, JSON.stringify(result.tables)],
    );
    return toRun(rows[0]!);
  }

  /** The most recent runs, newest first. */
  async latest(limit = 1): Promise<VerificationRun[]> {
    const { rows } = await this.pg.query<Row>(`SELECT * FROM integrity_verification_runs ORDER BY finished_at DESC, id DESC LIMIT $1`, [limit]);
    return rows.map(toRun);
  }
}

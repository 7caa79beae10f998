import type { Pool } from 'pg';
import type { ReportRow, ReportType, SignedReport } from '../../domain/report';

/** compliance_reports in PostgreSQL, as the report generator writes them. */
export class ReportRepository {
  constructor(private readonly pg: Pool) {}

  /** Lock taken while a report is chained, so two generators cannot both link to the same predecessor. */
  async withChainLock<T>(fn: (lastHash: string) => Promise<T>): Promise<T> {
    const client = await this.pg.connect();
    try {
      await client.query('SELECT pg_advisory_lock(7246118002)');
      const { rows } = await client.query<{ report_hash: string }>('SELECT report_hash FROM compliance_reports ORDER BY id DESC LIMIT 1');
      return await fn(rows[0]?.report_hash ?? '');
    } finally {
      await client.query('SELECT pg_advisory_unlock(7246118002)').catch(() => undefined);
      client.release();
    }
  }

  async find(type: ReportType, start: Date, end: Date): Promise<ReportRow | null> {
    const { rows } = await this.pg.query<ReportRow>(
      'SELECT * FROM compliance_reports WHERE report_type = $1 AND report_period_start = $2 AND report_period_end = $3',
      [type, start, end],
    );
    return rows[0] ?? null;
  }

  /** Stores a signed report; null when that type and period already has one. */
  async insert(report: SignedReport, generatedBy: string): Promise<ReportRow | null> {
    const { rows } = await this.pg.query<ReportRow>(
      `INSERT INTO compliance_reports (report_type, report_period_start, report_period_end, total_records, report_data, report_hash, previous_report_hash, signature, key_id, generated_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (report_type, report_period_start, report_period_end) DO NOTHING RETURNING *`,
      [report.report_type, report.period_start, report.period_end, report.total_records, report, report.report_hash, report.previous_report_hash, report.signature, report.key_id, generatedBy],
    );
    return rows[0] ?? null;
  }
}

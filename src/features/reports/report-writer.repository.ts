import type { Pool } from 'pg';
import { scopeOfReport, type ReportRow, type ReportType, type SignedReport } from '../../domain/report';

/**
 * compliance_reports in PostgreSQL, as the report generator writes them.
 * Reports of one scope form one chain: the global reports theirs (as before
 * scopes existed), each set of apps its own, so a scoped report never names
 * another scope's report as its predecessor.
 */
export class ReportRepository {
  constructor(private readonly pg: Pool) {}

  /** Lock taken while a report is chained, so two generators cannot both link to the same predecessor. */
  async withChainLock<T>(scope: string[] | null, fn: (lastHash: string) => Promise<T>): Promise<T> {
    const client = await this.pg.connect();
    try {
      await client.query('SELECT pg_advisory_lock(7246118002)');
      const { rows } = await client.query<{ report_hash: string }>(
        'SELECT report_hash FROM compliance_reports WHERE scope_apps IS NOT DISTINCT FROM $1::text[] ORDER BY id DESC LIMIT 1',
        [scope],
      );
      return await fn(rows[0]?.report_hash ?? '');
    } finally {
      await client.query('SELECT pg_advisory_unlock(7246118002)').catch(() => undefined);
      client.release();
    }
  }

  /** The report of this type, period and scope (null: the global one). */
  async find(type: ReportType, start: Date, end: Date, scope: string[] | null = null): Promise<ReportRow | null> {
    const { rows } = await this.pg.query<ReportRow>(
      'SELECT * FROM compliance_reports WHERE report_type = $1 AND report_period_start = $2 AND report_period_end = $3 AND scope_apps IS NOT DISTINCT FROM $4::text[]',
      [type, start, end, scope],
    );
    return rows[0] ?? null;
  }

  /** Stores a signed report; null when that type, period and scope already has one. */
  async insert(report: SignedReport, generatedBy: string): Promise<ReportRow | null> {
    const { rows } = await this.pg.query<ReportRow>(
      `INSERT INTO compliance_reports (report_type, report_period_start, report_period_end, total_records, report_data, report_hash, previous_report_hash, signature, key_id, generated_by, scope_apps)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT DO NOTHING RETURNING *`,
      [report.report_type, report.period_start, report.period_end, report.total_records, report, report.report_hash, report.previous_report_hash, report.signature, report.key_id, generatedBy, scopeOfReport(report)],
    );
    return rows[0] ?? null;
  }
}

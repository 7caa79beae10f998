import type { Pool } from 'pg';
import { scopeOfReport, type ReportRow, type ReportType, type SignedReport } from '../../domain/report';

/**
 * compliance_reports, its one writer: the generator stores signed reports
 * (chained per scope: the global reports are one chain, each set of apps its
 * own), the API reads them and changes only the submission fields.
 * `readable` is what the caller may see (app-restriction.ts
 * readableApps): null, every report; a list of apps, only reports scoped
 * within them (never a global one, which covers every app). A report out of
 * reach reads as absent, so its id cannot be told from one that does not exist.
 */
export class ReportRepository {
  constructor(private readonly pg: Pool) {}

  /** The database's clock: whether a period has ended is judged on it, not on a worker's wall clock that may have stepped. */
  async databaseNow(): Promise<Date> {
    const { rows } = await this.pg.query<{ now: Date }>('SELECT now() AS now');
    return rows[0]!.now;
  }

  /** Lock taken while a report is chained, so two generators cannot both link to the same predecessor. */
  async withChainLock<T>(scope: string[] | null, fn: (lastHash: string) => Promise<T>): Promise<T> {
    const client = await this.pg.connect();
    try {
      await client.query('SELECT pg_advisory_lock(7246118002)');
      const { rows } = await client.query<{ report_hash: string }>('SELECT report_hash FROM compliance_reports WHERE scope_apps IS NOT DISTINCT FROM $1::text[] ORDER BY id DESC LIMIT 1', [scope]);
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
      [
        report.report_type,
        report.period_start,
        report.period_end,
        report.total_records,
        report,
        report.report_hash,
        report.previous_report_hash,
        report.signature,
        report.key_id,
        generatedBy,
        scopeOfReport(report),
      ],
    );
    return rows[0] ?? null;
  }

  async byId(id: string, readable: string[] | null = null): Promise<ReportRow | null> {
    if (!/^\d{1,18}$/.test(id)) return null;
    return (await this.pg.query<ReportRow>(`SELECT * FROM compliance_reports WHERE id = $1 AND ${VISIBLE('$2')}`, [id, readable])).rows[0] ?? null;
  }

  /** The report of the same scope generated just before this one (of any type): the one its previous_report_hash must name. */
  async previous(id: string, scope: string[] | null = null): Promise<Pick<ReportRow, 'id' | 'report_hash'> | null> {
    const { rows } = await this.pg.query<Pick<ReportRow, 'id' | 'report_hash'>>(
      'SELECT id, report_hash FROM compliance_reports WHERE id < $1 AND scope_apps IS NOT DISTINCT FROM $2::text[] ORDER BY id DESC LIMIT 1',
      [id, scope],
    );
    return rows[0] ?? null;
  }

  /** Newest first; `app`: only reports whose scope names that app. */
  async list(filter: { type?: ReportType; app?: string; limit: number; offset: number }, readable: string[] | null = null): Promise<ReportRow[]> {
    const { rows } = await this.pg.query<ReportRow>(
      `SELECT id, report_type, report_period_start, report_period_end, total_records, report_hash, previous_report_hash, key_id, generated_by,
              created_at, submitted_to_authority, submission_date, authority_acknowledgment, signature, scope_apps, '{}'::jsonb AS report_data
       FROM compliance_reports
       WHERE ($1::text IS NULL OR report_type = $1) AND ($4::text IS NULL OR $4 = ANY(scope_apps)) AND ${VISIBLE('$5')}
       ORDER BY id DESC LIMIT $2 OFFSET $3`,
      [filter.type ?? null, filter.limit, filter.offset, filter.app ?? null, readable],
    );
    return rows;
  }

  async setSubmission(id: string, patch: { submitted_to_authority: boolean; submission_date: Date | null; authority_acknowledgment: string | null }): Promise<ReportRow | null> {
    if (!/^\d{1,18}$/.test(id)) return null;
    const { rows } = await this.pg.query<ReportRow>(`UPDATE compliance_reports SET submitted_to_authority = $2, submission_date = $3, authority_acknowledgment = $4 WHERE id = $1 RETURNING *`, [
      id,
      patch.submitted_to_authority,
      patch.submission_date,
      patch.authority_acknowledgment,
    ]);
    return rows[0] ?? null;
  }
}

/** The reports a caller restricted to the apps in parameter `p` may see (NULL: every report). */
const VISIBLE = (p: string) => `(${p}::text[] IS NULL OR (scope_apps IS NOT NULL AND scope_apps <@ ${p}::text[]))`;

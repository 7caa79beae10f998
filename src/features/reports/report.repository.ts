import type { Pool } from 'pg';
import type { ReportRow, ReportType } from '../../domain/report';

/**
 * compliance_reports as the API reads them, and the submission fields it may
 * change. `readable` is what the caller may see (app-restriction.ts
 * readableApps): null, every report; a list of apps, only reports scoped
 * within them (never a global one, which covers every app). A report out of
 * reach reads as absent, so its id cannot be told from one that does not exist.
 */
export class ReportReadRepository {
  constructor(private readonly pg: Pool) {}

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
    const { rows } = await this.pg.query<ReportRow>(
      `UPDATE compliance_reports SET submitted_to_authority = $2, submission_date = $3, authority_acknowledgment = $4 WHERE id = $1 RETURNING *`,
      [id, patch.submitted_to_authority, patch.submission_date, patch.authority_acknowledgment],
    );
    return rows[0] ?? null;
  }
}

/** The reports a caller restricted to the apps in parameter `p` may see (NULL: every report). */
const VISIBLE = (p: string) => `(${p}::text[] IS NULL OR (scope_apps IS NOT NULL AND scope_apps <@ ${p}::text[]))`;

import { checkReport, type ReportCheck } from './report-verification';
import { scopeOfReport, type SignedReport } from '../../domain/report';
import { AppError } from '../../lib/errors/app-error';
import type { KeyRing } from '../../lib/key-ring';
import type { PublicSigningKey } from '../../lib/signing-key';
import type { ReportRepository } from './report.repository';

export interface ReportVerification extends ReportCheck {
  id: string;
  report_hash: string;
  key_id: string;
  /** The apps the report covers, as signed (null: every app). */
  scope: string[] | null;
  /** The report of the same scope generated before this one, which previous_report_hash must name ('' for the first report). */
  chain: { previous_report_id: string | null; linked: boolean };
}

/**
 * Checks a stored report on the server, as `auditflow report verify` does
 * offline (checkReport), and also its link to the report before it, which
 * a single downloaded file cannot show.
 */
export class ReportVerificationService {
  constructor(
    private readonly reports: ReportRepository,
    private readonly key: PublicSigningKey,
    /** Retired keys too: a report signed before a rotation is checked with the key it names. */
    private readonly keys: KeyRing,
  ) {}

  /** `readable`: the apps the caller may read (null: every app); a report outside them is NOT_FOUND. */
  async verify(id: string, readable: string[] | null = null): Promise<ReportVerification> {
    const row = await this.reports.byId(id, readable);
    if (!row) throw new AppError('NOT_FOUND', 'no such report');
    const report = row.report_data as unknown as SignedReport;
    // Unknown key: checked against the current one, so the problems say whose key it is not.
    const check = checkReport(report, this.keys.get(report.key_id) ?? this.key.publicKey);
    const scope = scopeOfReport(report);
    // Each scope is its own chain (worker report.repository.ts).
    const previous = await this.reports.previous(row.id, row.scope_apps);
    const linked = report.previous_report_hash === (previous?.report_hash ?? '');
    const problems = [...check.problems];
    if (!linked) problems.push(`previous_report_hash does not name the report before it (${previous ? `report ${previous.id}` : 'none: this is the first report'})`);
    // Who may read a report goes by its stored scope; it must be the one the report was signed with.
    const scoped = JSON.stringify(row.scope_apps ?? null) === JSON.stringify(scope);
    if (!scoped) problems.push(`the stored scope (${row.scope_apps?.join(', ') ?? 'every app'}) is not the signed one (${scope?.join(', ') ?? 'every app'})`);
    return {
      ...check,
      ok: check.ok && linked && scoped,
      problems,
      id: String(row.id),
      report_hash: report.report_hash,
      key_id: report.key_id,
      scope,
      chain: { previous_report_id: previous ? String(previous.id) : null, linked },
    };
  }
}

import { checkReport, type ReportCheck } from './report-verification';
import type { SignedReport } from '../../domain/report';
import { AppError } from '../../lib/errors/app-error';
import type { KeyRing } from '../../lib/key-ring';
import type { PublicSigningKey } from '../../lib/signing-key';
import type { ReportReadRepository } from './report.repository';

export interface ReportVerification extends ReportCheck {
  id: string;
  report_hash: string;
  key_id: string;
  /** The report generated before this one, which previous_report_hash must name ('' for the first report). */
  chain: { previous_report_id: string | null; linked: boolean };
}

/**
 * Checks a stored report on the server, as `auditflow report verify` does
 * offline (checkReport), and also its link to the report before it, which
 * a single downloaded file cannot show.
 */
export class ReportVerificationService {
  constructor(
    private readonly reports: ReportReadRepository,
    private readonly key: PublicSigningKey,
    /** Retired keys too: a report signed before a rotation is checked with the key it names. */
    private readonly keys: KeyRing,
  ) {}

  async verify(id: string): Promise<ReportVerification> {
    const row = await this.reports.byId(id);
    if (!row) throw new AppError('NOT_FOUND', 'no such report');
    const report = row.report_data as unknown as SignedReport;
    // Unknown key: checked against the current one, so the problems say whose key it is not.
    const check = checkReport(report, this.keys.get(report.key_id) ?? this.key.publicKey);
    const previous = await this.reports.previous(row.id);
    const linked = report.previous_report_hash === (previous?.report_hash ?? '');
    const problems = [...check.problems];
    if (!linked) problems.push(`previous_report_hash does not name the report before it (${previous ? `report ${previous.id}` : 'none: this is the first report'})`);
    return {
      ...check,
      ok: check.ok && linked,
      problems,
      id: String(row.id),
      report_hash: report.report_hash,
      key_id: report.key_id,
      chain: { previous_report_id: previous ? String(previous.id) : null, linked },
    };
  }
}

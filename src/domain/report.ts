import { canonicalJson } from './canonical-json';
import { sha256Hex } from './sha256';
import type { ReportTrends } from './report-trends';

export const REPORT_TYPES = ['daily_security_summary', 'weekly_access_review', 'monthly_compliance'] as const;
export type ReportType = (typeof REPORT_TYPES)[number];

/**
 * The signed part of a report: everything an auditor needs to check it
 * offline. `report_hash` is the SHA-256 of the canonical JSON of this object
 * without `report_hash` and `signature`.
 */
export interface SignedReport {
  format: 'auditflow-report/1';
  report_type: ReportType;
  period_start: string;
  period_end: string;
  generated_at: string;
  total_records: number;
  content: Record<string, unknown>;
  /** Counts per hour or day of the sections a chart shows (report-trends.ts). Absent from reports made before there were charts. */
  trends?: ReportTrends;
  previous_report_hash: string;
  key_id: string;
  report_hash: string;
  signature: string;
}

/** A row of compliance_reports (docs/data-model.md), plus the chain and signature. */
export interface ReportRow {
  id: string;
  report_type: ReportType;
  report_period_start: Date;
  report_period_end: Date;
  total_records: number;
  report_data: Record<string, unknown>;
  report_hash: string;
  previous_report_hash: string;
  signature: string;
  key_id: string;
  generated_by: string;
  created_at: Date;
  submitted_to_authority: boolean;
  submission_date: Date | null;
  authority_acknowledgment: string | null;
  /** The apps the report covers (also `content.scope`, signed); null: every app. */
  scope_apps: string[] | null;
}

/**
 * A report's scope in its one spelling: the apps sorted, without repeats;
 * null (or an empty list) is a global report over every app.
 */
export function reportScopeApps(apps: readonly string[] | null | undefined): string[] | null {
  if (!apps || apps.length === 0) return null;
  return [...new Set(apps)].sort();
}

/** The apps a signed report says it covers (`content.scope`), or null for a global report. */
export function scopeOfReport(report: Pick<SignedReport, 'content'>): string[] | null {
  const scope = report.content.scope;
  return Array.isArray(scope) && scope.length > 0 ? scope.map(String) : null;
}

export type UnsignedReport = Omit<SignedReport, 'report_hash' | 'signature'>;

export function reportHash(report: UnsignedReport | SignedReport): string {
  const { report_hash: _h, signature: _s, ...body } = report as SignedReport;
  return sha256Hex(canonicalJson(body));
}

/** The period a scheduled report covers, ending at `end` (UTC midnight / Monday / 1st of month). */
export function periodEndingAt(type: ReportType, end: Date): { start: Date; end: Date } {
  const start = new Date(end);
  if (type === 'daily_security_summary') start.setUTCDate(start.getUTCDate() - 1);
  else if (type === 'weekly_access_review') start.setUTCDate(start.getUTCDate() - 7);
  else start.setUTCMonth(start.getUTCMonth() - 1);
  return { start, end };
}

/**
 * Why a final report of [start, end) cannot be made at `now`, or null when
 * it can. A final report is signed, chained and the only one of its period:
 * made before the period ends, it would hold partial figures for good and
 * take the slot of the scheduled report.
 */
export function unfinishedPeriod(start: Date, end: Date, now: Date): string | null {
  if (end.getTime() <= now.getTime()) return null;
  const when = start.getTime() > now.getTime() ? 'has not started' : 'has not ended';
  return `a final report covers only a period that has ended: this one (${start.toISOString()} to ${end.toISOString()}) ${when} (now ${now.toISOString()}); generate it once ${end.toISOString()} has passed`;
}

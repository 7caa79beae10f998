import type { SignedReport } from '../../domain/report';
import { reportFigures, reportScope, trendFigures } from './report-sections';

/** Flattens nested content into `path → value` pairs, in a stable order. */
export function flatten(value: unknown, prefix = ''): [string, string][] {
  if (value === null || typeof value !== 'object') return [[prefix, value === null || value === undefined ? '' : String(value)]];
  if (Array.isArray(value)) return value.flatMap((v, i) => flatten(v, `${prefix}[${i}]`));
  return Object.keys(value as Record<string, unknown>)
    .sort()
    .flatMap((k) => flatten((value as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k));
}

function csvField(text: string): string {
  // Quote every field; a leading =, +, - or @ is neutralised so spreadsheets do not run it as a formula.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return `"${safe.replace(/"/g, '""')}"`;
}

/**
 * A report as tidy CSV: one row per figure and dimension, under a header, the
 * trend series (section `<section>_per_hour` or `_per_day`, one row per bucket
 * and series), then the report's metadata and signature as rows of section
 * `report`. The JSON
 * download is the one to verify.
 */
export function reportCsv(report: SignedReport): string {
  const meta = (dimension: string, value: string): string[] => ['report', dimension, '', value, ''];
  const rows: string[][] = [
    meta('report_type', report.report_type),
    meta('period_start', report.period_start),
    meta('period_end', report.period_end),
    meta('generated_at', report.generated_at),
    meta('scope', reportScope(report.content)),
    ['report', 'total_records', 'count', String(report.total_records), 'records'],
    ...reportFigures(report.content).map((f) => [f.section, f.dimension, f.measure, f.value, f.unit]),
    ...trendFigures(report.trends).map((f) => [f.section, f.dimension, f.measure, f.value, f.unit]),
    ...flatten(report.content.integrity_last_run ?? null, '').map(([k, v]) => ['integrity_last_run', k || 'run', '', v, '']),
    meta('previous_report_hash', report.previous_report_hash),
    meta('report_hash', report.report_hash),
    meta('key_id', report.key_id),
    meta('signature', report.signature),
  ];
  return `${['section,dimension,measure,value,unit', ...rows.map((r) => r.map(csvField).join(','))].join('\r\n')}\r\n`;
}

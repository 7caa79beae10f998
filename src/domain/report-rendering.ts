import type { SignedReport } from './report';

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

/** A report as CSV: its metadata, then one line per figure. The JSON download is the one to verify. */
export function reportCsv(report: SignedReport): string {
  const lines: [string, string][] = [
    ['report_type', report.report_type],
    ['period_start', report.period_start],
    ['period_end', report.period_end],
    ['generated_at', report.generated_at],
    ['total_records', String(report.total_records)],
    ...flatten(report.content).map(([k, v]) => [`content.${k}`, v] as [string, string]),
    ['previous_report_hash', report.previous_report_hash],
    ['report_hash', report.report_hash],
    ['key_id', report.key_id],
    ['signature', report.signature],
  ];
  return ['field,value', ...lines.map(([k, v]) => `${csvField(k)},${csvField(v)}`)].join('\r\n') + '\r\n';
}

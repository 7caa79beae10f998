/**
 * The trend series of a report: counts per hour or per day over its period,
 * for the sections where a chart tells more than a total (failed logins,
 * lockouts, security events by severity; admin actions and access changes;
 * personal data operations and retention actions). They are part of the
 * signed document (`trends`, beside `content`), so the charts of the PDF are
 * drawn from signed figures. Pure: the report builder reads the counts.
 */

/** Counts of one series in one bucket (0: the bucket that starts at the period's start). */
export interface BucketCount {
  bucket: number;
  key: string;
  count: number;
}

export interface ReportTrends {
  /** Width of every bucket, in seconds: 3600 (hours) or 86400 (days), 604800 (weeks) for long periods. */
  bucket_seconds: number;
  /** Start of each bucket, ISO 8601 UTC; every series has one value per bucket. The last one may be cut short by the period's end. */
  buckets: string[];
  /** Per report section (the content key it charts): series name → count per bucket. */
  series: Record<string, Record<string, number[]>>;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Most buckets a chart shows: a day in hours, a month in days. */
const MAX_BUCKETS = 62;

/** The bucket width for a period: hours up to two days and a half, days up to 62 days, weeks beyond. */
export function trendBucketMs(start: Date, end: Date): number {
  const span = end.getTime() - start.getTime();
  for (const width of [HOUR, DAY, 7 * DAY]) if (span / width <= MAX_BUCKETS) return width;
  return Math.ceil(span / MAX_BUCKETS / DAY) * DAY;
}

/** The buckets of a period, from its start, each `bucketMs` wide; the last ends at or after the period's end. */
export function trendBuckets(start: Date, end: Date, bucketMs: number): string[] {
  const count = Math.max(1, Math.ceil((end.getTime() - start.getTime()) / bucketMs));
  return Array.from({ length: count }, (_, i) => new Date(start.getTime() + i * bucketMs).toISOString());
}

/** Severities from the most severe, the order charts stack and list them. */
const SEVERITY_ORDER = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];

/**
 * Counts as series: one array per key, a value per bucket. `always` keys get
 * a series of zeros when nothing was counted; rows outside the buckets (none
 * should be) are dropped. Keys in {@link seriesOrder}.
 */
export function trendSeries(rows: readonly BucketCount[], buckets: number, always: readonly string[] = []): Record<string, number[]> {
  const series: Record<string, number[]> = {};
  const of = (key: string) => {
    series[key] ??= new Array<number>(buckets).fill(0);
    return series[key];
  };
  for (const key of always) of(key);
  for (const row of rows) if (row.bucket >= 0 && row.bucket < buckets) of(row.key)[row.bucket]! += row.count;
  return Object.fromEntries(seriesOrder(Object.keys(series)).map((key) => [key, series[key]!]));
}

/**
 * Series names in the order charts stack and list them: severities from the
 * most severe, then alphabetical. Readers sort again: the stored document is
 * PostgreSQL jsonb, which does not keep the order of keys.
 */
export function seriesOrder(names: readonly string[]): string[] {
  const rank = (key: string) => (SEVERITY_ORDER.includes(key) ? SEVERITY_ORDER.indexOf(key) : SEVERITY_ORDER.length);
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

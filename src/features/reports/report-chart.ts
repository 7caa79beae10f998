import { seriesOrder, type ReportTrends } from '../../domain/report-trends';
import { dimensionLabel } from './report-sections';

type Doc = PDFKit.PDFDocument;

/** One chart of a section: its buckets and series, from the signed `trends`. */
export interface TrendChart {
  bucketSeconds: number;
  buckets: string[];
  series: Record<string, number[]>;
  /** What is counted, plural: attempts, events, actions. */
  unit: string;
}

/** The chart of a section, or null when the report has no trends for it or counted nothing in the period. */
export function trendChartOf(trends: ReportTrends | undefined, section: string, unit: string): TrendChart | null {
  const series = trends?.series?.[section];
  if (!trends || !series || !Object.values(series).some((values) => values.some((v) => v > 0))) return null;
  return { bucketSeconds: trends.bucket_seconds, buckets: trends.buckets, series, unit };
}

/** Colours by series name where a name has a meaning (severities, lock actions), else a palette in order. */
const NAMED_COLOURS: Record<string, string> = {
  CRITICAL: '#7f0000',
  HIGH: '#d32f2f',
  MEDIUM: '#f57c00',
  LOW: '#7891a8',
  ACCOUNT_LOCKED: '#d32f2f',
  IP_BLOCKED: '#6a1b9a',
  ACCOUNT_UNLOCKED: '#2e7d32',
};
const PALETTE = ['#2f6fde', '#e07a00', '#1a7f37', '#8e24aa', '#00897b', '#c62828', '#6d4c41', '#607d8b'];

/** A step of 1, 2 or 5 times a power of ten, so that about `ticks` steps cover `max`. */
function niceStep(max: number, ticks: number): number {
  const raw = Math.max(1, max / ticks);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  return Math.max(1, step);
}

const BUCKET_NAMES: Record<number, string> = { 3600: 'hour', 86400: 'day', 604800: 'week' };

/** `per hour`, `per day`, or `per 3 days` for other widths. */
export function perBucket(seconds: number): string {
  const name = BUCKET_NAMES[seconds];
  return name ? `per ${name}` : `per ${Math.round(seconds / 86400)} days`;
}

/** The x-axis label of a bucket: the hour for hourly buckets, the month and day otherwise. */
function bucketLabel(iso: string, bucketSeconds: number): string {
  return bucketSeconds < 86400 ? `${iso.slice(11, 13)}:00` : iso.slice(5, 10);
}

/**
 * A stacked bar chart with pdfkit's vector drawing: one bar per bucket, a
 * segment per series, a y axis with round steps and light grid lines, x
 * labels spaced to stay legible, and a legend when there are several series.
 * Draws at the document's cursor across `width` and moves the cursor below.
 */
export function drawTrendChart(doc: Doc, chart: TrendChart, x: number, width: number): void {
  const names = seriesOrder(Object.keys(chart.series));
  const n = chart.buckets.length;
  const totals = chart.buckets.map((_, i) => names.reduce((sum, name) => sum + (chart.series[name]![i] ?? 0), 0));
  const step = niceStep(Math.max(...totals), 4);
  const top = Math.max(step, Math.ceil(Math.max(...totals) / step) * step);
  const colour = (name: string, i: number) => NAMED_COLOURS[name] ?? PALETTE[i % PALETTE.length]!;

  const caption = `${chart.unit.charAt(0).toUpperCase()}${chart.unit.slice(1)} ${perBucket(chart.bucketSeconds)} (UTC)`;
  doc.font('Helvetica-Bold').fontSize(8).fillColor('#333333').text(caption, x, doc.y, { width, lineBreak: false });
  const axisWidth = 28;
  const plot = { left: x + axisWidth, top: doc.y + 6, width: width - axisWidth, height: 90 };
  const bottom = plot.top + plot.height;

  // Grid and y labels.
  doc.font('Helvetica').fontSize(7);
  for (let v = 0; v <= top; v += step) {
    const y = bottom - (v / top) * plot.height;
    doc
      .moveTo(plot.left, y)
      .lineTo(plot.left + plot.width, y)
      .lineWidth(v === 0 ? 0.7 : 0.3)
      .strokeColor(v === 0 ? '#555555' : '#dddddd')
      .stroke();
    doc.fillColor('#555555').text(String(v), x, y - 3, { width: axisWidth - 4, align: 'right', lineBreak: false });
  }

  // Bars, stacked in legend order from the axis up.
  const slot = plot.width / n;
  const barWidth = Math.max(1, Math.min(slot * 0.72, 24));
  for (let i = 0; i < n; i++) {
    let base = bottom;
    names.forEach((name, s) => {
      const value = chart.series[name]![i] ?? 0;
      if (value <= 0) return;
      const h = (value / top) * plot.height;
      doc.rect(plot.left + i * slot + (slot - barWidth) / 2, base - h, barWidth, h).fill(colour(name, s));
      base -= h;
    });
  }

  // X labels: at most about ten, on round hours or days.
  const every = Math.max(1, Math.ceil(n / 10));
  const labelStep = chart.bucketSeconds === 3600 ? Math.max(every, 3) : every;
  doc.fillColor('#555555').fontSize(7);
  for (let i = 0; i < n; i += labelStep) {
    doc.text(bucketLabel(chart.buckets[i]!, chart.bucketSeconds), plot.left + i * slot + slot / 2 - 15, bottom + 3, { width: 30, align: 'center', lineBreak: false });
  }
  let y = bottom + 14;

  // Legend, when the bars stack several series.
  if (names.length > 1) {
    let lx = plot.left;
    for (const [s, name] of names.entries()) {
      const label = dimensionLabel(name);
      const w = doc.widthOfString(label) + 18;
      if (lx + w > plot.left + plot.width) {
        lx = plot.left;
        y += 11;
      }
      doc.rect(lx, y + 1, 7, 7).fill(colour(name, s));
      doc.fillColor('#333333').text(label, lx + 10, y, { lineBreak: false });
      lx += w;
    }
    y += 12;
  }
  doc.fillColor('black').strokeColor('black').lineWidth(1);
  doc.x = x;
  doc.y = y + 4;
}

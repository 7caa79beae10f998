import type PDFKitDocument from 'pdfkit';
import { allZero, figureTable, integrityStatus, integrityVerdict, reportScope, sectionFigures, sectionsOf } from './report-sections';
import type { SignedReport } from '../../domain/report';
import { drawTrendChart, trendChartOf } from './report-chart';

const TITLES: Record<SignedReport['report_type'], string> = {
  daily_security_summary: 'Daily security summary',
  weekly_access_review: 'Weekly access review',
  monthly_compliance: 'Monthly compliance report',
};

type Doc = PDFKit.PDFDocument;

let pdfDocumentClass: typeof PDFKitDocument | undefined;
/** pdfkit and its fonts take about 0.17 s to load: paid by the first PDF asked for, not by every process start. */
function newPdfDocument(options: PDFKit.PDFDocumentOptions): Doc {
  pdfDocumentClass ??= require('pdfkit') as typeof PDFKitDocument;
  return new pdfDocumentClass(options);
}
/** What the standard fonts' WinAnsiEncoding holds beyond printable ASCII and Latin-1 (0xA0-0xFF). */
const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');

/**
 * Text as the report's fonts can print it. The standard fonts encode only
 * WinAnsi, and pdfkit writes any other character as the two bytes of its
 * UTF-16 unit, so U+6365 prints "ce": an address of CJK characters would
 * read as another, ASCII, one. Such characters, controls (a newline would
 * add a line of the sender's own to a table) and the invisible soft hyphen
 * are printed as escapes (\u6365): what the sender sent, visibly.
 */
export function pdfText(text: string): string {
  let out = '';
  for (const c of text) {
    const code = c.codePointAt(0)!;
    const printable = (code >= 0x20 && code < 0x7f) || (code >= 0xa0 && code <= 0xff && code !== 0xad) || WIN_ANSI_EXTRA.has(c);
    out += printable ? c : code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return out;
}

const MARGIN = 50;
const GREY = '#555555';

/**
 * A printable report for auditors: cover, one section per figure group with
 * what it measures (and a chart over time where the report has its trend),
 * the integrity status, a signature block and page numbers.
 * The JSON download is what verifies; this is for reading.
 */
export function reportPdf(report: SignedReport, meta: { id: string }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = newPdfDocument({ size: 'A4', margin: MARGIN, bufferPages: true, info: { Title: TITLES[report.report_type], Producer: 'auditflow' } });
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);

    cover(doc, report, meta.id);
    doc.addPage();
    for (const section of sectionsOf(report.content)) {
      heading(doc, section.info.title);
      if (section.info.about) doc.font('Helvetica').fontSize(9).fillColor(GREY).text(section.info.about).fillColor('black').moveDown(0.4);
      const figures = sectionFigures(report.content, section);
      if (figures.length === 0) doc.font('Helvetica-Oblique').fontSize(9).text('Nothing recorded in this period.');
      else {
        if (allZero(figures)) doc.font('Helvetica-Oblique').fontSize(9).text('None recorded in this period.').moveDown(0.3);
        table(doc, figureTable(section.info, figures));
      }
      // Over time, where the report counted something: the chart is drawn from the signed trends.
      const chart = trendChartOf(report.trends, section.id, section.info.unit);
      if (chart) {
        doc.moveDown(0.6);
        ensureSpace(doc, 150);
        drawTrendChart(doc, chart, MARGIN, doc.page.width - 2 * MARGIN);
      }
      doc.moveDown(1);
    }
    heading(doc, 'Integrity status');
    doc
      .font('Helvetica')
      .fontSize(9)
      .fillColor(GREY)
      .text('Whether the audit tables were intact: the check of this period where the report includes one, and the latest recorded verification run before the report was generated.')
      .fillColor('black')
      .moveDown(0.4);
    doc.font('Helvetica').fontSize(10);
    for (const line of integrityStatus(report.content)) doc.text(pdfText(line));
    doc.moveDown(1);
    signature(doc, report);
    pageNumbers(doc, report);
    doc.end();
  });
}

function cover(doc: Doc, report: SignedReport, id: string): void {
  doc.moveDown(6).font('Helvetica-Bold').fontSize(26).text(TITLES[report.report_type]);
  doc.moveDown(0.3).font('Helvetica').fontSize(12).fillColor(GREY).text('auditflow compliance report').fillColor('black');
  doc.moveDown(2);
  const rows: [string, string][] = [
    ['Period', `${report.period_start} to ${report.period_end} (UTC, end excluded)`],
    ['Scope', reportScope(report.content)],
    ['Generated', report.generated_at],
    ['Report id', id],
    ['Records covered', String(report.total_records)],
    ['Integrity', integrityVerdict(report.content)],
    ['Signing key', report.key_id],
  ];
  for (const [label, value] of rows) {
    const y = doc.y;
    doc.font('Helvetica-Bold').fontSize(11).text(label, MARGIN, y, { width: 120 });
    doc.font('Helvetica').text(pdfText(value), MARGIN + 130, y, { width: doc.page.width - 2 * MARGIN - 130 });
    doc.moveDown(0.4);
  }
  doc.x = MARGIN;
  if (report.total_records === 0) {
    doc
      .moveDown(1)
      .font('Helvetica-Oblique')
      .fontSize(10)
      .text('No matching events were stored for this period, so every figure below is zero. If activity was expected, check that the applications send their events to auditflow.');
  }
}

function heading(doc: Doc, title: string): void {
  ensureSpace(doc, 80);
  doc.x = MARGIN;
  doc.font('Helvetica-Bold').fontSize(14).fillColor('black').text(title);
  const y = doc.y + 1;
  doc
    .moveTo(MARGIN, y)
    .lineTo(doc.page.width - MARGIN, y)
    .lineWidth(0.5)
    .strokeColor('#999999')
    .stroke();
  doc.moveDown(0.4);
}

/** A plain ruled table: first column left-aligned labels, the others right-aligned figures. */
function table(doc: Doc, t: { columns: string[]; rows: string[][] }): void {
  const width = doc.page.width - 2 * MARGIN;
  const first = t.columns.length > 1 ? Math.max(width * 0.45, width - (t.columns.length - 1) * 90) : width;
  const rest = t.columns.length > 1 ? (width - first) / (t.columns.length - 1) : 0;
  const xs = t.columns.map((_, i) => (i === 0 ? MARGIN : MARGIN + first + (i - 1) * rest));
  const ws = t.columns.map((_, i) => (i === 0 ? first - 8 : rest));
  const row = (cells: string[], bold: boolean) => {
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(9);
    const h = Math.max(...cells.map((c, i) => doc.heightOfString(c, { width: ws[i] }))) + 6;
    // A table split across pages repeats its header row.
    if (ensureSpace(doc, h + 4) && !bold) row(t.columns, true);
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(9);
    const y = doc.y;
    cells.forEach((c, i) => {
      doc.text(c, xs[i], y + 3, { width: ws[i], align: i === 0 ? 'left' : 'right', lineBreak: true });
    });
    doc.y = y + h;
    doc
      .moveTo(MARGIN, doc.y)
      .lineTo(MARGIN + width, doc.y)
      .lineWidth(bold ? 0.8 : 0.3)
      .strokeColor(bold ? '#333333' : '#cccccc')
      .stroke();
  };
  row(t.columns, true);
  for (const r of t.rows) row(r.map(pdfText), false);
  doc.x = MARGIN;
}

function signature(doc: Doc, report: SignedReport): void {
  heading(doc, 'Signature');
  doc
    .font('Helvetica')
    .fontSize(9)
    .fillColor(GREY)
    .text('The report is chained to the previous one by its hash and signed with Ed25519. Verify the JSON download of this report offline, with the public key from GET /v1/reports/public-key:')
    .fillColor('black');
  doc.moveDown(0.4).font('Courier').fontSize(9).text('npx auditflow report verify <file> --public-key <pem>');
  doc.moveDown(0.6);
  const rows: [string, string][] = [
    ['Report hash (SHA-256)', report.report_hash],
    ['Previous hash', report.previous_report_hash || '(first report of the chain)'],
    ['Key id', report.key_id],
    ['Signature (Ed25519, base64)', report.signature],
  ];
  for (const [label, value] of rows) {
    ensureSpace(doc, 40);
    doc.font('Helvetica-Bold').fontSize(9).text(label, MARGIN);
    doc
      .font('Courier')
      .fontSize(8)
      .text(pdfText(value), MARGIN, doc.y, { width: doc.page.width - 2 * MARGIN, lineBreak: true });
    doc.moveDown(0.4);
  }
}

/** Starts a new page when less than `needed` points remain; says whether it did. */
function ensureSpace(doc: Doc, needed: number): boolean {
  if (doc.y + needed <= doc.page.height - MARGIN) return false;
  doc.addPage();
  return true;
}

function pageNumbers(doc: Doc, report: SignedReport): void {
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    // Write in the bottom margin without pdfkit opening a new page for it.
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    const y = doc.page.height - MARGIN + 15;
    doc.font('Helvetica').fontSize(8).fillColor(GREY);
    doc.text(`${TITLES[report.report_type]}, ${report.period_start.slice(0, 10)}`, MARGIN, y, { width: 300, lineBreak: false });
    doc.text(`Page ${i - range.start + 1} of ${range.count}`, doc.page.width - MARGIN - 150, y, { width: 150, align: 'right', lineBreak: false });
    doc.page.margins.bottom = bottom;
  }
  doc.fillColor('black');
}

import PDFDocument from 'pdfkit';
import { flatten } from '../../domain/report-rendering';
import type { SignedReport } from '../../domain/report';

const TITLES: Record<SignedReport['report_type'], string> = {
  daily_security_summary: 'Daily security summary',
  weekly_access_review: 'Weekly access review',
  monthly_compliance: 'Monthly compliance report',
};

/** A printable report for auditors; its hash and signature are printed, the JSON download is what verifies. */
export function reportPdf(report: SignedReport): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: 'A4', margin: 50, info: { Title: TITLES[report.report_type], Producer: 'auditflow' } });
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    doc.fontSize(18).text(TITLES[report.report_type]);
    doc.moveDown(0.5).fontSize(10).text(`Period: ${report.period_start} to ${report.period_end} (UTC)`);
    doc.text(`Generated: ${report.generated_at}`);
    doc.text(`Records covered: ${report.total_records}`);
    doc.moveDown();
    doc.fontSize(12).text('Figures');
    doc.fontSize(9);
    for (const [key, value] of flatten(report.content)) doc.text(`${key}: ${value}`);
    doc.moveDown();
    doc.fontSize(12).text('Integrity');
    doc.fontSize(8).font('Courier');
    doc.text(`report_hash (SHA-256): ${report.report_hash}`);
    doc.text(`previous_report_hash: ${report.previous_report_hash || '(first report)'}`);
    doc.text(`key_id: ${report.key_id}`);
    doc.text(`signature (Ed25519, base64): ${report.signature}`);
    doc.font('Helvetica').fontSize(8).moveDown().text('Check the JSON download with: npx auditflow report verify <file> --public-key <pem>');
    doc.end();
  });
}

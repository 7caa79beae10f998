/**
 * A downloaded report changed by hand must fail `auditflow report verify`.
 * The signature covers the report as parsed, so the file can still say other
 * things than what was signed: a member written twice (JSON.parse keeps the
 * last, a reader of the file and first-wins parsers see the first), or text
 * added to the signature that base64 decoding skips. Both are alterations
 * of the signed document, and neither may verify.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SignedReport } from '../../src/domain/report';
import { verifyReportFile } from '../../src/cli/commands/report.command';
import { reportSigner } from '../helpers/signed-report-file';

const { dir, pem, signedReport: signedReportOf } = reportSigner('report-file-tampering-');
const signedReport = () => signedReportOf(812);

/** The download, as GET /v1/reports/:id sends it. */
const download = (report: SignedReport) => `${JSON.stringify(report, null, 2)}\n`;

function verifyText(text: string): ReturnType<typeof verifyReportFile> {
  const file = path.join(dir, `report-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, text);
  return verifyReportFile(file, pem);
}

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('a downloaded report altered by hand', () => {
  it('the download as sent verifies', () => {
    expect(verifyText(download(signedReport()))).toMatchObject({ ok: true, problems: [] });
  });

  it('with a member written twice (the first one false) fails', () => {
    const text = download(signedReport())
      // What a reader (or a first-wins parser) sees first: no failed login at all, and a wider period.
      .replace('"format":', '"total_records": 0,\n  "period_start": "2025-12-01T00:00:00.000Z",\n  "format":')
      .replace('"failed_logins": {', '"failed_logins": { "total": 0, "by_reason": {} },\n    "failed_logins": {');
    expect(JSON.parse(text).total_records).toBe(812);
    const result = verifyText(text);
    expect(result.ok).toBe(false);
    expect(result.problems.join('\n')).toMatch(/twice|duplicate/i);
  });

  it('with text added to its signature fails', () => {
    const report = signedReport();
    for (const signature of [`${report.signature}Q291bnRlcnNpZ25lZA`, `${report.signature} countersigned by the regulator`, `${report.signature.slice(0, 20)}!${report.signature.slice(20)}`]) {
      const result = verifyText(download({ ...report, signature }));
      expect([signature, result.ok]).toEqual([signature, false]);
    }
  });
});

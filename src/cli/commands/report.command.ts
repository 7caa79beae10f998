import fs from 'node:fs';
import { createPublicKey } from 'node:crypto';
import type { Command } from 'commander';
import { reportHash, type SignedReport } from '../../domain/report';
import { keyIdOf, verifySignature } from '../../lib/signing-key';

/** Checks a downloaded report with no database: its hash, its signature, and the key it names. */
export function verifyReportFile(file: string, publicKeyFile: string): { ok: boolean; problems: string[]; report?: SignedReport } {
  const problems: string[] = [];
  let report: SignedReport;
  try {
    report = JSON.parse(fs.readFileSync(file, 'utf8')) as SignedReport;
  } catch (error) {
    return { ok: false, problems: [`${file} is not a report in JSON: ${(error as Error).message}`] };
  }
  const publicKey = createPublicKey(fs.readFileSync(publicKeyFile));
  if (report.format !== 'auditflow-report/1') problems.push(`unknown format ${JSON.stringify(report.format)}`);
  const hash = reportHash(report);
  if (hash !== report.report_hash) problems.push(`content does not match report_hash (computed ${hash})`);
  if (!verifySignature(publicKey, report.report_hash, report.signature)) problems.push('the signature does not verify with this public key');
  if (report.key_id !== keyIdOf(publicKey)) problems.push(`signed with key ${report.key_id}, but the public key given is ${keyIdOf(publicKey)}`);
  return { ok: problems.length === 0, problems, report };
}

export function registerReportCommands(program: Command): void {
  const report = program.command('report').description('compliance reports');
  report
    .command('verify <file>')
    .description('check a downloaded report (JSON) offline: its hash and its Ed25519 signature; exits 1 if either fails')
    .requiredOption('--public-key <pem>', 'the public key file (from `auditflow keys export-public`)')
    .action((file: string, opts: { publicKey: string }) => {
      const result = verifyReportFile(file, opts.publicKey);
      if (result.ok) {
        const r = result.report!;
        process.stdout.write(`OK: ${r.report_type} ${r.period_start} to ${r.period_end}, hash ${r.report_hash}, signed by key ${r.key_id}\n`);
        process.stdout.write(`Chained after report ${r.previous_report_hash || '(none: first report)'}\n`);
      } else {
        for (const p of result.problems) process.stdout.write(`FAILED: ${p}\n`);
        process.exitCode = 1;
      }
    });
}

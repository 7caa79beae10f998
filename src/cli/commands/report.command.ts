import fs from 'node:fs';
import { createPublicKey } from 'node:crypto';
import type { Command } from 'commander';
import type { SignedReport } from '../../domain/report';
import { checkReport } from '../../domain/report-verification';

/** Checks a downloaded report with no database: its hash, its signature, and the key it names. */
export function verifyReportFile(file: string, publicKeyFile: string): { ok: boolean; problems: string[]; report?: SignedReport } {
  let report: SignedReport;
  try {
    report = JSON.parse(fs.readFileSync(file, 'utf8')) as SignedReport;
  } catch (error) {
    return { ok: false, problems: [`${file} is not a report in JSON: ${(error as Error).message}`] };
  }
  const { ok, problems } = checkReport(report, createPublicKey(fs.readFileSync(publicKeyFile)));
  return { ok, problems, report };
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

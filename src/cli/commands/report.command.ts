import fs from 'node:fs';
import type { Command } from 'commander';
import { REPORT_TYPES, reportScopeApps, unfinishedPeriod, type ReportType, type SignedReport } from '../../domain/report';
import { NAME_PATTERN } from '../../features/api-keys/api-key.service';
import { checkReport } from '../../features/reports/report-verification';
import { duplicateMember } from '../../lib/json-duplicate-members';
import { readPublicKeyFile } from '../../lib/signing-key';
import { terminalText } from '../../lib/terminal-text';
import { buildReportBuilder, buildVerifier, loadSigningKeys } from '../../roles/maintenance';
import { reportGenerated, reportRequested, requestUnconfirmed } from '../../features/audit/privileged-actions';
import { cliContext, runWhereClickHouseIs, withAudit } from '../context';

/** Checks a downloaded report with no database: its hash, its signature, and the key it names. */
export function verifyReportFile(file: string, publicKeyFile: string): { ok: boolean; problems: string[]; report?: SignedReport } {
  let report: SignedReport;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
    report = JSON.parse(text) as SignedReport;
  } catch (error) {
    return { ok: false, problems: [`${file} is not a report in JSON: ${(error as Error).message}`] };
  }
  const { ok, problems } = checkReport(report, readPublicKeyFile(publicKeyFile));
  // JSON.parse keeps the last of two members: the one checked, while a reader may see the other.
  const twice = duplicateMember(text);
  if (twice !== null) problems.push(`the file names ${JSON.stringify(twice)} twice: only one of them was signed`);
  return { ok: ok && twice === null, problems, report };
}

export function registerReportCommands(program: Command): void {
  const report = program.command('report').description('compliance reports');
  report
    .command('generate')
    .description('generate (sign, chain and store) a compliance report for a period; one per type and period: asking again prints the stored one')
    .requiredOption('--type <type>', REPORT_TYPES.join(' | '))
    .requiredOption('--from <time>', 'period start (ISO 8601)')
    .requiredOption('--to <time>', 'period end, exclusive (ISO 8601)')
    .option('--apps <list>', 'comma-separated apps: the report counts only their rows and names them as its scope (default: every app)')
    .option('--timeout <seconds>', 'how long to wait for a running worker to do it', '600')
    .action(async (opts: { type: string; from: string; to: string; apps?: string; timeout: string }) => {
      const { config } = cliContext();
      if (!(REPORT_TYPES as readonly string[]).includes(opts.type)) throw new Error(`--type must be one of ${REPORT_TYPES.join(', ')}`);
      const [start, end] = [new Date(opts.from), new Date(opts.to)];
      if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || start >= end) throw new Error('--from and --to must be ISO 8601 times, --from before --to');
      const unfinished = unfinishedPeriod(start, end, new Date());
      if (unfinished) throw new Error(unfinished);
      const apps = reportScopeApps(
        opts.apps
          ?.split(',')
          .map((a) => a.trim())
          .filter(Boolean),
      );
      if (opts.apps !== undefined && !apps) throw new Error('--apps must name at least one app');
      const badApp = apps?.find((a) => !NAME_PATTERN.test(a));
      if (badApp !== undefined) throw new Error(`--apps: ${JSON.stringify(badApp)} is not an app name`);
      const reportType = opts.type as ReportType;
      const job = { type: 'report' as const, reportType, start: start.toISOString(), end: end.toISOString(), generatedBy: 'cli', ...(apps ? { apps } : {}) };
      const result = await withAudit(
        config,
        'report generate',
        async (audit) => {
          const started = performance.now();
          const generated = await runWhereClickHouseIs(config, job, Number(opts.timeout) * 1000, async ({ clickhouse, pg }) => {
            const keys = loadSigningKeys(config);
            const builder = buildReportBuilder(pg, clickhouse, buildVerifier(pg, clickhouse, keys), keys);
            const { report: row, created } = await builder.generate(reportType, start, end, 'cli', apps);
            return { type: 'report', id: String(row.id), created };
          });
          audit.record(reportGenerated({ id: generated.id, created: generated.created, type: reportType, start, end, apps }, started));
          return generated;
        },
        (error) => requestUnconfirmed(reportRequested({ type: reportType, start, end, apps }), error),
      );
      process.stdout.write(`${result.created ? 'Generated' : 'Already stored:'} report ${result.id} (${reportType}, ${job.start} to ${job.end}${apps ? `, apps ${apps.join(',')}` : ''})\n`);
    });
  report
    .command('verify <file>')
    .description('check a downloaded report (JSON) offline: its hash and its Ed25519 signature; exits 1 if either fails')
    .requiredOption('--public-key <pem>', 'the public key file (from `auditflow keys export-public`)')
    .action((file: string, opts: { publicKey: string }) => {
      const result = verifyReportFile(file, opts.publicKey);
      // The file is whoever handed it over's: nothing of it reaches the terminal as a control sequence.
      const line = (text: string) => process.stdout.write(`${terminalText(text)}\n`);
      if (result.ok) {
        const r = result.report!;
        line(`OK: ${r.report_type} ${r.period_start} to ${r.period_end}, hash ${r.report_hash}, signed by key ${r.key_id}`);
        line(`Chained after report ${r.previous_report_hash || '(none: first report)'}`);
      } else {
        for (const p of result.problems) line(`FAILED: ${p}`);
        process.exitCode = 1;
      }
    });
}

import type { Command } from 'commander';
import { SigningKey } from '../../lib/signing-key';
import type { VerificationResult } from '../../domain/verification';
import { buildRecordedVerification, buildVerifier, loadSigningKeys } from '../../roles/maintenance';
import { integrityRequested, integrityVerified, requestUnconfirmed, signingKeyExported, signingKeyRotated } from '../../features/audit/privileged-actions';
import { cliContext, runWhereClickHouseIs, withAudit } from '../context';

function parseDate(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new Error(`${name} must be an ISO 8601 date or date-time (got "${value}")`);
  return date;
}

export function printVerification(result: VerificationResult, write: (line: string) => void): void {
  for (const t of result.tables) {
    if (t.ok) write(`OK      ${t.table}: ${t.seals} seal(s), ${t.rows} row(s)`);
    else {
      const b = t.first_break!;
      write(`BROKEN  ${t.table}: ${b.kind} at seal ${b.seal_seq ?? '-'}${b.event_id ? `, event_id ${b.event_id}` : ''}: ${b.detail}`);
    }
  }
  write(`${result.ok ? 'Verified' : 'FAILED'}: ${result.rows} rows in ${result.seconds}s (${result.rows_per_second} rows/s)`);
}

export function registerIntegrityCommands(program: Command): void {
  program
    .command('verify')
    .description('recompute every hash chain from ClickHouse and check it against the signed seals; exits 1 if anything is broken')
    .option('--from <time>', 'only seals made at or after this time (ISO 8601), with all their rows whatever their event time')
    .option('--to <time>', 'only seals made before this time (ISO 8601)')
    .option('--json', 'print the full result as JSON')
    .option('--timeout <seconds>', 'how long to wait for a running worker to do it', '600')
    .action(async (opts: { from?: string; to?: string; json?: boolean; timeout: string }) => {
      const { config } = cliContext();
      const range = { from: parseDate('--from', opts.from), to: parseDate('--to', opts.to) };
      const job = { type: 'verify' as const, from: range.from?.toISOString() ?? null, to: range.to?.toISOString() ?? null, trigger: 'cli' as const };
      const { result } = await withAudit(
        config,
        'verify',
        async (audit) => {
          const started = performance.now();
          const verified = await runWhereClickHouseIs(config, job, Number(opts.timeout) * 1000, async ({ clickhouse, pg }) => {
            // No worker runs here, so no webhook queue: the run is recorded, and the exit code and output say what broke.
            const verifier = buildRecordedVerification(pg, buildVerifier(pg, clickhouse, loadSigningKeys(config)));
            return { type: 'verify', result: (await verifier.verify(range, 'cli')).result };
          });
          audit.record(integrityVerified(verified.result, started));
          return verified;
        },
        (error) => requestUnconfirmed(integrityRequested(range), error),
      );
      if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else printVerification(result, (line) => process.stdout.write(`${line}\n`));
      if (!result.ok) process.exitCode = 1;
    });

  const keys = program.command('keys').description('the Ed25519 signing key of seals and reports');
  keys
    .command('export-public')
    .description('print the public key (PEM), for checking seals and reports elsewhere')
    .action(async () => {
      const { config } = cliContext();
      const key = SigningKey.load(config.signingKeyFile, config.keysDir);
      await withAudit(config, 'keys export-public', async (audit) => audit.record(signingKeyExported(key.keyId)));
      process.stdout.write(key.publicKeyPem);
    });
  keys
    .command('rotate')
    .description('replace the generated signing key; its public half moves to $KEYS_DIR/retired, so old seals and reports still verify')
    .action(async () => {
      const { config } = cliContext();
      if (config.signingKeyFile) {
        throw new Error(
          `SIGNING_KEY_FILE is set (${config.signingKeyFile}), so the key is yours to replace: put the old key's public half in ` +
            `${config.keysDir}/retired/, point SIGNING_KEY_FILE at the new key, and restart every role (docs/deploy.md).`,
        );
      }
      const rotation = await withAudit(config, 'keys rotate', async (audit) => {
        const done = SigningKey.rotate(config.keysDir);
        audit.record(signingKeyRotated(done));
        return done;
      });
      process.stdout.write(
        `Retired key ${rotation.retiredKeyId} (public half kept as ${rotation.retiredFile}).\n` +
          `New signing key ${rotation.keyId}. Restart every role (api, worker, scheduler) to sign with it; ` +
          `publish the new public key (auditflow keys export-public).\n`,
      );
    });
}

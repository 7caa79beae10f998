import type { Command } from 'commander';
import { clickHouseCluster, embeddedStoreOwner, openClickHouse } from '../../lib/clickhouse';
import { migrateClickHouse } from '../../lib/clickhouse-migrations';
import { KeyRing } from '../../lib/key-ring';
import { createPgPool, ensureDatabase } from '../../lib/pg';
import { migratePostgres } from '../../lib/pg-migrations';
import { createWorkerRedis } from '../../lib/redis';
import { SigningKey } from '../../lib/signing-key';
import { runControlJob } from '../../queues/control-client';
import { createControlQueue } from '../../queues/queues';
import { IntegrityVerifier, type VerificationResult } from '../../workers/integrity-verifier';
import { SealRepository } from '../../workers/seal.repository';
import { cliContext } from '../context';

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
    .option('--from <time>', 'only seals made at or after this time (ISO 8601)')
    .option('--to <time>', 'only seals made before this time (ISO 8601)')
    .option('--json', 'print the full result as JSON')
    .option('--timeout <seconds>', 'how long to wait for a running worker to do it', '600')
    .action(async (opts: { from?: string; to?: string; json?: boolean; timeout: string }) => {
      const { config } = cliContext();
      const range = { from: parseDate('--from', opts.from), to: parseDate('--to', opts.to) };
      let result: VerificationResult;
      const owner = config.clickhouse.mode === 'embedded' ? embeddedStoreOwner(config.clickhouse.path) : null;
      if (owner) {
        // The running server holds the embedded store: its worker verifies.
        const redis = createWorkerRedis(config.redisUrl);
        await redis.connect();
        const controlQueue = createControlQueue(redis, config);
        try {
          const job = { type: 'verify' as const, from: range.from?.toISOString() ?? null, to: range.to?.toISOString() ?? null };
          result = (await runControlJob(controlQueue, redis, job, Number(opts.timeout) * 1000)).result;
        } finally {
          await controlQueue.close();
          await redis.quit();
        }
      } else {
        await ensureDatabase(config.databaseUrl);
        const pg = createPgPool(config.databaseUrl, 2);
        const clickhouse = await openClickHouse(config.clickhouse);
        try {
          await migratePostgres(pg);
          await migrateClickHouse(clickhouse, { cluster: clickHouseCluster(config.clickhouse) });
          const key = SigningKey.load(config.signingKeyFile, config.keysDir);
          result = await new IntegrityVerifier(clickhouse, KeyRing.load(key.publicKey, config.keysDir), new SealRepository(pg, clickhouse)).verify(range);
        } finally {
          await clickhouse.close();
          await pg.end();
        }
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else printVerification(result, (line) => process.stdout.write(`${line}\n`));
      if (!result.ok) process.exitCode = 1;
    });

  const keys = program.command('keys').description('the Ed25519 signing key of seals and reports');
  keys
    .command('export-public')
    .description('print the public key (PEM), for checking seals and reports elsewhere')
    .action(() => {
      const { config } = cliContext();
      process.stdout.write(SigningKey.load(config.signingKeyFile, config.keysDir).publicKeyPem);
    });
  keys
    .command('rotate')
    .description('replace the generated signing key; its public half moves to $KEYS_DIR/retired, so old seals and reports still verify')
    .action(() => {
      const { config } = cliContext();
      if (config.signingKeyFile) {
        throw new Error(
          `SIGNING_KEY_FILE is set (${config.signingKeyFile}), so the key is yours to replace: put the old key's public half in ` +
            `${config.keysDir}/retired/, point SIGNING_KEY_FILE at the new key, and restart every role (docs/deploy.md).`,
        );
      }
      const rotation = SigningKey.rotate(config.keysDir);
      process.stdout.write(
        `Retired key ${rotation.retiredKeyId} (public half kept as ${rotation.retiredFile}).\n` +
          `New signing key ${rotation.keyId}. Restart every role (api, worker, scheduler) to sign with it; ` +
          `publish the new public key (auditflow keys export-public).\n`,
      );
    });
}

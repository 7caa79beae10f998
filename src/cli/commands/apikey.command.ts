import type { Command } from 'commander';
import { API_KEY_SCOPES, ApiKeyRepository } from '../../features/api-keys/api-key.repository';
import { ApiKeyService, parseScopes } from '../../features/api-keys/api-key.service';
import { apiKeyCreated, apiKeyRevoked } from '../../features/audit/privileged-actions';
import { STORED_TABLES_SQL, type StoredTable } from '../../features/analyst/analyst-app-restriction';
import { rowPolicyStatements } from '../../features/analyst/app-row-policies';
import { clickHouseCluster, openClickHouse } from '../../lib/clickhouse';
import { cliContext, withAudit, withPostgres } from '../context';

export function registerApiKeyCommands(program: Command): void {
  const apikey = program.command('apikey').description('manage API keys');

  apikey
    .command('create')
    .description('create a key; the key itself is printed once, as the last line')
    .requiredOption('--name <key-name>', "the key's name (revoke by it)")
    .option('--app <app>', 'the sending app the key belongs to; stored as source_app on its events (default: the name)')
    .option('--scopes <list>', `comma-separated: ${API_KEY_SCOPES.join(', ')}`, 'ingest')
    .option('--trusted-ip-reputation', "the app's failed logins feed the shared IP windows and blocks of auditflow's own login (see docs/tenancy.md)")
    .option('--apps <list>', 'comma-separated apps whose data the key may read (default: every app)')
    .action(async (opts: { name: string; app?: string; scopes: string; trustedIpReputation?: boolean; apps?: string }) => {
      const { config } = cliContext();
      const scopes = parseScopes(opts.scopes);
      const { record, key } = await withAudit(config, 'apikey create', async (audit) => {
        const created = await withPostgres(config, (pg) =>
          new ApiKeyService(new ApiKeyRepository(pg)).create(opts.name, scopes, opts.app ?? opts.name, {
            trustedIpReputation: opts.trustedIpReputation === true,
            apps: opts.apps
              ?.split(',')
              .map((a) => a.trim())
              .filter(Boolean),
          }),
        );
        audit.record(apiKeyCreated(created.record));
        return created;
      });
      process.stdout.write(`Created API key ${record.id} "${record.name}" for app "${record.app}" with scopes ${record.scopes.join(',')}${record.apps ? `, restricted to ${record.apps.join(',')}` : ''}${record.trusted_ip_reputation ? ', trusted for shared IP reputation' : ''}.
`);
      process.stdout.write('Store it now: it is not shown again.\n');
      process.stdout.write(`${key}\n`);
    });

  apikey
    .command('row-policies')
    .description("print the SQL that gives a ClickHouse server user only some apps' rows (row policies); docs/tenancy.md")
    .requiredOption('--apps <list>', 'comma-separated apps the user may read')
    .requiredOption('--user <name>', 'the ClickHouse user to create')
    .action(async (opts: { apps: string; user: string }) => {
      const { config } = cliContext();
      const apps = opts.apps
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean);
      // The tables as the store has them now, so every table and view with source_app is covered.
      const clickhouse = await openClickHouse(config.clickhouse);
      let tables: StoredTable[];
      try {
        const rows = await (await clickhouse.query({ query: STORED_TABLES_SQL, format: 'JSONEachRow' })).json<{ database: string; name: string; hasSourceApp: number | boolean }>();
        tables = rows.map((r) => ({ database: r.database, name: r.name, hasSourceApp: Boolean(Number(r.hasSourceApp)) }));
      } finally {
        await clickhouse.close();
      }
      const statements = rowPolicyStatements({ apps, user: opts.user, database: config.clickhouse.database, tables, cluster: clickHouseCluster(config.clickhouse) });
      process.stdout.write(`-- Run as a ClickHouse user that may manage access; choose the password. docs/tenancy.md explains.\n${statements.map((s) => `${s};`).join('\n')}\n`);
    });

  apikey
    .command('list')
    .description('list keys (never the keys themselves)')
    .action(async () => {
      const { config } = cliContext();
      const keys = await withPostgres(config, (pg) => new ApiKeyRepository(pg).list());
      if (keys.length === 0) {
        process.stdout.write('No API keys. Create one with: auditflow apikey create --name <app> --scopes ingest\n');
        return;
      }
      for (const k of keys) {
        const state = k.revoked_at ? `revoked ${k.revoked_at.toISOString()}` : 'active';
        const used = k.last_used_at ? `last used ${k.last_used_at.toISOString()}` : 'never used';
        process.stdout.write(
          `${k.id}  ${k.name}  app=${k.app}  ${k.key_prefix}…  ${k.scopes.join(',')}${k.apps ? `  apps=${k.apps.join(',')}` : ''}${k.trusted_ip_reputation ? '  trusted-ip-reputation' : ''}  ${state}  ${used}\n`,
        );
      }
    });

  apikey
    .command('revoke <nameOrId>')
    .description('revoke one key by id, or every active key with that name')
    .action(async (nameOrId: string) => {
      const { config } = cliContext();
      const revoked = await withAudit(config, 'apikey revoke', async (audit) => {
        const keys = await withPostgres(config, (pg) => new ApiKeyRepository(pg).revoke(nameOrId));
        for (const k of keys) audit.record(apiKeyRevoked(k));
        return keys;
      });
      if (revoked.length === 0) {
        process.stderr.write(`auditflow: no active API key matches "${nameOrId}"\n`);
        process.exitCode = 1;
        return;
      }
      for (const k of revoked) process.stdout.write(`Revoked ${k.id} (${k.name})\n`);
    });
}

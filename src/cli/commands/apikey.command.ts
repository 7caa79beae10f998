import type { Command } from 'commander';
import { API_KEY_SCOPES, ApiKeyRepository } from '../../features/api-keys/api-key.repository';
import { ApiKeyService, parseScopes } from '../../features/api-keys/api-key.service';
import { apiKeyCreated, apiKeyRevoked } from '../../features/audit/privileged-actions';
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
    .option('--apps <list>', "comma-separated apps whose data the key may read (default: every app)")
    .action(async (opts: { name: string; app?: string; scopes: string; trustedIpReputation?: boolean; apps?: string }) => {
      const { config } = cliContext();
      const scopes = parseScopes(opts.scopes);
      const { record, key } = await withAudit(config, 'apikey create', async (audit) => {
        const created = await withPostgres(config, (pg) =>
          new ApiKeyService(new ApiKeyRepository(pg)).create(opts.name, scopes, opts.app ?? opts.name, {
            trustedIpReputation: opts.trustedIpReputation === true,
            apps: opts.apps?.split(',').map((a) => a.trim()).filter(Boolean),
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
        process.stdout.write(`${k.id}  ${k.name}  app=${k.app}  ${k.key_prefix}…  ${k.scopes.join(',')}${k.apps ? `  apps=${k.apps.join(',')}` : ''}${k.trusted_ip_reputation ? '  trusted-ip-reputation' : ''}  ${state}  ${used}\n`);
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

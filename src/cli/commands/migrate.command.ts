import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { type AppliedMigrations, schemaMigrated } from '../../features/audit/privileged-actions';
import { clickHouseCluster, openClickHouse } from '../../lib/clickhouse';
import { CLICKHOUSE_MIGRATIONS_DIR, migrateClickHouse, migrationFiles, migrationStatements, SCHEMA_MIGRATIONS } from '../../lib/clickhouse-migrations';
import { createPgPool, ensureDatabase } from '../../lib/pg';
import { migratePostgres, PG_MIGRATIONS_DIR } from '../../lib/pg-migrations';
import type { Config } from '../../config/env';
import { cliContext, withAudit } from '../context';

/** Applies PostgreSQL's migrations, then ClickHouse's, noting each in `applied` as it lands (so a failure still says what was done). */
async function migrateBoth(config: Config, applied: AppliedMigrations): Promise<void> {
  await ensureDatabase(config.databaseUrl);
  const pg = createPgPool(config.databaseUrl, 2);
  try {
    await migratePostgres(pg, PG_MIGRATIONS_DIR, (file) => applied.postgresql.push(file));
  } finally {
    await pg.end();
  }
  const clickhouse = await openClickHouse(config.clickhouse);
  try {
    await migrateClickHouse(clickhouse, { cluster: clickHouseCluster(config.clickhouse), onApplied: (file) => applied.clickhouse.push(file) });
  } finally {
    await clickhouse.close();
  }
}

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply PostgreSQL and ClickHouse migrations (the server also does this at start); audited as schema_migrated')
    .option('--print-clickhouse', 'print the ClickHouse statements instead (the cluster variant when CLICKHOUSE_CLUSTER is set), for review; changes nothing, so it is not audited')
    .action(async (opts: { printClickhouse?: boolean }) => {
      const { config } = cliContext();
      if (opts.printClickhouse) {
        const cluster = clickHouseCluster(config.clickhouse);
        const files = [{ name: 'schema_migrations', sql: SCHEMA_MIGRATIONS }, ...migrationFiles().map((name) => ({ name, sql: fs.readFileSync(path.join(CLICKHOUSE_MIGRATIONS_DIR, name), 'utf8') }))];
        for (const { name, sql } of files)
          process.stdout.write(
            `-- ${name}\n${migrationStatements(sql, cluster)
              .map((s) => `${s};\n`)
              .join('\n')}\n`,
          );
        return;
      }
      const startedAt = performance.now();
      const applied: AppliedMigrations = { postgresql: [], clickhouse: [] };
      // The event is recorded once the migrations are done (or failed, as FAILURE with what was applied before),
      // and goes through Redis or the spool: nothing of the audit path needs the tables being migrated.
      await withAudit(
        config,
        'migrate',
        async (audit) => {
          await migrateBoth(config, applied);
          audit.record(schemaMigrated(applied, startedAt));
        },
        (error) => schemaMigrated(applied, startedAt, error),
      );
      const lines = [applied.postgresql.length ? `PostgreSQL: applied ${applied.postgresql.join(', ')}` : '', applied.clickhouse.length ? `ClickHouse: applied ${applied.clickhouse.join(', ')}` : ''];
      process.stdout.write(lines.some(Boolean) ? `${lines.filter(Boolean).join('\n')}\n` : 'Up to date.\n');
    });
}

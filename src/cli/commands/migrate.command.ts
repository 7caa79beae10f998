import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { clickHouseCluster, openClickHouse } from '../../lib/clickhouse';
import { CLICKHOUSE_MIGRATIONS_DIR, migrateClickHouse, migrationFiles, migrationStatements, SCHEMA_MIGRATIONS } from '../../lib/clickhouse-migrations';
import { cliContext, withPostgres } from '../context';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply PostgreSQL and ClickHouse migrations (the server also does this at start)')
    .option('--print-clickhouse', 'print the ClickHouse statements instead (the cluster variant when CLICKHOUSE_CLUSTER is set), for review')
    .action(async (opts: { printClickhouse?: boolean }) => {
      const { config } = cliContext();
      const cluster = clickHouseCluster(config.clickhouse);
      if (opts.printClickhouse) {
        const files = [{ name: 'schema_migrations', sql: SCHEMA_MIGRATIONS }, ...migrationFiles().map((name) => ({ name, sql: fs.readFileSync(path.join(CLICKHOUSE_MIGRATIONS_DIR, name), 'utf8') }))];
        for (const { name, sql } of files)
          process.stdout.write(
            `-- ${name}\n${migrationStatements(sql, cluster)
              .map((s) => `${s};\n`)
              .join('\n')}\n`,
          );
        return;
      }
      await withPostgres(config, async () => undefined);
      const clickhouse = await openClickHouse(config.clickhouse);
      try {
        const applied = await migrateClickHouse(clickhouse, { cluster });
        process.stdout.write(applied.length ? `Applied ${applied.join(', ')}\n` : 'Up to date.\n');
      } finally {
        await clickhouse.close();
      }
    });
}

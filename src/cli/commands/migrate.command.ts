import type { Command } from 'commander';
import { openClickHouse } from '../../lib/clickhouse';
import { migrateClickHouse } from '../../lib/clickhouse-migrations';
import { cliContext, withPostgres } from '../context';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply PostgreSQL and ClickHouse migrations (the server also does this at start)')
    .action(async () => {
      const { config } = cliContext();
      await withPostgres(config, async () => undefined);
      const clickhouse = await openClickHouse(config.clickhouse);
      try {
        const applied = await migrateClickHouse(clickhouse);
        process.stdout.write(applied.length ? `Applied ${applied.join(', ')}\n` : 'Up to date.\n');
      } finally {
        await clickhouse.close();
      }
    });
}

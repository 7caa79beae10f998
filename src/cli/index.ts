import { Command, CommanderError } from 'commander';
import { AppError } from '../lib/errors/app-error';
import { ConfigError } from '../lib/errors/config-error';
import { StoreLockedError } from '../lib/errors/store-locked-error';
import { registerAdminCommands } from './commands/admin.command';
import { registerApiKeyCommands } from './commands/apikey.command';
import { registerArchiveCommands } from './commands/archive.command';
import { registerDlqCommands } from './commands/dlq.command';
import { registerIntegrityCommands } from './commands/integrity.command';
import { registerReportCommands } from './commands/report.command';
import { registerMigrateCommand } from './commands/migrate.command';
import { ownerOnlyUmask } from '../lib/private-dir';
import { configureZod } from '../schemas/zod-config';

/** The `auditflow` command. */
export async function run(argv: string[]): Promise<number> {
  // Before any command opens the store: files it creates (chDB's too) are owner-only.
  ownerOnlyUmask();
  configureZod();
  const program = new Command('auditflow').description('auditflow: log ingestion and compliance pipeline').exitOverride().showHelpAfterError();
  program
    .command('start')
    .description('start the roles named in ROLE (api, worker, scheduler; default all)')
    .action(async () => {
      // Loaded here, not at the top: the server's modules are most of a second of every other command's start.
      const { main } = require('../main') as typeof import('../main');
      await main();
      await new Promise(() => undefined); // runs until a signal stops it
    });
  registerAdminCommands(program);
  registerApiKeyCommands(program);
  registerDlqCommands(program);
  registerIntegrityCommands(program);
  registerReportCommands(program);
  registerArchiveCommands(program);
  registerMigrateCommand(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof ConfigError || error instanceof AppError || error instanceof StoreLockedError) {
      process.stderr.write(`auditflow: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`auditflow: ${(error as Error).message ?? String(error)}\n`);
    return 1;
  }
}

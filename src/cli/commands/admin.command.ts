import type { Command } from 'commander';
import type { Pool } from 'pg';
import { AdminAccountService } from '../../features/admin/admin-account.service';
import { AdministratorStatusService } from '../../features/admin/administrator-status.service';
import { AdministratorRepository } from '../../features/admin/administrator.repository';
import { SessionRepository } from '../../features/auth/session.repository';
import { LoginGuard } from '../../features/auth/login-guard';
import { administratorCreated, administratorStatusChanged, administratorUnlocked } from '../../features/audit/privileged-actions';
import { AppError } from '../../lib/errors/app-error';
import { cliContext, withAudit, withPostgres } from '../context';

function accounts(pg: Pool): AdminAccountService {
  return new AdminAccountService(new AdministratorRepository(pg), new LoginGuard(pg));
}

function statuses(pg: Pool): AdministratorStatusService {
  return new AdministratorStatusService(new AdministratorRepository(pg), new SessionRepository(pg));
}

export function registerAdminCommands(program: Command): void {
  const admin = program.command('admin').description('manage administrators (they log in with POST /admin/login)');

  admin
    .command('create')
    .description('create an administrator; its id is printed as the last line')
    .requiredOption('--email <email>', 'the administrator email (must be unused)')
    .requiredOption('--password <password>', 'at least 10 characters; hashed with Argon2id, never stored in the clear')
    .option('--level <n>', 'admin_level 1-5; 5 is full access', '5')
    .option('--first-name <name>', 'first name')
    .option('--last-name <name>', 'last name')
    .action(async (opts: { email: string; password: string; level: string; firstName?: string; lastName?: string }) => {
      const { config } = cliContext();
      const created = await withAudit(config, 'admin create', async (audit) => {
        const admin = await withPostgres(config, (pg) =>
          accounts(pg).create({ email: opts.email, password: opts.password, admin_level: opts.level, first_name: opts.firstName, last_name: opts.lastName }),
        );
        audit.record(administratorCreated(admin));
        return admin;
      });
      process.stdout.write(`Created administrator ${created.email} with admin_level ${created.admin_level}.\n`);
      process.stdout.write(`${created.id}\n`);
    });

  admin
    .command('list')
    .description('list administrators (never their password hashes)')
    .action(async () => {
      const { config } = cliContext();
      const admins = await withPostgres(config, (pg) => accounts(pg).list());
      if (admins.length === 0) {
        process.stdout.write('No administrators. Create one with: auditflow admin create --email <email> --password <password>\n');
        return;
      }
      for (const a of admins) {
        const locked = a.locked_until && a.locked_until > new Date() ? `  locked until ${a.locked_until.toISOString()}` : '';
        const seen = a.last_login_at ? `last login ${a.last_login_at.toISOString()}` : 'never logged in';
        process.stdout.write(`${a.id}  ${a.email}  level ${a.admin_level}  ${a.status}  ${seen}${locked}\n`);
      }
    });

  admin
    .command('unlock <email>')
    .description("lift an administrator's failed-login lock")
    .action(async (email: string) => {
      const { config } = cliContext();
      const unlocked = await withAudit(config, 'admin unlock', async (audit) => {
        const admin = await withPostgres(config, (pg) => accounts(pg).unlock(email));
        audit.record(administratorUnlocked(admin));
        return admin;
      });
      process.stdout.write(`Unlocked administrator ${unlocked.email}.\n`);
    });

  admin
    .command('suspend <email>')
    .description('shut an administrator out (one who leaves): login refused and every session of theirs ended at once')
    .requiredOption('--reason <text>', 'why, kept in the audit event')
    .action(async (email: string, opts: { reason: string }) => {
      const reason = opts.reason.trim();
      if (!reason) throw new AppError('VALIDATION_FAILED', '--reason must not be empty');
      const { config } = cliContext();
      const change = await withAudit(config, 'admin suspend', async (audit) => {
        const done = await withPostgres(config, (pg) => statuses(pg).suspend(email));
        audit.record(administratorStatusChanged(done.administrator, done.previousStatus, done.endedSessions, reason));
        return done;
      });
      process.stdout.write(`Suspended administrator ${change.administrator.email}; ended ${change.endedSessions} session(s).\n`);
    });

  admin
    .command('reactivate <email>')
    .description('let a suspended administrator log in again')
    .option('--reason <text>', 'why, kept in the audit event')
    .action(async (email: string, opts: { reason?: string }) => {
      const { config } = cliContext();
      const change = await withAudit(config, 'admin reactivate', async (audit) => {
        const done = await withPostgres(config, (pg) => statuses(pg).reactivate(email));
        audit.record(administratorStatusChanged(done.administrator, done.previousStatus, 0, opts.reason?.trim() || undefined));
        return done;
      });
      process.stdout.write(`Reactivated administrator ${change.administrator.email}.\n`);
    });
}

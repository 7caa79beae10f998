import type { Command } from 'commander';
import type { Pool } from 'pg';
import { AdminAccountService } from '../../features/admin/admin-account.service';
import { AdministratorPasswordService } from '../../features/admin/administrator-password.service';
import { AdministratorStatusService } from '../../features/admin/administrator-status.service';
import { AdministratorRepository } from '../../features/admin/administrator.repository';
import { SessionRepository } from '../../features/auth/session.repository';
import { LoginGuard } from '../../features/auth/login-guard';
import { administratorCreated, administratorPasswordSet, administratorStatusChanged, administratorUnlocked } from '../../features/audit/privileged-actions';
import { newAdministrator } from '../../features/admin/admin.schemas';
import { validate } from '../../http/validate';
import { AppError } from '../../lib/errors/app-error';
import { cliContext, withAudit, withPostgres } from '../context';

function accounts(pg: Pool): AdminAccountService {
  return new AdminAccountService(new AdministratorRepository(pg), new LoginGuard(pg));
}

/** The password an operator gives: from standard input with --password-stdin (kept out of `ps` and shell history), else --password. */
async function givenPassword(opts: { password?: string; passwordStdin?: boolean }): Promise<string> {
  if (opts.passwordStdin && opts.password !== undefined) throw new AppError('VALIDATION_FAILED', 'give --password or --password-stdin, not both');
  if (!opts.passwordStdin) {
    if (opts.password === undefined) throw new AppError('VALIDATION_FAILED', 'give the password with --password-stdin (or --password)');
    return opts.password;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One line: the trailing newline of `echo` or a here-string is not part of it.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** The audit event's `reason` holds 2000 characters, as the API's suspend and reactivate bodies do: a longer one is refused before anything is done. */
const MAX_REASON = 2000;

function givenReason(text: string | undefined): string | undefined {
  const reason = text?.trim() || undefined;
  if (reason && reason.length > MAX_REASON) throw new AppError('VALIDATION_FAILED', `--reason must be at most ${MAX_REASON} characters`);
  return reason;
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
    .option('--password <password>', 'at least 10 characters; hashed with Argon2id, never stored in the clear (visible to `ps`: prefer --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--level <n>', 'admin_level 1-5; 5 is full access', '5')
    .option('--first-name <name>', 'first name')
    .option('--last-name <name>', 'last name')
    .action(async (opts: { email: string; password?: string; passwordStdin?: boolean; level: string; firstName?: string; lastName?: string }) => {
      const { config } = cliContext();
      const password = await givenPassword(opts);
      const created = await withAudit(config, 'admin create', async (audit) => {
        const admin = await withPostgres(config, (pg) => accounts(pg).create({ email: opts.email, password, admin_level: opts.level, first_name: opts.firstName, last_name: opts.lastName }));
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
    .description("lift an administrator's failed-login lock and restart its escalation (their next lock is a first, temporary one)")
    .action(async (email: string) => {
      const { config } = cliContext();
      const unlocked = await withAudit(config, 'admin unlock', async (audit) => {
        const done = await withPostgres(config, (pg) => accounts(pg).unlock(email));
        audit.record(administratorUnlocked(done.administrator, done.before));
        return done;
      });
      process.stdout.write(`Unlocked administrator ${unlocked.administrator.email}; the lockout escalation starts again (${unlocked.before.lock_count} earlier lock(s) forgotten).\n`);
    });

  admin
    .command('set-password <email>')
    .description("set an administrator's password (one who forgot it, or is locked out for good): lifts any login lock, restarts its escalation and ends every session of theirs")
    .option('--password-stdin', 'read the new password from standard input (recommended)')
    .option('--password <password>', 'the new password (visible to `ps`: prefer --password-stdin)')
    .action(async (email: string, opts: { password?: string; passwordStdin?: boolean }) => {
      const { password } = validate(newAdministrator.pick({ password: true }), { password: await givenPassword(opts) });
      const { config } = cliContext();
      const change = await withAudit(config, 'admin set-password', async (audit) => {
        const done = await withPostgres(config, (pg) => new AdministratorPasswordService(new AdministratorRepository(pg), new SessionRepository(pg), new LoginGuard(pg)).set(email, password));
        audit.record(administratorPasswordSet(done.administrator, done.previousChangedAt, done.endedSessions, done.lockBefore));
        return done;
      });
      process.stdout.write(`Set the password of administrator ${change.administrator.email}; ended ${change.endedSessions} session(s).\n`);
    });

  admin
    .command('suspend <email>')
    .description('shut an administrator out (one who leaves): login refused and every session of theirs ended at once')
    .requiredOption('--reason <text>', 'why, kept in the audit event')
    .action(async (email: string, opts: { reason: string }) => {
      const reason = givenReason(opts.reason);
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
      const reason = givenReason(opts.reason);
      const { config } = cliContext();
      const change = await withAudit(config, 'admin reactivate', async (audit) => {
        const done = await withPostgres(config, (pg) => statuses(pg).reactivate(email));
        audit.record(administratorStatusChanged(done.administrator, done.previousStatus, 0, reason));
        return done;
      });
      process.stdout.write(`Reactivated administrator ${change.administrator.email}.\n`);
    });
}

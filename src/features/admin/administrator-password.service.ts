import { AppError } from '../../lib/errors/app-error';
import type { RequestContext } from '../../http/request-context';
import type { LoginGuard } from '../auth/login-guard';
import { hashPassword } from '../auth/password-hasher';
import type { SessionRepository } from '../auth/session.repository';
import type { AdminLoginService } from './admin-login.service';
import { publicAdministrator, type AdministratorRepository, type AdministratorRow, type PublicAdministrator } from './administrator.repository';

/** An administrator's password after a change: who, when it changed before, and the sessions the change ended. */
export interface AdministratorPasswordChange {
  administrator: PublicAdministrator;
  previousChangedAt: Date | null;
  endedSessions: number;
}

/**
 * Administrators' passwords: changed by the administrator, given the
 * current one (checked and counted as a login is), or set by an operator
 * (`auditflow admin set-password`), the way back in for one who forgot it
 * or was locked out for good. Either ends the sessions that the old password
 * may have opened for someone else.
 */
export class AdministratorPasswordService {
  constructor(
    private readonly admins: AdministratorRepository,
    private readonly sessions: SessionRepository,
    private readonly guard: LoginGuard,
    /** Checks the current password of a change; null where no one signs in (the CLI sets passwords only). */
    private readonly login: AdminLoginService | null,
  ) {}

  /** A signed-in administrator's new password; every other session of theirs ends. */
  async change(admin: AdministratorRow, currentPassword: string, newPassword: string, ctx: RequestContext): Promise<AdministratorPasswordChange> {
    if (!this.login) throw new Error('this AdministratorPasswordService was built without the login service');
    await this.login.checkPassword(admin.email, currentPassword, ctx, 'password_change', 'the current password is wrong');
    const changed = await this.admins.setPassword(admin.id, await hashPassword(newPassword));
    if (!changed) throw new AppError('UNAUTHENTICATED', 'the administrator no longer exists');
    const ended = await this.sessions.endAll('admin', admin.id, 'password_changed', ctx.actor?.sessionId);
    return { administrator: publicAdministrator(changed.after), previousChangedAt: changed.before.password_changed_at, endedSessions: ended.length };
  }

  /** An operator's reset: the new password, any login lock lifted, and every session of theirs ended. */
  async set(email: string, newPassword: string): Promise<AdministratorPasswordChange> {
    const normalized = email.trim().toLowerCase();
    const admin = await this.admins.byEmail(normalized);
    if (!admin) throw new AppError('NOT_FOUND', `no administrator with email ${normalized}`);
    const changed = await this.admins.setPassword(admin.id, await hashPassword(newPassword));
    if (!changed) throw new AppError('NOT_FOUND', `no administrator with email ${normalized}`);
    await this.guard.unlockAdministrator(normalized);
    const ended = await this.sessions.endAll('admin', admin.id, 'password_reset');
    return { administrator: publicAdministrator(changed.after), previousChangedAt: changed.before.password_changed_at, endedSessions: ended.length };
  }
}

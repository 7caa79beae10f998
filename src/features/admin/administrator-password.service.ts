import { AppError } from '../../lib/errors/app-error';
import type { AdministratorLockState, LoginGuard } from '../auth/login-guard';
import { hashPassword } from '../auth/password-hasher';
import type { SessionRepository } from '../auth/session.repository';
import { publicAdministrator, type AdministratorRepository, type PublicAdministrator } from './administrator.repository';

/** An administrator's password after a change: who, when it changed before, and the sessions the change ended. */
export interface AdministratorPasswordChange {
  administrator: PublicAdministrator;
  previousChangedAt: Date | null;
  endedSessions: number;
}

/** An operator's reset also lifts the lock and restarts the escalation: what they were before. */
export interface AdministratorPasswordSet extends AdministratorPasswordChange {
  lockBefore: AdministratorLockState & { lock_count: number };
}

/**
 * Administrators' passwords: changed by the administrator, given the
 * current one (AdminLoginService.changePassword checks it as a login), or set by an operator
 * (`auditflow admin set-password`), the way back in for one who forgot it
 * or was locked out for good. Either ends the sessions that the old password
 * may have opened for someone else.
 */
export class AdministratorPasswordService {
  constructor(
    private readonly admins: AdministratorRepository,
    private readonly sessions: SessionRepository,
    private readonly guard: LoginGuard,
  ) {}

  /**
   * Sets the new password and ends the administrator's sessions but
   * `keepSessionId`. The caller has established the right to: the current
   * password (AdminLoginService.changePassword) or the operator's shell (`set`).
   */
  async replace(adminId: string, newPassword: string, reason: 'password_changed' | 'password_reset', keepSessionId?: string): Promise<AdministratorPasswordChange | null> {
    const changed = await this.admins.setPassword(adminId, await hashPassword(newPassword));
    if (!changed) return null;
    const ended = await this.sessions.endAll('admin', adminId, reason, keepSessionId);
    return { administrator: publicAdministrator(changed.after), previousChangedAt: changed.before.password_changed_at, endedSessions: ended.length };
  }

  /**
   * An operator's reset: the new password, any login lock lifted and the
   * escalation restarted (guesses by whoever locked them out start again
   * from a first, temporary lock), and every session of theirs ended.
   */
  async set(email: string, newPassword: string): Promise<AdministratorPasswordSet> {
    const normalized = email.trim().toLowerCase();
    const admin = await this.admins.byEmail(normalized);
    const change = admin && (await this.replace(admin.id, newPassword, 'password_reset'));
    if (!change) throw new AppError('NOT_FOUND', `no administrator with email ${normalized}`);
    const unlocked = await this.guard.unlockAdministrator(normalized);
    if (!unlocked) throw new AppError('NOT_FOUND', `no administrator with email ${normalized}`);
    return { ...change, lockBefore: unlocked.before };
  }
}

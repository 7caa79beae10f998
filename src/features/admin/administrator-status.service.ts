import { AppError } from '../../lib/errors/app-error';
import type { SessionRepository } from '../auth/session.repository';
import { publicAdministrator, type AdministratorRepository, type AdministratorRow, type PublicAdministrator } from './administrator.repository';

/** An administrator's status change: the administrator after, and the status before. */
export interface AdministratorStatusChange {
  administrator: PublicAdministrator;
  previousStatus: AdministratorRow['status'];
  /** Sessions ended by the change (a suspension ends them all). */
  endedSessions: number;
}

/**
 * Suspends and reactivates administrators (the `auditflow admin` command):
 * the way to shut out one who leaves. A suspension ends every session they
 * hold, so no token of theirs is accepted anywhere from then on, not only on
 * the /admin routes that read their status on each request.
 */
export class AdministratorStatusService {
  constructor(
    private readonly admins: AdministratorRepository,
    private readonly sessions: SessionRepository,
  ) {}

  async suspend(email: string): Promise<AdministratorStatusChange> {
    const normalized = email.trim().toLowerCase();
    const moved = await this.admins.transition(normalized, ['active', 'inactive'], 'suspended');
    if (!moved) throw await this.refusal(normalized, 'suspended');
    const ended = await this.sessions.endAll('admin', moved.after.id, 'account_suspended');
    return { administrator: publicAdministrator(moved.after), previousStatus: moved.before, endedSessions: ended.length };
  }

  async reactivate(email: string): Promise<AdministratorStatusChange> {
    const normalized = email.trim().toLowerCase();
    const moved = await this.admins.transition(normalized, ['suspended', 'inactive'], 'active');
    if (!moved) throw await this.refusal(normalized, 'reactivated');
    return { administrator: publicAdministrator(moved.after), previousStatus: moved.before, endedSessions: 0 };
  }

  private async refusal(email: string, verb: string): Promise<AppError> {
    const admin = await this.admins.byEmail(email);
    if (!admin) return new AppError('NOT_FOUND', `no administrator with email ${email}`);
    return new AppError('CONFLICT', `the administrator ${email} is ${admin.status} and cannot be ${verb}`);
  }
}

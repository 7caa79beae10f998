import type { z } from 'zod';
import { AppError } from '../../lib/errors/app-error';
import type { AdministratorLockState, LoginGuard } from '../auth/login-guard';
import { hashPassword } from '../auth/password-hasher';
import { validate } from '../../http/validate';
import { newAdministrator } from './admin.schemas';
import { publicAdministrator, type AdministratorRepository, type AdministratorRow, type PublicAdministrator } from './administrator.repository';

/** An administrator's lock lifted by an operator: who, and the lock and escalation (lock_count) before. */
export interface AdministratorUnlock {
  administrator: PublicAdministrator;
  before: AdministratorLockState & { lock_count: number };
}

/** Administrators as an operator manages them (the `auditflow admin` command). */
export class AdminAccountService {
  constructor(
    private readonly admins: AdministratorRepository,
    private readonly guard: LoginGuard,
  ) {}

  /** Creates an administrator (level 5 unless told), verified since an operator made it. */
  async create(input: z.input<typeof newAdministrator>): Promise<PublicAdministrator> {
    const a = validate(newAdministrator, input);
    const row = await this.admins.insert({
      email: a.email,
      passwordHash: await hashPassword(a.password),
      adminLevel: a.admin_level,
      firstName: a.first_name ?? null,
      lastName: a.last_name ?? null,
    });
    if (!row) throw new AppError('CONFLICT', `an administrator with email ${a.email} already exists`);
    return publicAdministrator(row);
  }

  async list(): Promise<PublicAdministrator[]> {
    return (await this.admins.list()).map(publicAdministrator);
  }

  /**
   * Lifts a login lock on an administrator, the way back in when every
   * administrator is locked out, and restarts their escalation: the next
   * lock is a first one, not one more towards a permanent lock.
   */
  async unlock(email: string): Promise<AdministratorUnlock> {
    const normalized = email.trim().toLowerCase();
    const unlocked = await this.guard.unlockAdministrator<AdministratorRow>(normalized);
    if (!unlocked) throw new AppError('NOT_FOUND', `no administrator with email ${normalized}`);
    return { administrator: publicAdministrator(unlocked.after), before: unlocked.before };
  }
}

import { AppError } from '../../lib/errors/app-error';
import type { AuthService, LoginResult } from '../auth/auth.service';
import type { FailedLogin, LoginAudit } from '../auth/login-audit';
import type { LoginGuard } from '../auth/login-guard';
import { lockedError } from '../auth/password-check';
import type { RequestContext } from '../../http/request-context';
import type { AdministratorPasswordChange, AdministratorPasswordService } from './administrator-password.service';
import type { AdministratorRow } from './administrator.repository';

export interface AdminLoginResult extends LoginResult {
  administrator: { id: string; email: string; admin_level: number };
}

/** The same answer for an unknown email and a wrong password (as /auth/login). */
const INVALID_CREDENTIALS = 'invalid email or password';

/**
 * Administrator login: the user login's protections (atomic lockout per
 * email, no enumeration, the same events) against the administrators table,
 * opening an `admin` session.
 */
export class AdminLoginService {
  constructor(
    private readonly guard: LoginGuard<AdministratorRow>,
    private readonly auth: AuthService,
    private readonly audit: LoginAudit,
    private readonly passwords: AdministratorPasswordService,
  ) {}

  async login(input: { email: string; password: string }, ctx: RequestContext): Promise<AdminLoginResult> {
    const admin = await this.checkPassword(input.email, input.password, ctx, 'login');
    const refusal = adminLoginRefusal(admin);
    if (refusal) {
      this.audit.failed({ email: input.email, account: admin, reason: refusal.reason, ctx, attempt: 0, lockedUntil: null, ...failureFields(ctx, 'login') });
      throw new AppError('FORBIDDEN', refusal.message);
    }
    const session = await this.auth.openSession(admin, null, ctx, 'admin');
    return { ...session, administrator: { id: admin.id, email: admin.email, admin_level: admin.admin_level } };
  }

  /** A signed-in administrator's new password, given the current one (checked as a login's); their other sessions end. */
  async changePassword(admin: AdministratorRow, currentPassword: string, newPassword: string, ctx: RequestContext): Promise<AdministratorPasswordChange> {
    await this.checkPassword(admin.email, currentPassword, ctx, 'password_change', 'the current password is wrong');
    const change = await this.passwords.replace(admin.id, newPassword, 'password_changed', ctx.actor?.sessionId);
    if (!change) throw new AppError('UNAUTHENTICATED', 'the administrator no longer exists');
    return change;
  }

  /**
   * The administrator whose password this is, checked under the lockout as a
   * login is: a blocked IP is refused (429), a locked email too (423), and a
   * wrong password counts toward the lock and is recorded (401). `route`
   * names where the password was given, in the failure's records.
   */
  async checkPassword(email: string, password: string, ctx: RequestContext, route: 'login' | 'password_change', wrongMessage = INVALID_CREDENTIALS): Promise<AdministratorRow> {
    const where = failureFields(ctx, route);
    await this.auth.refuseBlockedIp(email, ctx, where.metadata);
    const policy = await this.auth.lockoutPolicy();
    const attempt = await this.guard.attempt(email, password, policy);

    if (attempt.outcome === 'locked') {
      this.audit.failed({ email, account: attempt.account, reason: 'ACCOUNT_LOCKED', ctx, attempt: policy.threshold, lockedUntil: attempt.lockedUntil, ...where });
      throw lockedError(attempt.lockedUntil, attempt.now);
    }
    if (attempt.outcome === 'failure') {
      this.audit.failed({ email, account: attempt.account, reason: attempt.reason, ctx, attempt: attempt.attemptInWindow, lockedUntil: attempt.lockedUntil, counted: true, ...where });
      if (attempt.lockedUntil) {
        this.audit.locked({ subject: 'admin', account: attempt.account, email, lockedUntil: attempt.lockedUntil, minutes: attempt.lockMinutes, policy, ctx });
      }
      throw new AppError('UNAUTHENTICATED', wrongMessage);
    }
    return attempt.account;
  }
}

/** Why a correct password still does not let an administrator in (todo_app_administrator: inactive/suspended have no access; unverified cannot log in). */
export function adminLoginRefusal(admin: AdministratorRow): { reason: string; message: string } | null {
  if (admin.deleted_at) return { reason: 'ACCOUNT_DISABLED', message: 'this administrator account was deleted' };
  if (admin.status !== 'active') return { reason: 'ACCOUNT_DISABLED', message: `this administrator account is ${admin.status}` };
  if (!admin.email_verified) return { reason: 'EMAIL_NOT_VERIFIED', message: 'this administrator email is not verified' };
  return null;
}

/** The failed_login metadata and the login_failed details of a refused administrator password (the login's stay as they were). */
function failureFields(ctx: RequestContext, route: 'login' | 'password_change'): Pick<FailedLogin, 'metadata' | 'details'> {
  const where = route === 'login' ? {} : { route };
  return { metadata: { subject_type: 'admin', request_id: ctx.requestId, ...where }, details: { subject_type: 'admin', ...where } };
}

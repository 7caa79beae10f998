import { AppError } from '../../lib/app-error';
import type { AccountEvents } from '../auth/account-events';
import { lockedError, type AuthService, type LoginResult } from '../auth/auth.service';
import type { LockoutPolicy, LoginGuard } from '../auth/login-guard';
import type { RequestContext } from '../request-context';
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
    private readonly events: AccountEvents,
  ) {}

  async login(input: { email: string; password: string }, ctx: RequestContext): Promise<AdminLoginResult> {
    await this.auth.refuseBlockedIp(input.email, ctx, { subject_type: 'admin', request_id: ctx.requestId });
    const policy = await this.auth.lockoutPolicy();
    const attempt = await this.guard.attempt(input.email, input.password, policy);

    if (attempt.outcome === 'locked') {
      this.recordFailure(input.email, attempt.account, 'ACCOUNT_LOCKED', policy.threshold, attempt.lockedUntil, ctx);
      throw lockedError(attempt.lockedUntil, attempt.now);
    }
    if (attempt.outcome === 'failure') {
      this.recordFailure(input.email, attempt.account, attempt.reason, attempt.attemptInWindow, attempt.lockedUntil, ctx);
      if (attempt.lockedUntil) this.recordLock(attempt.account, input.email, attempt.lockedUntil, attempt.lockMinutes, policy, ctx);
      throw new AppError('UNAUTHENTICATED', INVALID_CREDENTIALS);
    }

    const admin = attempt.account;
    const refusal = adminLoginRefusal(admin);
    if (refusal) {
      this.recordFailure(input.email, admin, refusal.reason, 0, null, ctx);
      throw new AppError('FORBIDDEN', refusal.message);
    }
    const session = await this.auth.openSession(admin, null, ctx, 'admin');
    return { ...session, administrator: { id: admin.id, email: admin.email, admin_level: admin.admin_level } };
  }

  private recordFailure(email: string, admin: AdministratorRow | null, reason: string, attempt: number, lockedUntil: Date | null, ctx: RequestContext): void {
    this.events.publisher?.publish({
      kind: 'failed_login',
      user_id: admin?.id ?? null,
      email_address: email,
      failure_reason: reason,
      ip_address: ctx.ip,
      user_agent: ctx.userAgent,
      attempt_number_in_window: attempt,
      lockout_status: lockedUntil ? 'LOCKED' : null,
      lockout_expires_at: lockedUntil?.toISOString() ?? null,
      metadata: { subject_type: 'admin', request_id: ctx.requestId },
    });
    this.events.record({
      type: 'login_failed',
      userId: admin?.id ?? null,
      ctx,
      status: 'FAILURE',
      details: { reason, subject_type: 'admin', ...(reason.startsWith('INVALID') ? { attempt_count: attempt } : {}) },
    });
  }

  private recordLock(admin: AdministratorRow | null, email: string, lockedUntil: Date, minutes: number | null, policy: LockoutPolicy, ctx: RequestContext): void {
    if (admin) {
      this.events.record({
        type: 'account_locked',
        userId: admin.id,
        ctx,
        details: { reason: 'too_many_failed_logins', subject_type: 'admin', locked_until: lockedUntil.toISOString() },
      });
    }
    this.events.publisher?.publish({
      kind: 'security',
      event_type: 'AUTHENTICATION_FAILURE',
      severity_level: 'HIGH',
      user_id: admin?.id ?? null,
      user_email: email,
      event_source: 'ADMIN_PANEL',
      event_description: `${policy.threshold} failed administrator logins within ${policy.windowMinutes} minutes; login locked ${minutes === null ? 'until an administrator unlocks it' : `for ${minutes} minutes`}`,
      ip_address: ctx.ip,
      action_taken: 'ACCOUNT_LOCKED',
      metadata: { locked_until: lockedUntil.toISOString(), failed_attempts: policy.threshold, subject_type: 'admin' },
    });
  }
}

/** Why a correct password still does not let an administrator in (seed 002: inactive/suspended have no access; unverified cannot log in). */
export function adminLoginRefusal(admin: AdministratorRow): { reason: string; message: string } | null {
  if (admin.deleted_at) return { reason: 'ACCOUNT_DISABLED', message: 'this administrator account was deleted' };
  if (admin.status !== 'active') return { reason: 'ACCOUNT_DISABLED', message: `this administrator account is ${admin.status}` };
  if (!admin.email_verified) return { reason: 'EMAIL_NOT_VERIFIED', message: 'this administrator email is not verified' };
  return null;
}

import { isPermanentLock, lockoutPolicyFrom } from '../../domain/lockout-policy';
import { AppError } from '../../lib/errors/app-error';
import type { Logger } from '../../lib/logger';
import type { SettingsService } from '../settings/settings.service';
import type { RequestContext } from '../../http/request-context';
import type { FailedLogin, LoginAudit } from './login-audit';
import type { LoginGuard } from './login-guard';
import type { LoginStepUp, StepUpIntent } from './login-step-up';
import type { BlockedIps } from './risk-signals';
import type { UserRepository, UserRow } from './user.repository';

/** The routes that take a user's password; recorded with each failure (login leaves it out, as before). */
export type PasswordRoute = 'login' | 'restore' | 'email_change' | 'password_change' | 'account_delete';

export interface PasswordCheckDeps {
  guard: LoginGuard;
  users: UserRepository;
  settings: SettingsService;
  audit: LoginAudit;
  /** IPs the risk worker blocked; absent, no IP is refused. */
  ipBlocks?: BlockedIps;
  /** Mailed codes when the risk worker asks for a step-up; absent, none is asked. */
  stepUp?: LoginStepUp;
  logger: Logger;
}

export interface PasswordCheckOptions {
  route: PasswordRoute;
  /** Which accounts the route may open; any other fails as a wrong password would (see LoginGuard.attempt). */
  eligible?: (user: UserRow) => boolean;
  /** The 401 message for a wrong password. */
  wrongMessage?: string;
}

/** The same answer for an unknown email and a wrong password. */
export const INVALID_CREDENTIALS = 'invalid email or password';

/**
 * Every check of a user's password, on every route that takes one (login,
 * restore, email change, password change, account deletion), goes through
 * here, so each is refused from a blocked IP and while the account is
 * locked, counts toward the lockout, and is recorded as a failed_login and
 * a login_failed auth event. A route that checked a password on its own
 * would be an unthrottled password oracle (issue 12 §1).
 */
export class PasswordCheck {
  constructor(private readonly d: PasswordCheckDeps) {}

  /** The account whose password this is; otherwise throws 429 (blocked IP), 423 (locked) or 401, having recorded the attempt. */
  async verify(input: { email: string; password: string; device_fingerprint?: string | null }, ctx: RequestContext, options: PasswordCheckOptions): Promise<UserRow> {
    const where = failureFields(options.route, input.device_fingerprint ?? null, ctx);
    await this.refuseBlockedIp(input.email, ctx, where.metadata);
    const policy = await lockoutPolicyFrom(this.d.settings);
    const attempt = await this.d.guard.attempt(input.email, input.password, policy, options.eligible);

    if (attempt.outcome === 'locked') {
      this.d.audit.failed({ email: input.email, account: attempt.account, reason: 'ACCOUNT_LOCKED', ctx, attempt: policy.threshold, lockedUntil: attempt.lockedUntil, ...where });
      throw lockedError(attempt.lockedUntil, attempt.now);
    }
    if (attempt.outcome === 'failure') {
      this.d.audit.failed({ email: input.email, account: attempt.account, reason: attempt.reason, ctx, attempt: attempt.attemptInWindow, lockedUntil: attempt.lockedUntil, counted: true, ...where });
      if (attempt.lockedUntil) {
        this.d.audit.locked({ subject: 'user', account: attempt.account, email: input.email, lockedUntil: attempt.lockedUntil, minutes: attempt.lockMinutes, policy, ctx });
      }
      throw new AppError('UNAUTHENTICATED', options.wrongMessage ?? INVALID_CREDENTIALS);
    }
    return attempt.account;
  }

  /**
   * Records a refusal after a right password (deleted, suspended, unverified
   * account): not counted as a guess.
   */
  refuse(user: UserRow, email: string, reason: string, ctx: RequestContext, route: PasswordRoute, device: string | null = null): void {
    this.d.audit.failed({ email, account: user, reason, ctx, attempt: 0, lockedUntil: null, ...failureFields(route, device, ctx) });
  }

  /**
   * When the risk worker asked for a step-up and this device or network is
   * new: mails a code and throws STEP_UP_REQUIRED with the challenge, which
   * `confirmPath` finishes. Otherwise returns.
   */
  async requireStepUp(user: UserRow, device: string | null, ctx: RequestContext, intent: StepUpIntent, confirmPath: string): Promise<void> {
    if (!this.d.stepUp || !(await this.d.stepUp.required(user, device, ctx.ip))) return;
    const challenge = await this.d.stepUp.challenge(user, device, ctx.ip, intent);
    // The password was right: recorded, but not counted as a failed guess.
    this.d.audit.failed({ email: user.email, account: user, reason: 'STEP_UP_REQUIRED', ctx, attempt: 0, lockedUntil: null, ...failureFields(intent, device, ctx) });
    throw new AppError('STEP_UP_REQUIRED', `this request from a new device or network needs the code we mailed you: POST { challenge, code } to ${confirmPath}`, {
      details: challenge,
    });
  }

  /** The user and device of a confirmed step-up challenge of this intent; otherwise throws 401 (a wrong code recorded as INVALID_MFA). */
  async confirmStepUp(input: { challenge: string; code: string }, ctx: RequestContext, intent: StepUpIntent): Promise<{ user: UserRow; device: string | null }> {
    const confirmed = this.d.stepUp ? await this.d.stepUp.confirm(input.challenge, input.code) : null;
    const user = confirmed && confirmed.intent === intent ? await this.d.users.byId(confirmed.userId) : null;
    if (!confirmed || !user) throw new AppError('UNAUTHENTICATED', `this ${intent} challenge is unknown, used or expired; start again`);
    if (!confirmed.valid) {
      this.d.audit.failed({ email: user.email, account: user, reason: 'INVALID_MFA', ctx, attempt: 0, lockedUntil: null, ...failureFields(intent, confirmed.device, ctx) });
      throw new AppError('UNAUTHENTICATED', `wrong code; the challenge is void: ${intent === 'login' ? 'log in' : 'start'} again for a new one`);
    }
    return { user, device: confirmed.device };
  }

  /**
   * 429 with Retry-After for an IP the risk worker blocked, before any
   * password is checked. The attempt is still recorded (failure_reason
   * IP_BLOCKED), but it is not counted as a guess against the account.
   * If Redis cannot say, the check goes on: the account lockout still holds.
   */
  async refuseBlockedIp(email: string, ctx: RequestContext, metadata: Record<string, unknown>): Promise<void> {
    if (!this.d.ipBlocks || !ctx.ip) return;
    let seconds = 0;
    try {
      seconds = await this.d.ipBlocks.retryAfterSeconds(ctx.ip);
    } catch (error) {
      this.d.logger.warn({ err: error }, 'could not check the IP block list; login allowed');
    }
    if (seconds <= 0) return;
    this.d.audit.blockedIp(email, ctx, metadata);
    throw new AppError('RATE_LIMITED', 'too many suspicious logins from this address; try again later', { retryAfterSeconds: seconds });
  }
}

/** 423 with the seconds left until `until`, both on the clock that set the lock (PostgreSQL's: this host's may differ by hours). */
export function lockedError(until: Date, now: Date): AppError {
  if (isPermanentLock(until)) return new AppError('LOCKED', 'this account is locked after repeated lockouts; an administrator must unlock it');
  const seconds = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
  return new AppError('LOCKED', 'too many failed logins; try again later or reset your password', { retryAfterSeconds: seconds });
}

/** The login's events stay as they were; every other route names itself. */
function routeField(route: PasswordRoute): { route?: PasswordRoute } {
  return route === 'login' ? {} : { route };
}

/** The failed_login metadata and the login_failed details of a refusal on this route, from this device. */
function failureFields(route: PasswordRoute, device: string | null, ctx: RequestContext): Pick<FailedLogin, 'metadata' | 'details'> {
  return {
    metadata: { device_fingerprint: device, request_id: ctx.requestId, ...routeField(route) },
    details: { device_fingerprint: device, ...routeField(route) },
  };
}

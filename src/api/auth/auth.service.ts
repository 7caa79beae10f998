import { randomUUID } from 'node:crypto';
import { AppError } from '../../lib/app-error';
import type { Logger } from '../../lib/logger';
import type { Mailer } from '../../lib/mailer';
import type { SettingsService } from '../settings/settings.service';
import type { RequestContext } from '../request-context';
import type { IpBlocks } from '../../risk/ip-blocks';
import type { AccountEvents } from './account-events';
import type { AccountTokenRepository } from './account-token.repository';
import { lockoutPolicyFrom } from '../../domain/lockout-policy';
import type { LoginGuard, LockoutPolicy } from './login-guard';
import type { LoginStepUp } from './login-step-up';
import { PasswordCheck } from './password-check';
import { hashPassword } from './password-hasher';
import type { SessionRepository, SessionRow } from './session.repository';
import { hashSecret, newSecret } from './tokens';
import type { UserRepository, UserRow } from './user.repository';

export interface AuthServiceDeps {
  users: UserRepository;
  sessions: SessionRepository;
  tokens: AccountTokenRepository;
  guard: LoginGuard;
  settings: SettingsService;
  mailer: Mailer;
  events: AccountEvents;
  /** IPs the risk worker blocked; absent, no IP is refused. */
  ipBlocks?: IpBlocks;
  /** Mailed login codes when the risk worker asks for a step-up; absent, none is asked. */
  stepUp?: LoginStepUp;
  publicUrl: string;
  logger: Logger;
}

export interface LoginResult {
  token: string;
  expires_at: string;
  idle_expires_at: string;
  session_id: string;
}

export { lockedError } from './password-check';

const VERIFY_TTL_MINUTES = 24 * 60;
const RESET_TTL_MINUTES = 60;

/** Registration, verification, login with lockout, logout, and passwords. */
export class AuthService {
  /** The one way any route checks a user's password: IP blocks, lockout, step-up and their events. */
  readonly passwords: PasswordCheck;

  constructor(private readonly d: AuthServiceDeps) {
    this.passwords = new PasswordCheck(d);
  }

  async lockoutPolicy(): Promise<LockoutPolicy> {
    return lockoutPolicyFrom(this.d.settings);
  }

  /**
   * Creates an account and mails a verification link. An email that already
   * has an account gets the same 201 (and a mail telling its owner), so
   * registration does not reveal which emails are registered.
   */
  async register(input: { email: string; password: string; first_name?: string | null; last_name?: string | null }, ctx: RequestContext): Promise<void> {
    const startedAt = performance.now();
    const user = await this.d.users.insert(input.email, await hashPassword(input.password), input.first_name ?? null, input.last_name ?? null);
    if (!user) {
      await this.mail(input.email, 'Someone tried to register with your email', 'An account already exists for this address. If this was you, log in or reset your password.');
      return;
    }
    this.d.events.record({
      type: 'user_created',
      userId: user.id,
      ctx,
      startedAt,
      details: { auth_provider: 'password' },
      change: { previous: null, next: { email: user.email, auth_provider: 'password' }, actionType: 'CREATE' },
    });
    this.d.events.record({
      type: 'user_registered',
      userId: user.id,
      ctx,
      change: { previous: null, next: { status: 'pending_verification' }, actionType: 'CREATE' },
    });
    await this.sendVerification(user);
  }

  async verifyEmail(token: string, ctx: RequestContext): Promise<void> {
    const row = await this.d.tokens.consume(hashSecret(token), 'verify_email');
    if (!row) throw new AppError('BAD_REQUEST', 'this verification link is invalid, used or expired');
    const updated = await this.d.users.update(row.user_id, { email_verified: true, email_verified_at: new Date() });
    if (!updated) throw new AppError('NOT_FOUND', 'the account no longer exists');
    if (updated.before.email_verified) return;
    this.d.events.record({
      type: 'email_verified',
      userId: row.user_id,
      ctx,
      change: { previous: { status: 'pending_verification' }, next: { status: 'active' } },
    });
  }

  async resendVerification(email: string): Promise<void> {
    const user = await this.d.users.byEmail(email);
    if (user && !user.email_verified && !user.deleted_at) await this.sendVerification(user);
  }

  async login(
    input: { email: string; password: string; device_fingerprint?: string | null },
    ctx: RequestContext,
  ): Promise<LoginResult> {
    const user = await this.passwords.verify(input, ctx, { route: 'login' });
    const device = input.device_fingerprint ?? null;
    const refusal = loginRefusal(user);
    if (refusal) {
      this.passwords.refuse(user, input.email, refusal.reason, ctx, 'login', device);
      throw new AppError('FORBIDDEN', refusal.message);
    }
    await this.passwords.requireStepUp(user, device, ctx, 'login', '/auth/login/confirm');
    return this.openSession(user, device, ctx);
  }

  /** The second half of a stepped-up login: the mailed code for its challenge opens the session. */
  async confirmLogin(input: { challenge: string; code: string }, ctx: RequestContext): Promise<LoginResult> {
    const { user, device } = await this.passwords.confirmStepUp(input, ctx, 'login');
    const refusal = loginRefusal(user);
    if (refusal) throw new AppError(refusal.reason === 'ACCOUNT_LOCKED' ? 'LOCKED' : 'FORBIDDEN', refusal.message);
    await this.d.users.update(user.id, { step_up_required_at: null, step_up_cleared_at: new Date() });
    return this.openSession(user, device, ctx, 'user', { step_up: 'email_code' });
  }

  /** 429 for an IP the risk worker blocked (see PasswordCheck.refuseBlockedIp); the administrator login uses it too. */
  async refuseBlockedIp(email: string, ctx: RequestContext, metadata: Record<string, unknown>): Promise<void> {
    await this.passwords.refuseBlockedIp(email, ctx, metadata);
  }

  async logout(session: SessionRow, ctx: RequestContext): Promise<void> {
    const ended = await this.d.sessions.end(session.session_id, 'user_logout');
    if (!ended) return;
    this.recordSessionEnd(ended, ctx);
  }

  async logoutAll(subject: { type: 'user' | 'admin'; id: string }, ctx: RequestContext): Promise<number> {
    const ended = await this.d.sessions.endAll(subject.type, subject.id, 'logout_all');
    // Whoever the owner is logging out may have asked for an email change meanwhile.
    if (subject.type === 'user') await this.d.tokens.revokeAll(subject.id, 'change_email');
    for (const s of ended) this.recordSessionEnd(s, ctx);
    return ended.length;
  }

  /**
   * Starts `forgotPassword` without waiting for it, so the caller answers
   * before any lookup: a known and an unknown email take the same time
   * (issue 12 §7). Its failures are logged here, never left unhandled.
   */
  requestPasswordReset(email: string, ctx: RequestContext): void {
    setImmediate(() => {
      this.forgotPassword(email, ctx).catch((error: unknown) => this.d.logger.error({ err: error, request_id: ctx.requestId }, 'could not handle a password reset request'));
    });
  }

  /** Mails a reset link if the email has an account; does nothing otherwise. */
  async forgotPassword(email: string, ctx: RequestContext): Promise<void> {
    const user = await this.d.users.byEmail(email);
    if (!user || user.deleted_at) return;
    await this.d.tokens.revokeAll(user.id, 'reset_password');
    const { token, hash } = newSecret();
    await this.d.tokens.insert(hash, 'reset_password', user.id, RESET_TTL_MINUTES);
    await this.mail(
      user.email,
      'Reset your auditflow password',
      `Someone asked to reset your password. If it was you, use this link within ${RESET_TTL_MINUTES} minutes:\n\n` +
        `${this.d.publicUrl}/auth/password/reset#token=${token}\n\nOr POST {"token": "${token}", "password": "<new password>"} to ${this.d.publicUrl}/auth/password/reset\n`,
    );
    this.d.events.record({ type: 'password_reset_requested', userId: user.id, ctx, details: { method: 'email_link' } });
  }

  /**
   * Sets a new password from a mailed token. It also lifts any password
   * lockout: whoever holds the mailbox can always get back in, so failed
   * logins by someone else can never keep the owner out.
   */
  async resetPassword(token: string, password: string, ctx: RequestContext): Promise<void> {
    const startedAt = performance.now();
    const row = await this.d.tokens.consume(hashSecret(token), 'reset_password');
    if (!row) throw new AppError('BAD_REQUEST', 'this reset link is invalid, used or expired');
    const current = await this.d.users.byId(row.user_id);
    const changed = await this.d.users.update(row.user_id, {
      // A lock is lifted; a suspension is an administrator's and stays.
      status: current?.status === 'locked' ? 'active' : undefined,
      password_hash: await hashPassword(password),
      password_changed_at: new Date(),
      failed_login_attempts: 0,
      locked_until: null,
      lock_source: null,
      lock_cleared_at: new Date(),
      // Whoever holds the mailbox has just proved it: no step-up asked before this.
      step_up_required_at: null,
      step_up_cleared_at: new Date(),
    });
    if (!changed) throw new AppError('NOT_FOUND', 'the account no longer exists');
    await this.d.guard.clear(changed.after.email);
    // An email change asked for with the old password must not outlive it (issue 12 §2).
    await this.d.tokens.revokeAll(row.user_id, 'change_email');
    const ended = await this.d.sessions.endAll('user', row.user_id, 'password_reset');
    for (const s of ended) this.recordSessionEnd(s, ctx);
    this.d.events.record({
      type: 'password_reset_completed',
      userId: row.user_id,
      ctx,
      startedAt,
      details: { reset_token_used: true },
      change: {
        previous: { password_changed_at: changed.before.password_changed_at?.toISOString() ?? null, locked_until: changed.before.locked_until?.toISOString() ?? null },
        next: { password_changed_at: changed.after.password_changed_at?.toISOString() ?? null, locked_until: null },
      },
    });
  }

  async changePassword(userId: string, currentPassword: string, newPassword: string, ctx: RequestContext): Promise<void> {
    const startedAt = performance.now();
    const user = await this.d.users.byId(userId);
    if (!user) throw new AppError('UNAUTHENTICATED', 'the current password is wrong');
    await this.passwords.verify({ email: user.email, password: currentPassword }, ctx, { route: 'password_change', wrongMessage: 'the current password is wrong' });
    const changed = await this.d.users.update(userId, { password_hash: await hashPassword(newPassword), password_changed_at: new Date() });
    await this.d.tokens.revokeAll(userId, 'change_email');
    // Other sessions may belong to whoever knew the old password.
    const ended = await this.d.sessions.endAll('user', userId, 'password_changed', ctx.actor?.sessionId);
    for (const s of ended) this.recordSessionEnd(s, ctx);
    this.d.events.record({
      type: 'password_changed',
      userId,
      ctx,
      startedAt,
      details: { changed_by: 'user' },
      change: {
        previous: { password_changed_at: changed?.before.password_changed_at?.toISOString() ?? null },
        next: { changed_by: 'user', password_changed_at: changed?.after.password_changed_at?.toISOString() ?? null },
      },
    });
  }

  /** The live session behind a bearer token, or null. */
  async session(token: string): Promise<SessionRow | null> {
    const idle = await this.d.settings.integer('session.idle_timeout_minutes', 30);
    return this.d.sessions.touch(hashSecret(token), idle);
  }

  async openSession(
    user: Pick<UserRow, 'id' | 'email'>,
    deviceFingerprint: string | null,
    ctx: RequestContext,
    subjectType: 'user' | 'admin' = 'user',
    /** Added to the login_success event (a passed step-up). */
    details: Record<string, unknown> = {},
  ): Promise<LoginResult> {
    const idle = await this.d.settings.integer('session.idle_timeout_minutes', 30);
    const absolute = await this.d.settings.integer('session.absolute_timeout_minutes', 720);
    const { token, hash } = newSecret('afs_');
    const session = await this.d.sessions.insert({
      session_id: randomUUID(),
      token_hash: hash,
      subject_type: subjectType,
      user_id: user.id,
      device_fingerprint: deviceFingerprint,
      ip_address: ctx.ip,
      user_agent: ctx.userAgent,
      idleMinutes: idle,
      absoluteMinutes: absolute,
    });
    if (subjectType === 'user') await this.d.users.update(user.id, { last_login_at: new Date() });
    const sessionCtx: RequestContext = { ...ctx, actor: { type: subjectType, id: user.id, email: user.email, sessionId: session.session_id } };
    this.d.events.record({ type: 'login_success', userId: user.id, ctx: sessionCtx, details: { method: 'password', subject_type: subjectType, device_fingerprint: deviceFingerprint, ...details } });
    this.d.events.publisher?.publish({
      kind: 'session',
      event_type: 'session_started',
      session_id: session.session_id,
      user_id: user.id,
      device_fingerprint: deviceFingerprint,
      ip_address: ctx.ip,
      user_agent: ctx.userAgent,
      last_activity_at: session.last_activity_at.toISOString(),
      expires_at: session.expires_at.toISOString(),
      is_active: true,
    });
    return {
      token,
      session_id: session.session_id,
      expires_at: session.expires_at.toISOString(),
      idle_expires_at: session.idle_expires_at.toISOString(),
    };
  }

  recordSessionEnd(s: SessionRow, ctx: RequestContext): void {
    this.d.events.record({
      type: 'logout',
      userId: s.user_id,
      ctx: { ...ctx, actor: ctx.actor ?? { type: s.subject_type, id: s.user_id, sessionId: s.session_id } },
      details: { session_duration_s: Math.round(((s.logout_at ?? new Date()).getTime() - s.created_at.getTime()) / 1000), reason: s.logout_reason },
    });
    this.d.events.publisher?.publish({
      kind: 'session',
      event_type: 'session_ended',
      session_id: s.session_id,
      user_id: s.user_id,
      device_fingerprint: s.device_fingerprint,
      ip_address: s.ip_address,
      user_agent: s.user_agent,
      last_activity_at: s.last_activity_at.toISOString(),
      expires_at: s.expires_at.toISOString(),
      is_active: false,
      logout_reason: s.logout_reason,
      logout_at: (s.logout_at ?? new Date()).toISOString(),
    });
  }

  private async sendVerification(user: UserRow): Promise<void> {
    await this.d.tokens.revokeAll(user.id, 'verify_email');
    const { token, hash } = newSecret();
    await this.d.tokens.insert(hash, 'verify_email', user.id, VERIFY_TTL_MINUTES);
    await this.mail(
      user.email,
      'Verify your auditflow email',
      `Welcome! Confirm your address within 24 hours:\n\n${this.d.publicUrl}/auth/verify-email#token=${token}\n\n` +
        `Or POST {"token": "${token}"} to ${this.d.publicUrl}/auth/verify-email\n`,
    );
  }

  private async mail(to: string, subject: string, text: string): Promise<void> {
    try {
      await this.d.mailer.send({ to, subject, text });
    } catch (error) {
      // The account change stands; the user can ask for the mail again.
      this.d.logger.error({ err: error, subject }, 'could not send mail');
    }
  }
}

function loginRefusal(user: UserRow): { reason: string; message: string } | null {
  if (user.deleted_at || user.status === 'deleted') return { reason: 'ACCOUNT_DISABLED', message: 'this account was deleted; restore it within 30 days with POST /auth/restore' };
  if (user.status === 'suspended' || user.status === 'inactive') return { reason: 'ACCOUNT_DISABLED', message: `this account is ${user.status}` };
  // A lock whose time has passed is over, even before the lock sweeper has set the status back.
  if (user.status === 'locked' && (user.locked_until === null || user.locked_until.getTime() > Date.now())) {
    return { reason: 'ACCOUNT_LOCKED', message: 'this account is locked; contact an administrator' };
  }
  if (!user.email_verified) return { reason: 'EMAIL_NOT_VERIFIED', message: 'verify your email first (POST /auth/verify-email/resend to get a new link)' };
  return null;
}

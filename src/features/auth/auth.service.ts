import { randomUUID } from 'node:crypto';
import { AppError } from '../../lib/errors/app-error';
import type { Logger } from '../../lib/logger';
import { sendOrLog, type Mailer } from '../../lib/mailer';
import type { SettingsService } from '../settings/settings.service';
import type { RequestContext } from '../../http/request-context';
import type { AccountEvents } from './account-events';
import type { AccountTokenRepository } from './account-token.repository';
import { lockoutPolicyFrom } from '../../domain/lockout-policy';
import type { LockoutPolicy } from './login-guard';
import type { LoginAudit } from './login-audit';
import type { PasswordCheck } from './password-check';
import { hashPassword } from './password-hasher';
import type { SessionRepository, SessionRow } from './session.repository';
import { hashSecret, newSecret } from './tokens';
import type { UserRepository, UserRow } from './user.repository';

export interface AuthServiceDeps {
  users: UserRepository;
  sessions: SessionRepository;
  tokens: AccountTokenRepository;
  settings: SettingsService;
  mailer: Mailer;
  events: AccountEvents;
  audit: LoginAudit;
  /** The one way any route checks a user's password: IP blocks, lockout, step-up and their events. */
  passwords: PasswordCheck;
  publicUrl: string;
  logger: Logger;
}

export interface LoginResult {
  token: string;
  expires_at: string;
  idle_expires_at: string;
  session_id: string;
}

const VERIFY_TTL_MINUTES = 24 * 60;

/** Registration, verification, login with lockout, sessions and logout; passwords are PasswordService's. */
export class AuthService {
  constructor(private readonly d: AuthServiceDeps) {}

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
      await sendOrLog(this.d.mailer, this.d.logger, {
        to: input.email,
        subject: 'Someone tried to register with your email',
        text: 'An account already exists for this address. If this was you, log in or reset your password.',
      });
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

  /**
   * Starts `resendVerification` without waiting for it, so the caller
   * answers before any lookup: only an unverified account gets a token and
   * a mail, and the time they take must not tell it apart from an unknown
   * email (as forgot-password, issue 12 §7). Its failures are logged here.
   */
  requestVerificationResend(email: string, ctx: RequestContext): void {
    setImmediate(() => {
      this.resendVerification(email).catch((error: unknown) => this.d.logger.error({ err: error, request_id: ctx.requestId }, 'could not resend a verification link'));
    });
  }

  async resendVerification(email: string): Promise<void> {
    const user = await this.d.users.byEmail(email);
    if (user && !user.email_verified && !user.deleted_at) await this.sendVerification(user);
  }

  async login(input: { email: string; password: string; device_fingerprint?: string | null }, ctx: RequestContext): Promise<LoginResult> {
    const user = await this.d.passwords.verify(input, ctx, { route: 'login' });
    const device = input.device_fingerprint ?? null;
    const refusal = loginRefusal(user);
    if (refusal) {
      this.d.passwords.refuse(user, input.email, refusal.reason, ctx, 'login', device);
      throw new AppError('FORBIDDEN', refusal.message);
    }
    await this.d.passwords.requireStepUp(user, device, ctx, 'login', '/auth/login/confirm');
    return this.openSession(user, device, ctx);
  }

  /** The second half of a stepped-up login: the mailed code for its challenge opens the session. */
  async confirmLogin(input: { challenge: string; code: string }, ctx: RequestContext): Promise<LoginResult> {
    const { user, device } = await this.d.passwords.confirmStepUp(input, ctx, 'login');
    const refusal = loginRefusal(user);
    if (refusal) throw new AppError(refusal.reason === 'ACCOUNT_LOCKED' ? 'LOCKED' : 'FORBIDDEN', refusal.message);
    await this.d.users.update(user.id, { step_up_required_at: null, step_up_cleared_at: new Date() });
    return this.openSession(user, device, ctx, 'user', { step_up: 'email_code' });
  }

  /** 429 for an IP the risk worker blocked (see PasswordCheck.refuseBlockedIp); the administrator login uses it too. */
  async refuseBlockedIp(email: string, ctx: RequestContext, metadata: Record<string, unknown>): Promise<void> {
    await this.d.passwords.refuseBlockedIp(email, ctx, metadata);
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
    this.d.audit.succeeded({ user, session, deviceFingerprint, ctx, details });
    return {
      token,
      session_id: session.session_id,
      expires_at: session.expires_at.toISOString(),
      idle_expires_at: session.idle_expires_at.toISOString(),
    };
  }

  /** logout and session_ended for a session that has ended (see LoginAudit.sessionEnded). */
  recordSessionEnd(s: SessionRow, ctx: RequestContext): void {
    this.d.audit.sessionEnded(s, ctx);
  }

  private async sendVerification(user: UserRow): Promise<void> {
    await this.d.tokens.revokeAll(user.id, 'verify_email');
    const { token, hash } = newSecret();
    await this.d.tokens.insert(hash, 'verify_email', user.id, VERIFY_TTL_MINUTES);
    await sendOrLog(this.d.mailer, this.d.logger, {
      to: user.email,
      subject: 'Verify your auditflow email',
      text: `Welcome! Confirm your address within 24 hours:\n\n${this.d.publicUrl}/auth/verify-email#token=${token}\n\n` + `Or POST {"token": "${token}"} to ${this.d.publicUrl}/auth/verify-email\n`,
    });
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

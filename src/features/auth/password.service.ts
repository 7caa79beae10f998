import { AppError } from '../../lib/errors/app-error';
import type { Logger } from '../../lib/logger';
import { sendOrLog, type Mailer } from '../../lib/mailer';
import type { RequestContext } from '../../http/request-context';
import type { AccountEvents } from './account-events';
import { OLD_PASSWORD_TOKENS, type AccountTokenRepository } from './account-token.repository';
import type { LoginAudit } from './login-audit';
import type { LoginGuard } from './login-guard';
import type { PasswordCheck } from './password-check';
import { hashPassword } from './password-hasher';
import type { SessionRepository } from './session.repository';
import { hashSecret, newSecret } from './tokens';
import type { UserRepository } from './user.repository';

export interface PasswordServiceDeps {
  users: UserRepository;
  sessions: SessionRepository;
  tokens: AccountTokenRepository;
  guard: LoginGuard;
  /** Checks the current password of a change, as a login does. */
  check: PasswordCheck;
  mailer: Mailer;
  events: AccountEvents;
  audit: LoginAudit;
  publicUrl: string;
  logger: Logger;
}

const RESET_TTL_MINUTES = 60;

/**
 * A user's password: reset by a mailed link, or changed with the current
 * one. New passwords are hashed with Argon2id (password-hasher.ts); every
 * check of a password goes through PasswordCheck.
 */
export class PasswordService {
  constructor(private readonly d: PasswordServiceDeps) {}

  /**
   * Starts `forgot` without waiting for it, so the caller answers before
   * any lookup: a known and an unknown email take the same time
   * (issue 12 §7). Its failures are logged here, never left unhandled.
   */
  requestReset(email: string, ctx: RequestContext): void {
    setImmediate(() => {
      this.forgot(email, ctx).catch((error: unknown) => this.d.logger.error({ err: error, request_id: ctx.requestId }, 'could not handle a password reset request'));
    });
  }

  /** Mails a reset link if the email has an account; does nothing otherwise. */
  async forgot(email: string, ctx: RequestContext): Promise<void> {
    const user = await this.d.users.byEmail(email);
    if (!user || user.deleted_at) return;
    await this.d.tokens.revokeAll(user.id, 'reset_password');
    const { token, hash } = newSecret();
    await this.d.tokens.insert(hash, 'reset_password', user.id, RESET_TTL_MINUTES);
    await sendOrLog(this.d.mailer, this.d.logger, {
      to: user.email,
      subject: 'Reset your auditflow password',
      text:
        `Someone asked to reset your password. If it was you, use this link within ${RESET_TTL_MINUTES} minutes:\n\n` +
        `${this.d.publicUrl}/auth/password/reset#token=${token}\n\nOr POST {"token": "${token}", "password": "<new password>"} to ${this.d.publicUrl}/auth/password/reset\n`,
    });
    this.d.events.record({ type: 'password_reset_requested', userId: user.id, ctx, details: { method: 'email_link' } });
  }

  /**
   * Sets a new password from a mailed token. It also lifts any password
   * lockout: whoever holds the mailbox can always get back in, so failed
   * logins by someone else can never keep the owner out.
   */
  async reset(token: string, password: string, ctx: RequestContext): Promise<void> {
    const startedAt = performance.now();
    const row = await this.d.tokens.consume(hashSecret(token), 'reset_password');
    if (!row) throw new AppError('BAD_REQUEST', 'this reset link is invalid, used or expired');
    // A lock is lifted (and the email's throttle row); a suspension is an administrator's and stays.
    const unlocked = await this.d.guard.unlockUser(row.user_id);
    if (!unlocked) throw new AppError('NOT_FOUND', 'the account no longer exists');
    const changed = await this.d.users.update(row.user_id, {
      password_hash: await hashPassword(password),
      password_changed_at: new Date(),
      // Whoever holds the mailbox has just proved it: no step-up asked before this.
      step_up_required_at: null,
      step_up_cleared_at: new Date(),
    });
    if (!changed) throw new AppError('NOT_FOUND', 'the account no longer exists');
    // An email change or a login code asked for with the old password must not outlive it (issue 12 §2).
    await this.d.tokens.revokeAll(row.user_id, OLD_PASSWORD_TOKENS);
    const ended = await this.d.sessions.endAll('user', row.user_id, 'password_reset');
    for (const s of ended) this.d.audit.sessionEnded(s, ctx);
    this.d.events.record({
      type: 'password_reset_completed',
      userId: row.user_id,
      ctx,
      startedAt,
      details: { reset_token_used: true },
      change: {
        // lock_count back to 0: the escalation restarts, so guesses by others start again from a first, temporary lock.
        previous: {
          password_changed_at: changed.before.password_changed_at?.toISOString() ?? null,
          locked_until: unlocked.before.locked_until?.toISOString() ?? null,
          lock_count: unlocked.before.lock_count,
        },
        next: { password_changed_at: changed.after.password_changed_at?.toISOString() ?? null, locked_until: null, lock_count: 0 },
      },
    });
  }

  /** A signed-in user's new password, given the current one (checked, counted and recorded as a login is). */
  async change(userId: string, currentPassword: string, newPassword: string, ctx: RequestContext): Promise<void> {
    const startedAt = performance.now();
    const user = await this.d.users.byId(userId);
    if (!user) throw new AppError('UNAUTHENTICATED', 'the current password is wrong');
    await this.d.check.verify({ email: user.email, password: currentPassword }, ctx, { route: 'password_change', wrongMessage: 'the current password is wrong' });
    const changed = await this.d.users.update(userId, { password_hash: await hashPassword(newPassword), password_changed_at: new Date() });
    await this.d.tokens.revokeAll(userId, OLD_PASSWORD_TOKENS);
    // Other sessions may belong to whoever knew the old password.
    const ended = await this.d.sessions.endAll('user', userId, 'password_changed', ctx.actor?.sessionId);
    for (const s of ended) this.d.audit.sessionEnded(s, ctx);
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
}

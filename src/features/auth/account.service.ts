import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { AppError } from '../../lib/errors/app-error';
import type { Logger } from '../../lib/logger';
import { sendOrLog, type Mailer } from '../../lib/mailer';
import type { SettingsService } from '../settings/settings.service';
import type { RequestContext } from '../../http/request-context';
import type { AccountEvents } from './account-events';
import type { AccountTokenRepository } from './account-token.repository';
import type { AuthService, LoginResult } from './auth.service';
import type { PasswordCheck } from './password-check';
import { GuestUserRepository } from './guest-user.repository';
import type { SessionRepository } from './session.repository';
import { hashSecret, newSecret } from './tokens';
import { publicUser, type PublicUser, type UserRepository, type UserRow } from './user.repository';

export interface AccountServiceDeps {
  /** For guest_users (GuestUserRepository). */
  pg: Pool;
  users: UserRepository;
  sessions: SessionRepository;
  tokens: AccountTokenRepository;
  settings: SettingsService;
  mailer: Mailer;
  events: AccountEvents;
  auth: AuthService;
  passwords: PasswordCheck;
  publicUrl: string;
  logger: Logger;
}

/** A signed-in user's own account: profile, email, deletion and restore, plus guest sessions. */
export class AccountService {
  private readonly guests: GuestUserRepository;

  constructor(private readonly d: AccountServiceDeps) {
    this.guests = new GuestUserRepository(d.pg);
  }

  async me(userId: string): Promise<PublicUser> {
    const user = await this.d.users.byId(userId);
    if (!user) throw new AppError('NOT_FOUND', 'account not found');
    return publicUser(user);
  }

  async updateProfile(userId: string, patch: { first_name?: string | null; last_name?: string | null }, ctx: RequestContext): Promise<PublicUser> {
    const startedAt = performance.now();
    const changed = await this.d.users.update(userId, patch);
    if (!changed) throw new AppError('NOT_FOUND', 'account not found');
    const fields = Object.keys(patch) as (keyof typeof patch)[];
    if (fields.some((f) => changed.before[f] !== changed.after[f])) {
      this.d.events.record({
        type: 'profile_updated',
        userId,
        ctx,
        startedAt,
        change: {
          previous: Object.fromEntries(fields.map((f) => [f, changed.before[f]])),
          next: Object.fromEntries(fields.map((f) => [f, changed.after[f]])),
        },
      });
    }
    return publicUser(changed.after);
  }

  /**
   * Mails a confirmation link to the new address; the email changes only when
   * it is followed. The old address is told too, so an owner whose password
   * leaked can reset it, which voids the link (issue 12 §2).
   */
  async requestEmailChange(userId: string, newEmail: string, password: string, ctx: RequestContext): Promise<void> {
    const user = await this.checkOwnPassword(userId, password, 'email_change', ctx);
    if (user.email === newEmail) throw new AppError('VALIDATION_FAILED', 'that is already your email', { details: [{ path: 'new_email', message: 'is your current email' }] });
    const { token, hash } = newSecret();
    await this.d.tokens.revokeAll(userId, 'change_email');
    await this.d.tokens.insert(hash, 'change_email', userId, 60, newEmail);
    await sendOrLog(this.d.mailer, this.d.logger, {
      to: newEmail,
      subject: 'Confirm your new auditflow email',
      text: `Confirm this address for your account within an hour:\n\n${this.d.publicUrl}/auth/email/confirm#token=${token}\n\nOr POST {"token": "${token}"} to ${this.d.publicUrl}/auth/email/confirm\n`,
    });
    await sendOrLog(this.d.mailer, this.d.logger, {
      to: user.email,
      subject: 'Your auditflow email is about to change',
      text:
        `Someone signed in to your account asked to change its email to ${newEmail}. The change happens when that address confirms it.\n\n` +
        `If this was not you, reset your password now (${this.d.publicUrl}/auth/password/forgot): that cancels the change and ends every session.\n`,
    });
    this.d.events.record({ type: 'email_change_requested', userId, ctx, details: { method: 'email_link' } });
  }

  async confirmEmailChange(token: string, ctx: RequestContext): Promise<PublicUser> {
    const startedAt = performance.now();
    const row = await this.d.tokens.consume(hashSecret(token), 'change_email');
    if (!row?.payload) throw new AppError('BAD_REQUEST', 'this confirmation link is invalid, used or expired');
    // A suspended or deleted account keeps its address: a link mailed before the account was shut (or racing it) is void.
    const current = await this.d.users.byId(row.user_id);
    if (!current) throw new AppError('NOT_FOUND', 'account not found');
    if (current.deleted_at || current.status === 'deleted' || current.status === 'suspended') {
      throw new AppError('BAD_REQUEST', 'this confirmation link is invalid, used or expired');
    }
    let changed: Awaited<ReturnType<UserRepository['update']>>;
    try {
      changed = await this.d.users.update(row.user_id, { email: row.payload, email_verified: true, email_verified_at: new Date() });
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw new AppError('CONFLICT', 'that email now belongs to another account');
      throw error;
    }
    if (!changed) throw new AppError('NOT_FOUND', 'account not found');
    if (changed.before.email !== changed.after.email) {
      // A reset link mailed to the old address would hand the account back to whoever reads that mailbox.
      await this.d.tokens.revokeAll(row.user_id, 'reset_password');
      await sendOrLog(this.d.mailer, this.d.logger, {
        to: changed.before.email,
        subject: 'Your auditflow email was changed',
        text: `The email of your auditflow account was changed to ${changed.after.email}; this address no longer signs in.\n\nIf this was not you, contact your administrator at once.\n`,
      });
    }
    this.d.events.record({
      type: 'email_changed',
      userId: row.user_id,
      ctx,
      startedAt,
      change: { previous: { email: changed.before.email }, next: { email: changed.after.email } },
    });
    return publicUser(changed.after);
  }

  /** Soft delete: the account can be restored for `account.restore_window_days`. */
  async deleteAccount(userId: string, password: string, ctx: RequestContext): Promise<{ deleted_at: string; restore_until: string }> {
    const startedAt = performance.now();
    const user = await this.checkOwnPassword(userId, password, 'account_delete', ctx);
    const days = await this.d.settings.integer('account.restore_window_days', 30);
    const deletedAt = new Date();
    const changed = await this.d.users.update(userId, { status: 'deleted', deleted_at: deletedAt });
    // Forgot-password mails no link for a deleted account; one mailed before must not reset it either,
    // nor may a pending email change move a deleted account to another address (whose holder could then restore it).
    await this.d.tokens.revokeAll(userId, ['reset_password', 'change_email']);
    const ended = await this.d.sessions.endAll('user', userId, 'account_deleted');
    for (const s of ended) this.d.auth.recordSessionEnd(s, ctx);
    this.d.events.record({
      type: 'account_deleted',
      userId,
      ctx,
      startedAt,
      change: {
        previous: { status: changed?.before.status ?? user.status },
        next: { status: 'deleted', deleted_at: deletedAt.toISOString() },
        actionType: 'DELETE',
      },
    });
    return { deleted_at: deletedAt.toISOString(), restore_until: new Date(deletedAt.getTime() + days * 86_400_000).toISOString() };
  }

  /**
   * Restores a deleted account within the window, given its email and
   * password; returns a new session. The password goes through the login's
   * checks, and only a deleted account's password is checked at all: on a
   * live account a right and a wrong password fail alike (issue 12 §1).
   */
  async restoreAccount(input: { email: string; password: string; device_fingerprint?: string | null }, ctx: RequestContext): Promise<LoginResult> {
    const startedAt = performance.now();
    const user = await this.d.passwords.verify(input, ctx, { route: 'restore', eligible: (u) => u.deleted_at !== null });
    await this.refuseExpired(user, ctx);
    const device = input.device_fingerprint ?? null;
    await this.d.passwords.requireStepUp(user, device, ctx, 'restore', '/auth/restore/confirm');
    return this.restore(user, device, ctx, startedAt, {});
  }

  /** The second half of a stepped-up restore: the mailed code restores the account and opens the session. */
  async confirmRestore(input: { challenge: string; code: string }, ctx: RequestContext): Promise<LoginResult> {
    const startedAt = performance.now();
    const { user, device } = await this.d.passwords.confirmStepUp(input, ctx, 'restore');
    if (!user.deleted_at) throw new AppError('CONFLICT', 'this account was restored meanwhile; log in');
    await this.refuseExpired(user, ctx);
    await this.d.users.update(user.id, { step_up_required_at: null, step_up_cleared_at: new Date() });
    return this.restore(user, device, ctx, startedAt, { step_up: 'email_code' });
  }

  private async refuseExpired(user: UserRow, ctx: RequestContext): Promise<void> {
    const days = await this.d.settings.integer('account.restore_window_days', 30);
    if (user.deleted_at && Date.now() - user.deleted_at.getTime() > days * 86_400_000) {
      this.d.passwords.refuse(user, user.email, 'ACCOUNT_DISABLED', ctx, 'restore');
      throw new AppError('GONE', `this account was deleted more than ${days} days ago and can no longer be restored`);
    }
  }

  private async restore(user: UserRow, device: string | null, ctx: RequestContext, startedAt: number, details: Record<string, unknown>): Promise<LoginResult> {
    const deletedAt = user.deleted_at;
    await this.d.users.update(user.id, { status: 'active', deleted_at: null });
    const actorCtx: RequestContext = { ...ctx, actor: { type: 'user', id: user.id, email: user.email } };
    this.d.events.record({
      type: 'account_restored',
      userId: user.id,
      ctx: actorCtx,
      startedAt,
      change: { previous: { status: 'deleted', deleted_at: deletedAt?.toISOString() ?? null }, next: { status: 'active' } },
    });
    return this.d.auth.openSession(user, device, ctx, 'user', details);
  }

  /** A guest session (todo_app_guestuser): anonymous, tracked, expiring after inactivity. */
  async startGuest(ctx: RequestContext): Promise<{ guest_session_id: string; expires_at: string }> {
    const hours = await this.d.settings.integer('guest.session_hours', 24);
    const sessionId = `guest_${randomBytes(24).toString('base64url')}`;
    const guest = await this.guests.insert(sessionId, ctx.ip, ctx.userAgent, hours);
    this.d.events.publisher?.publish({
      kind: 'session',
      event_type: 'guest_session_started',
      session_id: guest.id,
      user_id: null,
      ip_address: ctx.ip,
      user_agent: ctx.userAgent,
      expires_at: guest.expired_at.toISOString(),
      is_active: true,
    });
    return { guest_session_id: sessionId, expires_at: guest.expired_at.toISOString() };
  }

  /** Records guest activity and pushes the expiry forward; null when unknown or expired. */
  async touchGuest(sessionId: string): Promise<{ id: string; expires_at: string } | null> {
    const hours = await this.d.settings.integer('guest.session_hours', 24);
    const guest = await this.guests.touch(sessionId, hours);
    return guest ? { id: guest.id, expires_at: guest.expired_at.toISOString() } : null;
  }

  /** A signed-in user's password, checked as a login is: counted, locked, recorded. */
  private async checkOwnPassword(userId: string, password: string, route: 'email_change' | 'account_delete', ctx: RequestContext): Promise<UserRow> {
    const user = await this.d.users.byId(userId);
    if (!user) throw new AppError('UNAUTHENTICATED', 'the password is wrong');
    return this.d.passwords.verify({ email: user.email, password }, ctx, { route, wrongMessage: 'the password is wrong' });
  }
}

import { randomUUID } from 'node:crypto';
import { isPermanentLock, type LockoutPolicy } from '../../domain/lockout-policy';
import type { RequestContext } from '../../http/request-context';
import type { AccountEvents } from './account-events';
import type { SessionRow } from './session.repository';

/** One refused login, or refused password check on another route. */
export interface FailedLogin {
  /** The email as typed. */
  email: string;
  /** The account the email matched, if any. */
  account: { id: string } | null;
  /** INVALID_EMAIL, INVALID_PASSWORD, ACCOUNT_LOCKED, ACCOUNT_DISABLED, STEP_UP_REQUIRED, INVALID_MFA, … */
  reason: string;
  ctx: RequestContext;
  /** Its place in the lockout window; 0 for a refusal that is not counted as a guess. */
  attempt: number;
  lockedUntil: Date | null;
  /** A counted guess: its auth event carries attempt_count. */
  counted?: boolean;
  /** The failed_login row's metadata. */
  metadata: Record<string, unknown>;
  /** Added to the login_failed auth event's details, after reason and attempt_count. */
  details?: Record<string, unknown>;
}

/** A lock that a failed login has just set. */
export interface LoginLock {
  subject: 'user' | 'admin';
  account: { id: string; status: string } | null;
  email: string;
  lockedUntil: Date;
  /** The lock's length; null when it is permanent. */
  minutes: number | null;
  policy: LockoutPolicy;
  ctx: RequestContext;
}

/** A session a login has just opened. */
export interface SucceededLogin {
  user: { id: string; email: string };
  session: SessionRow;
  deviceFingerprint: string | null;
  ctx: RequestContext;
  /** Added to the login_success event (a passed step-up). */
  details: Record<string, unknown>;
}

/**
 * Every event a login records, for users and administrators alike: each
 * failure (a failed_login row and a login_failed auth event), the lock it
 * sets, a blocked IP, and each session opened or ended.
 */
export class LoginAudit {
  constructor(private readonly events: AccountEvents) {}

  /**
   * One failed_login row and one login_failed auth event. A login refused
   * without a password check (the email is locked) counts toward nothing and
   * costs its caller nothing, not even a credential: its events are best
   * effort, so that repeating it while Redis is down cannot fill the spool's
   * half kept for acknowledged actions (EventPublisher's `bestEffort`).
   */
  failed(f: FailedLogin): void {
    const options = { bestEffort: f.reason === 'ACCOUNT_LOCKED' };
    // The two events are one attempt: the risk worker counts it once by this id. Never the request id, which
    // the caller may choose (X-Request-Id): one id sent with every guess would make them all one attempt.
    const attemptId = randomUUID();
    const permanent = isPermanentLock(f.lockedUntil);
    this.events.publisher?.publish(
      {
        kind: 'failed_login',
        user_id: f.account?.id ?? null,
        email_address: f.email,
        failure_reason: f.reason,
        ip_address: f.ctx.ip,
        user_agent: f.ctx.userAgent,
        attempt_number_in_window: f.attempt,
        // A permanent lock has no expiry: its stand-in time (year 9999) is no date the event may carry.
        ...(f.attempt > 0 ? { lockout_status: f.lockedUntil ? 'LOCKED' : null, lockout_expires_at: f.lockedUntil && !permanent ? f.lockedUntil.toISOString() : null } : {}),
        metadata: { ...f.metadata, attempt_id: attemptId, ...(permanent ? { permanent_lock: true } : {}) },
      },
      options,
    );
    this.events.record(
      {
        type: 'login_failed',
        userId: f.account?.id ?? null,
        ctx: f.ctx,
        status: 'FAILURE',
        details: { reason: f.reason, ...(f.counted ? { attempt_count: f.attempt } : {}), ...f.details, attempt_id: attemptId },
      },
      options,
    );
  }

  /** account_locked for a known account, and a HIGH security event either way. */
  locked(l: LoginLock): void {
    const admin = l.subject === 'admin';
    const lockedUntil = l.lockedUntil.toISOString();
    if (l.account && admin) {
      this.events.record({
        type: 'account_locked',
        userId: l.account.id,
        ctx: l.ctx,
        details: { reason: 'too_many_failed_logins', subject_type: 'admin', locked_until: lockedUntil },
      });
    } else if (l.account) {
      this.events.record({
        type: 'account_locked',
        userId: l.account.id,
        ctx: l.ctx,
        details: { reason: 'too_many_failed_logins', locked_until: lockedUntil, permanent: l.minutes === null },
        change: {
          previous: { status: l.account.status, locked_until: null },
          next: { status: l.account.status === 'active' ? 'locked' : l.account.status, locked_until: lockedUntil, reason: 'security' },
          reason: `${l.policy.threshold} failed logins within ${l.policy.windowMinutes} minutes`,
        },
      });
    }
    const length = l.minutes !== null ? `for ${l.minutes} minutes` : admin ? 'until an administrator unlocks it' : 'permanently (until an administrator unlocks it)';
    this.events.publisher?.publish({
      kind: 'security',
      event_type: 'AUTHENTICATION_FAILURE',
      severity_level: 'HIGH',
      user_id: l.account?.id ?? null,
      user_email: l.email,
      event_source: admin ? 'ADMIN_PANEL' : 'LOGIN_ENDPOINT',
      event_description: `${l.policy.threshold} failed ${admin ? 'administrator ' : ''}logins within ${l.policy.windowMinutes} minutes; login locked ${length}`,
      ip_address: l.ctx.ip,
      action_taken: 'ACCOUNT_LOCKED',
      metadata: { locked_until: lockedUntil, failed_attempts: l.policy.threshold, ...(admin ? { subject_type: 'admin' } : {}) },
    });
  }

  /** A login refused because the risk worker blocked its IP: a failed_login row only, not counted against the account (best effort, as a locked email's). */
  blockedIp(email: string, ctx: RequestContext, metadata: Record<string, unknown>): void {
    this.events.publisher?.publish(
      {
        kind: 'failed_login',
        user_id: null,
        email_address: email,
        failure_reason: 'IP_BLOCKED',
        ip_address: ctx.ip,
        user_agent: ctx.userAgent,
        attempt_number_in_window: 0,
        metadata: { ...metadata, attempt_id: randomUUID() },
      },
      { bestEffort: true },
    );
  }

  /** login_success (as the new session's actor) and session_started. */
  succeeded(s: SucceededLogin): void {
    const { user, session, ctx } = s;
    const sessionCtx: RequestContext = { ...ctx, actor: { type: session.subject_type, id: user.id, email: user.email, sessionId: session.session_id } };
    this.events.record({
      type: 'login_success',
      userId: user.id,
      ctx: sessionCtx,
      details: { method: 'password', subject_type: session.subject_type, device_fingerprint: s.deviceFingerprint, ...s.details, attempt_id: randomUUID() },
    });
    this.events.publisher?.publish({
      kind: 'session',
      event_type: 'session_started',
      session_id: session.session_id,
      user_id: user.id,
      device_fingerprint: s.deviceFingerprint,
      ip_address: ctx.ip,
      user_agent: ctx.userAgent,
      last_activity_at: session.last_activity_at.toISOString(),
      expires_at: session.expires_at.toISOString(),
      is_active: true,
    });
  }

  /** logout and session_ended, for a session ended by its owner, an administrator or a password change. */
  sessionEnded(s: SessionRow, ctx: RequestContext): void {
    this.events.record({
      type: 'logout',
      userId: s.user_id,
      ctx: { ...ctx, actor: ctx.actor ?? { type: s.subject_type, id: s.user_id, sessionId: s.session_id } },
      details: { session_duration_s: Math.round(((s.logout_at ?? new Date()).getTime() - s.created_at.getTime()) / 1000), reason: s.logout_reason },
    });
    this.events.publisher?.publish({
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
}

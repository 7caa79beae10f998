import { AppError } from '../../lib/errors/app-error';
import { actorFields } from '../audit/actor-fields';
import type { AccountEvents } from '../auth/account-events';
import type { AccountTokenRepository } from '../auth/account-token.repository';
import type { AuthService } from '../auth/auth.service';
import type { LoginGuard } from '../auth/login-guard';
import type { SessionRepository } from '../auth/session.repository';
import { publicUser, type PublicUser, type UserRepository, type UserRow } from '../auth/user.repository';
import type { RequestContext } from '../../http/request-context';
import type { PermissionRow, UserPermissionRepository } from './user-permission.repository';

export interface AdminUserServiceDeps {
  users: UserRepository;
  permissions: UserPermissionRepository;
  sessions: SessionRepository;
  /** Mailed tokens: a suspension voids a pending email change. */
  tokens: AccountTokenRepository;
  auth: AuthService;
  guard: LoginGuard;
  events: AccountEvents;
}

export interface UserPage {
  users: PublicUser[];
  total: number;
  limit: number;
  offset: number;
}

/** Statuses from which a user can be suspended, and reactivated. */
const SUSPENDABLE = ['active', 'inactive', 'locked'] as const;
const REACTIVATABLE = ['suspended', 'inactive'] as const;

/**
 * What administrators do to users: search, view, suspend, reactivate,
 * unlock, roles and permissions. Every change records its catalog event
 * (auth + audit, triggered_by the administrator; docs/data-model.md) with the values before and after.
 */
export class AdminUserService {
  constructor(private readonly d: AdminUserServiceDeps) {}

  /** A page of users. Like viewing one account, listing them shows personal data: recorded as an audit READ naming whom it showed. */
  async search(query: { q?: string; status?: string; limit: number; offset: number }, ctx: RequestContext): Promise<UserPage> {
    const startedAt = performance.now();
    const { users, total } = await this.d.users.search(query);
    this.d.events.publisher?.publish({
      kind: 'audit',
      event_type: 'users_listed',
      action_type: 'READ',
      entity_type: 'USER_ACCOUNT',
      new_value: { q: query.q ?? null, status: query.status ?? null, limit: query.limit, offset: query.offset, total, user_ids: users.map((u) => u.id) },
      duration_ms: Math.round(performance.now() - startedAt),
      ...actorFields(ctx),
    });
    return { users: users.map(publicUser), total, limit: query.limit, offset: query.offset };
  }

  /** One user with their permissions. Viewing an account is recorded (an audit READ), as it shows personal data. */
  async get(id: string, ctx: RequestContext): Promise<PublicUser & { permissions: string[] }> {
    const startedAt = performance.now();
    const user = await this.mustExist(id);
    const permissions = (await this.d.permissions.list(id)).map((p) => p.permission);
    this.d.events.publisher?.publish({
      kind: 'audit',
      event_type: 'user_viewed',
      user_id: id,
      action_type: 'READ',
      entity_type: 'USER_ACCOUNT',
      entity_id: id,
      duration_ms: Math.round(performance.now() - startedAt),
      ...actorFields(ctx),
    });
    return { ...publicUser(user), permissions };
  }

  /** Suspends a user, ends their sessions and voids a pending email change; they cannot log in until reactivated. */
  async suspend(id: string, reason: string, ctx: RequestContext): Promise<PublicUser> {
    const startedAt = performance.now();
    const moved = await this.d.users.transition(id, SUSPENDABLE, 'suspended');
    if (!moved) throw await this.refusal(id, 'suspended');
    const ended = await this.d.sessions.endAll('user', id, 'account_suspended');
    // An email change asked for in one of those sessions (perhaps by whoever the account is suspended against) must not complete.
    await this.d.tokens.revokeAll(id, 'change_email');
    for (const s of ended) this.d.auth.recordSessionEnd(s, ctx);
    this.recordStatus('account_suspended', id, moved.before, 'suspended', reason, ctx, startedAt, { ended_sessions: ended.length });
    return publicUser(moved.after);
  }

  async reactivate(id: string, reason: string | undefined, ctx: RequestContext): Promise<PublicUser> {
    const startedAt = performance.now();
    const moved = await this.d.users.transition(id, REACTIVATABLE, 'active');
    if (!moved) throw await this.refusal(id, 'reactivated');
    this.recordStatus('account_reactivated', id, moved.before, 'active', reason, ctx, startedAt);
    return publicUser(moved.after);
  }

  /**
   * Lifts a login lock, whoever set it: the password lockout (users and the
   * email's login_throttle row) and a lock by the risk worker (lock_source
   * 'risk', status 'locked'), and restarts the escalation (lock_count 0 in
   * the event's new value). The risk worker may lock again on new evidence.
   */
  async unlock(id: string, reason: string | undefined, ctx: RequestContext): Promise<PublicUser & { was_locked: boolean }> {
    const startedAt = performance.now();
    const unlocked = await this.d.guard.unlockUser(id);
    if (!unlocked) throw new AppError('NOT_FOUND', `no user with id ${id}`);
    const user = unlocked.after;
    const before = unlocked.before;
    const wasLocked = before.status === 'locked' || (before.locked_until !== null && before.locked_until.getTime() > Date.now());
    const previous = {
      status: before.status,
      locked_until: before.locked_until?.toISOString() ?? null,
      lock_source: before.lock_source,
      failed_login_attempts: before.failed_login_attempts,
      lock_count: before.lock_count,
    };
    this.d.events.record({
      type: 'account_unlocked',
      userId: id,
      ctx,
      startedAt,
      details: { was_locked: wasLocked, previous_lock_source: before.lock_source, escalation_restarted: true },
      change: { previous, next: { status: user.status, locked_until: null, failed_login_attempts: 0, lock_count: 0 }, reason },
    });
    this.d.events.publisher?.publish({
      kind: 'security',
      event_type: 'ACCOUNT_UNLOCKED',
      severity_level: 'LOW',
      user_id: id,
      user_email: user.email,
      event_source: 'ADMIN_PANEL',
      event_description: `login lock lifted by an administrator${reason ? `: ${reason}` : ''}`.slice(0, 4000),
      ip_address: ctx.ip,
      resource_involved: `user:${id}`,
      action_taken: 'ACCOUNT_UNLOCKED',
      metadata: { ...previous, was_locked: wasLocked, unlocked_by_admin_id: ctx.actor?.id, request_id: ctx.requestId },
    });
    return { ...publicUser(user), was_locked: wasLocked };
  }

  async setRole(id: string, role: string, ctx: RequestContext): Promise<PublicUser> {
    const startedAt = performance.now();
    const changed = await this.d.users.update(id, { role });
    if (!changed) throw new AppError('NOT_FOUND', `no user with id ${id}`);
    if (changed.before.role !== changed.after.role) {
      this.d.events.record({
        type: 'role_changed',
        userId: id,
        ctx,
        startedAt,
        change: { previous: { role: changed.before.role }, next: { role: changed.after.role } },
      });
    }
    return publicUser(changed.after);
  }

  async permissions(id: string): Promise<PermissionRow[]> {
    await this.mustExist(id);
    return this.d.permissions.list(id);
  }

  /** Grants a permission; `created` is false (and nothing is recorded) when the user already had it. */
  async grant(id: string, permission: string, ctx: RequestContext): Promise<{ permission: PermissionRow; created: boolean }> {
    const startedAt = performance.now();
    await this.mustExist(id);
    const granted = await this.d.permissions.grant(id, permission, ctx.actor!.id);
    if (!granted) {
      const existing = (await this.d.permissions.list(id)).find((p) => p.permission === permission);
      if (existing) return { permission: existing, created: false };
      throw new AppError('CONFLICT', 'the permission changed meanwhile; try again');
    }
    this.d.events.record({
      type: 'permission_granted',
      userId: id,
      ctx,
      startedAt,
      change: { previous: null, next: { permission }, actionType: 'CREATE' },
    });
    return { permission: granted, created: true };
  }

  async revoke(id: string, permission: string, ctx: RequestContext): Promise<void> {
    const startedAt = performance.now();
    await this.mustExist(id);
    const revoked = await this.d.permissions.revoke(id, permission);
    if (!revoked) throw new AppError('NOT_FOUND', `this user does not have the permission ${permission}`);
    this.d.events.record({
      type: 'permission_revoked',
      userId: id,
      ctx,
      startedAt,
      change: {
        previous: { permission, granted_by: revoked.granted_by, granted_at: revoked.granted_at.toISOString() },
        next: null,
        actionType: 'DELETE',
      },
    });
  }

  private async mustExist(id: string): Promise<UserRow> {
    const user = await this.d.users.byId(id);
    if (!user) throw new AppError('NOT_FOUND', `no user with id ${id}`);
    return user;
  }

  /** Why a status transition did not happen: no such user, or a status it cannot leave that way. */
  private async refusal(id: string, verb: string): Promise<AppError> {
    const user = await this.d.users.byId(id);
    if (!user) return new AppError('NOT_FOUND', `no user with id ${id}`);
    return new AppError('CONFLICT', `this user is ${user.status} and cannot be ${verb}`);
  }

  /** A status change by an administrator: its specific event and the generic `status_changed`. */
  private recordStatus(
    type: 'account_suspended' | 'account_reactivated',
    userId: string,
    from: string,
    to: string,
    reason: string | undefined,
    ctx: RequestContext,
    startedAt: number,
    details: Record<string, unknown> = {},
  ): void {
    for (const eventType of [type, 'status_changed']) {
      this.d.events.record({
        type: eventType,
        userId,
        ctx,
        startedAt,
        details: { ...details, ...(reason ? { reason } : {}) },
        change: { previous: { status: from }, next: { status: to }, reason },
      });
    }
  }
}

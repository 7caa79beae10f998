import type { Pool } from 'pg';
import type { UserRow } from '../auth/user.repository';

type UserStatus = UserRow['status'];

/** A user's lock state before an unlock, for the event. */
export interface LockState {
  status: UserStatus;
  locked_until: Date | null;
  lock_source: string | null;
  failed_login_attempts: number;
}

export interface PermissionRow {
  user_id: string;
  permission: string;
  granted_by: string | null;
  granted_at: Date;
}

/**
 * The administrators' writes to users that must check and change in one
 * statement (a status transition, an unlock), and user_permissions.
 */
export class UserAdminRepository {
  constructor(private readonly pg: Pool) {}

  /**
   * Moves a user to `to` only if their status is one of `from`; returns the
   * row after with the status before, or null when the user is missing or in
   * another state (the caller tells which).
   */
  async transition(id: string, from: readonly UserStatus[], to: UserStatus): Promise<{ before: UserStatus; after: UserRow } | null> {
    const { rows } = await this.pg.query<UserRow & { before_status: UserStatus }>(
      `WITH before AS (SELECT id, status FROM users WHERE id = $1 FOR UPDATE)
       UPDATE users u SET status = $3, updated_at = now() FROM before
       WHERE u.id = before.id AND before.status = ANY($2::text[])
       RETURNING u.*, before.status AS before_status`,
      [id, from, to],
    );
    const row = rows[0];
    if (!row) return null;
    const { before_status, ...after } = row;
    return { before: before_status, after };
  }

  /**
   * Lifts every login lock on a user, whoever set it (the password lockout,
   * the risk worker, an administrator): locked_until, the failure count, the
   * lock source, and a `locked` status back to `active`. lock_count is kept,
   * so escalating lock durations remember earlier locks.
   */
  async unlock(id: string): Promise<{ before: LockState; after: UserRow } | null> {
    const { rows } = await this.pg.query<UserRow & { before: LockState }>(
      `WITH before AS (SELECT id, status, locked_until, lock_source, failed_login_attempts FROM users WHERE id = $1 FOR UPDATE)
       UPDATE users u SET
         locked_until = NULL,
         failed_login_attempts = 0,
         lock_source = NULL,
         lock_cleared_at = now(),
         status = CASE WHEN before.status = 'locked' THEN 'active' ELSE before.status END,
         updated_at = now()
       FROM before WHERE u.id = before.id
       RETURNING u.*, json_build_object('status', before.status, 'locked_until', before.locked_until,
                                        'lock_source', before.lock_source, 'failed_login_attempts', before.failed_login_attempts) AS before`,
      [id],
    );
    const row = rows[0];
    if (!row) return null;
    const { before, ...after } = row;
    return { before: { ...before, locked_until: before.locked_until ? new Date(before.locked_until) : null }, after };
  }

  async permissions(userId: string): Promise<PermissionRow[]> {
    return (await this.pg.query<PermissionRow>('SELECT * FROM user_permissions WHERE user_id = $1 ORDER BY permission', [userId])).rows;
  }

  /** Grants a permission; null when the user already had it. */
  async grant(userId: string, permission: string, adminId: string): Promise<PermissionRow | null> {
    const { rows } = await this.pg.query<PermissionRow>(
      `INSERT INTO user_permissions (user_id, permission, granted_by) VALUES ($1, $2, $3) ON CONFLICT (user_id, permission) DO NOTHING RETURNING *`,
      [userId, permission, adminId],
    );
    return rows[0] ?? null;
  }

  /** Revokes a permission; null when the user did not have it. */
  async revoke(userId: string, permission: string): Promise<PermissionRow | null> {
    const { rows } = await this.pg.query<PermissionRow>('DELETE FROM user_permissions WHERE user_id = $1 AND permission = $2 RETURNING *', [userId, permission]);
    return rows[0] ?? null;
  }
}

import type { Pool } from 'pg';

export interface PermissionRow {
  user_id: string;
  permission: string;
  granted_by: string | null;
  granted_at: Date;
}

/** user_permissions: what administrators grant to users. */
export class UserPermissionRepository {
  constructor(private readonly pg: Pool) {}

  async list(userId: string): Promise<PermissionRow[]> {
    return (await this.pg.query<PermissionRow>('SELECT * FROM user_permissions WHERE user_id = $1 ORDER BY permission', [userId])).rows;
  }

  /** Grants a permission; null when the user already had it. */
  async grant(userId: string, permission: string, adminId: string): Promise<PermissionRow | null> {
    const { rows } = await this.pg.query<PermissionRow>(`INSERT INTO user_permissions (user_id, permission, granted_by) VALUES ($1, $2, $3) ON CONFLICT (user_id, permission) DO NOTHING RETURNING *`, [
      userId,
      permission,
      adminId,
    ]);
    return rows[0] ?? null;
  }

  /** Revokes a permission; null when the user did not have it. */
  async revoke(userId: string, permission: string): Promise<PermissionRow | null> {
    const { rows } = await this.pg.query<PermissionRow>('DELETE FROM user_permissions WHERE user_id = $1 AND permission = $2 RETURNING *', [userId, permission]);
    return rows[0] ?? null;
  }
}

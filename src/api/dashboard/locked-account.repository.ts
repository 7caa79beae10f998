import type { Pool } from 'pg';

/** A user who cannot log in right now because of a login lock. */
export interface LockedAccount {
  id: string;
  email: string;
  first_name: string | null;
  last_name: string | null;
  status: string;
  locked_until: Date | null;
  /** Who set it: 'password' (the API's lockout), 'risk' (the risk worker), 'admin'. */
  lock_source: string | null;
  failed_login_attempts: number;
  lock_count: number;
}

/** Users under a login lock now: status 'locked' (until lifted) or locked_until in the future (migration 009 indexes both). */
export class LockedAccountRepository {
  constructor(private readonly pg: Pool) {}

  /** Locks ending last first (a 'locked' status with no end comes first); `limit` rows from `offset`. */
  async list(limit: number, offset: number): Promise<LockedAccount[]> {
    const { rows } = await this.pg.query<LockedAccount>(
      `SELECT id, email, first_name, last_name, status, locked_until, lock_source, failed_login_attempts, lock_count
       FROM users
       WHERE (locked_until IS NOT NULL OR status = 'locked') AND (status = 'locked' OR locked_until > now())
       ORDER BY locked_until DESC NULLS FIRST, id LIMIT $1 OFFSET $2`,
      [limit, offset],
    );
    return rows;
  }
}

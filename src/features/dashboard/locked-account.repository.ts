import type { Pool } from 'pg';
import { OWN_SOURCE_APP } from '../../domain/own-source-app';

/** An account, of this API or of another app, that cannot log in right now because of a login lock. */
export interface LockedAccount {
  /** The app whose account it is: 'auditflow' for this API's own users. */
  source_app: string;
  /** The user's id (a UUID here, whatever id the app sent otherwise). */
  id: string;
  /** Only this API's own users have an email, a name and a status here. */
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  status: string | null;
  locked_until: Date | null;
  /** Who set it: 'password' (the API's lockout), 'risk' (the risk worker), 'admin'. */
  lock_source: string | null;
  failed_login_attempts: number | null;
  lock_count: number;
}

/**
 * Accounts under a login lock now, from both places a lock lives: this API's
 * users (status 'locked' or locked_until in the future, migration 009a indexes
 * both) and every other app's accounts in risk_subjects (the risk worker's
 * locks). Showing only the first said "No account is locked" while other
 * apps had dozens.
 */
export class LockedAccountRepository {
  constructor(private readonly pg: Pool) {}

  /** Locks ending last first (a 'locked' status with no end comes first); `limit` rows from `offset`; `app` keeps one app's. */
  async list(limit: number, offset: number, app?: string): Promise<LockedAccount[]> {
    const { rows } = await this.pg.query<LockedAccount>(
      `SELECT * FROM (
         SELECT $4::text AS source_app, id::text AS id, email, first_name, last_name, status, locked_until, lock_source, failed_login_attempts, lock_count
         FROM users
         WHERE (locked_until IS NOT NULL OR status = 'locked') AND (status = 'locked' OR locked_until > now())
         UNION ALL
         SELECT source_app, subject_id, NULL, NULL, NULL, NULL, locked_until, 'risk', NULL, lock_count
         FROM risk_subjects
         WHERE locked_until > now() AND source_app <> $4
       ) locks
       WHERE $3::text IS NULL OR source_app = $3
       ORDER BY locked_until DESC NULLS FIRST, source_app, id LIMIT $1 OFFSET $2`,
      [limit, offset, app ?? null, OWN_SOURCE_APP],
    );
    return rows;
  }

  /** Apps that have had a lock or a risk decision: with the event tables', the choices of the dashboard's app filter. */
  async apps(): Promise<string[]> {
    const { rows } = await this.pg.query<{ app: string }>(`SELECT app FROM api_keys WHERE app IS NOT NULL UNION SELECT source_app FROM risk_subjects UNION SELECT $1 ORDER BY 1`, [OWN_SOURCE_APP]);
    return rows.map((r) => r.app);
  }
}

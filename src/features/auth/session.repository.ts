import type { Pool, PoolClient } from 'pg';

export interface SessionRow {
  id: string;
  session_id: string;
  token_hash: string;
  subject_type: 'user' | 'admin';
  user_id: string;
  device_fingerprint: string | null;
  ip_address: string | null;
  user_agent: string | null;
  location: Record<string, unknown> | null;
  created_at: Date;
  last_activity_at: Date;
  idle_expires_at: Date;
  expires_at: Date;
  is_active: boolean;
  logout_reason: string | null;
  logout_at: Date | null;
}

export type NewSession = Pick<SessionRow, 'session_id' | 'token_hash' | 'subject_type' | 'user_id' | 'device_fingerprint' | 'ip_address' | 'user_agent'> & {
  idleMinutes: number;
  absoluteMinutes: number;
};

/** user_sessions: one row per login, found by the SHA-256 of its bearer token. */
export class SessionRepository {
  constructor(private readonly pg: Pool) {}

  /**
   * The expiries are PostgreSQL's now() plus the timeouts, on the clock that
   * `touch` checks them by: computed on this host's clock, a clock an hour
   * behind made every new session expire at once (the wall-clock fault row).
   */
  async insert(s: NewSession, db: Pool | PoolClient = this.pg): Promise<SessionRow> {
    const { rows } = await db.query<SessionRow>(
      `INSERT INTO user_sessions (session_id, token_hash, subject_type, user_id, device_fingerprint, ip_address, user_agent, idle_expires_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(mins => LEAST($8::int, $9::int)), now() + make_interval(mins => $9::int)) RETURNING *`,
      [s.session_id, s.token_hash, s.subject_type, s.user_id, s.device_fingerprint, s.ip_address, s.user_agent, s.idleMinutes, s.absoluteMinutes],
    );
    return rows[0]!;
  }

  /**
   * The live session for a token, its idle expiry pushed forward; null if
   * unknown, ended or expired, or if its user is suspended or deleted. Both
   * end the user's sessions, but a login whose session row lands just after
   * would outlive them: the status is read here too. (A lock by failed
   * passwords keeps the owner's sessions on purpose; administrators' routes
   * read their status on each request and answer why.)
   */
  async touch(tokenHash: string, idleMinutes: number): Promise<SessionRow | null> {
    const { rows } = await this.pg.query<SessionRow>(
      `UPDATE user_sessions s
         SET last_activity_at = now(), idle_expires_at = LEAST(expires_at, now() + make_interval(mins => $2))
       WHERE token_hash = $1 AND is_active AND expires_at > now() AND idle_expires_at > now()
         AND NOT EXISTS (SELECT 1 FROM users u WHERE s.subject_type = 'user' AND u.id = s.user_id AND u.status IN ('suspended', 'deleted'))
       RETURNING s.*`,
      [tokenHash, idleMinutes],
    );
    return rows[0] ?? null;
  }

  async end(sessionId: string, reason: string): Promise<SessionRow | null> {
    const { rows } = await this.pg.query<SessionRow>(`UPDATE user_sessions SET is_active = false, logout_reason = $2, logout_at = now() WHERE session_id = $1 AND is_active RETURNING *`, [
      sessionId,
      reason,
    ]);
    return rows[0] ?? null;
  }

  /** Ends every live session of a subject, optionally sparing one. */
  async endAll(subjectType: 'user' | 'admin', userId: string, reason: string, exceptSessionId?: string, db: Pool | PoolClient = this.pg): Promise<SessionRow[]> {
    const { rows } = await db.query<SessionRow>(
      `UPDATE user_sessions SET is_active = false, logout_reason = $3, logout_at = now()
       WHERE subject_type = $1 AND user_id = $2 AND is_active AND ($4::text IS NULL OR session_id <> $4) RETURNING *`,
      [subjectType, userId, reason, exceptSessionId ?? null],
    );
    return rows;
  }
}

import type { Pool } from 'pg';

/** A guest session row: what the API hands back of it. */
export interface GuestSession {
  id: string;
  expired_at: Date;
}

/** guest_users (todo_app_guestuser): anonymous sessions that expire after inactivity. */
export class GuestUserRepository {
  constructor(private readonly pg: Pool) {}

  async insert(sessionId: string, ip: string | null, userAgent: string | null, hours: number): Promise<GuestSession & { created_at: Date }> {
    const { rows } = await this.pg.query<GuestSession & { created_at: Date }>(
      `INSERT INTO guest_users (session_id, ip_address, user_agent, expired_at) VALUES ($1, $2, $3, now() + make_interval(hours => $4))
       RETURNING id, expired_at, created_at`,
      [sessionId, ip, userAgent, hours],
    );
    return rows[0]!;
  }

  /** Records activity and pushes the expiry `hours` ahead; null when unknown or expired. */
  async touch(sessionId: string, hours: number): Promise<GuestSession | null> {
    const { rows } = await this.pg.query<GuestSession>(
      `UPDATE guest_users SET last_activity_at = now(), expired_at = now() + make_interval(hours => $2)
       WHERE session_id = $1 AND expired_at > now() RETURNING id, expired_at`,
      [sessionId, hours],
    );
    return rows[0] ?? null;
  }
}

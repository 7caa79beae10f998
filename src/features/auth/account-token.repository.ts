import type { Pool, PoolClient } from 'pg';

export type TokenPurpose = 'verify_email' | 'reset_password' | 'change_email' | 'login_challenge';

/**
 * What a new password voids: a reset link, a pending email change and a
 * login code were all issued under the old one, perhaps to whoever knew it.
 */
export const OLD_PASSWORD_TOKENS: readonly TokenPurpose[] = ['reset_password', 'change_email', 'login_challenge'];

export interface AccountTokenRow {
  token_hash: string;
  purpose: TokenPurpose;
  user_id: string;
  payload: string | null;
  expires_at: Date;
}

/** One-time mailed tokens, stored as SHA-256; consuming one is a single atomic UPDATE. */
export class AccountTokenRepository {
  constructor(private readonly pg: Pool) {}

  async insert(tokenHash: string, purpose: TokenPurpose, userId: string, ttlMinutes: number, payload: string | null = null): Promise<void> {
    await this.pg.query(`INSERT INTO account_tokens (token_hash, purpose, user_id, payload, expires_at) VALUES ($1, $2, $3, $4, now() + make_interval(mins => $5))`, [
      tokenHash,
      purpose,
      userId,
      payload,
      ttlMinutes,
    ]);
  }

  /** Marks the token used and returns it, if it exists, is unused, unexpired and for this purpose. */
  async consume(tokenHash: string, purpose: TokenPurpose, db: Pool | PoolClient = this.pg): Promise<AccountTokenRow | null> {
    const { rows } = await db.query<AccountTokenRow>(
      `UPDATE account_tokens SET used_at = now()
       WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()
       RETURNING token_hash, purpose, user_id, payload, expires_at`,
      [tokenHash, purpose],
    );
    return rows[0] ?? null;
  }

  /** Voids a user's unused tokens of these purposes (a new reset link voids the old ones). */
  async revokeAll(userId: string, purposes: TokenPurpose | readonly TokenPurpose[], db: Pool | PoolClient = this.pg): Promise<void> {
    await db.query(`UPDATE account_tokens SET used_at = now() WHERE user_id = $1 AND purpose = ANY($2::text[]) AND used_at IS NULL`, [userId, typeof purposes === 'string' ? [purposes] : purposes]);
  }
}

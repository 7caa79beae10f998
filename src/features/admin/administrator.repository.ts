import type { Pool, PoolClient } from 'pg';

type Db = Pool | PoolClient;

/** administrators (todo_app_administrator). */
export interface AdministratorRow {
  id: string;
  email: string;
  password_hash: string;
  first_name: string | null;
  last_name: string | null;
  /** 1-5; 5 is full access (see admin-levels.ts). */
  admin_level: number;
  status: 'active' | 'inactive' | 'suspended';
  email_verified: boolean;
  email_verified_at: Date | null;
  last_login_at: Date | null;
  password_changed_at: Date | null;
  failed_login_attempts: number;
  locked_until: Date | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

/** The administrator as the API and CLI show it: never the password hash. */
export type PublicAdministrator = Omit<AdministratorRow, 'password_hash'>;

export function publicAdministrator(row: AdministratorRow): PublicAdministrator {
  const { password_hash: _hidden, ...rest } = row;
  return rest;
}

export interface NewAdministrator {
  email: string;
  passwordHash: string;
  adminLevel: number;
  firstName: string | null;
  lastName: string | null;
}

/** administrators; their lock columns (failed_login_attempts, locked_until) are AccountLockRepository's. */
export class AdministratorRepository {
  constructor(private readonly pg: Pool) {}

  /** Creates an administrator, verified (an operator created it); null when the email is taken. */
  async insert(a: NewAdministrator): Promise<AdministratorRow | null> {
    const { rows } = await this.pg.query<AdministratorRow>(
      `INSERT INTO administrators (email, password_hash, admin_level, first_name, last_name, email_verified, email_verified_at)
       VALUES ($1, $2, $3, $4, $5, true, now()) ON CONFLICT (email) DO NOTHING RETURNING *`,
      [a.email, a.passwordHash, a.adminLevel, a.firstName, a.lastName],
    );
    return rows[0] ?? null;
  }

  async byId(id: string, db: Db = this.pg): Promise<AdministratorRow | null> {
    return (await db.query<AdministratorRow>('SELECT * FROM administrators WHERE id = $1', [id])).rows[0] ?? null;
  }

  async byEmail(email: string, db: Db = this.pg): Promise<AdministratorRow | null> {
    return (await db.query<AdministratorRow>('SELECT * FROM administrators WHERE email = $1', [email])).rows[0] ?? null;
  }

  /**
   * Moves the administrator with this email to `to` if their status is one
   * of `from`; the row after with the status before, or null when there is
   * no such administrator or they are in another state (the caller tells which).
   */
  async transition(email: string, from: readonly AdministratorRow['status'][], to: AdministratorRow['status']): Promise<{ before: AdministratorRow['status']; after: AdministratorRow } | null> {
    const { rows } = await this.pg.query<AdministratorRow & { before_status: AdministratorRow['status'] }>(
      `WITH before AS (SELECT id, status FROM administrators WHERE email = $1 FOR UPDATE)
       UPDATE administrators a SET status = $3, updated_at = now() FROM before
       WHERE a.id = before.id AND before.status = ANY($2::text[])
       RETURNING a.*, before.status AS before_status`,
      [email, from, to],
    );
    const row = rows[0];
    if (!row) return null;
    const { before_status, ...after } = row;
    return { before: before_status, after };
  }

  /** Sets an administrator's password hash; the row before and after, or null when there is no such administrator. */
  async setPassword(id: string, passwordHash: string): Promise<{ before: Pick<AdministratorRow, 'password_changed_at'>; after: AdministratorRow } | null> {
    const { rows } = await this.pg.query<AdministratorRow & { before_changed_at: Date | null }>(
      `WITH before AS (SELECT id, password_changed_at FROM administrators WHERE id = $1 FOR UPDATE)
       UPDATE administrators a SET password_hash = $2, password_changed_at = now(), updated_at = now() FROM before
       WHERE a.id = before.id
       RETURNING a.*, before.password_changed_at AS before_changed_at`,
      [id, passwordHash],
    );
    const row = rows[0];
    if (!row) return null;
    const { before_changed_at, ...after } = row;
    return { before: { password_changed_at: before_changed_at }, after };
  }

  async list(): Promise<AdministratorRow[]> {
    return (await this.pg.query<AdministratorRow>('SELECT * FROM administrators ORDER BY created_at, email')).rows;
  }
}

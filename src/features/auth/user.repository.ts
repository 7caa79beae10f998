import type { Pool, PoolClient } from 'pg';
import { UUID_PATTERN } from '../../schemas/fields';

type Db = Pool | PoolClient;

/** users (todo_app_authenticateduser). */
export interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  first_name: string | null;
  last_name: string | null;
  status: 'active' | 'inactive' | 'locked' | 'suspended' | 'deleted';
  role: string;
  email_verified: boolean;
  email_verified_at: Date | null;
  last_login_at: Date | null;
  password_changed_at: Date | null;
  failed_login_attempts: number;
  locked_until: Date | null;
  lock_source: string | null;
  lock_cleared_at?: Date | null;
  lock_count: number;
  /** The risk worker asked for a step-up: the next login from an unfamiliar device or network confirms a mailed code. */
  step_up_required_at?: Date | null;
  step_up_cleared_at?: Date | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

/** The user as the API shows it: never the password hash. */
export type PublicUser = Omit<UserRow, 'password_hash'>;

export function publicUser(row: UserRow): PublicUser {
  const { password_hash: _hidden, ...rest } = row;
  return rest;
}

/** The lock columns: only AccountLockRepository writes them. */
type LockColumn = 'failed_login_attempts' | 'locked_until' | 'lock_source' | 'lock_cleared_at' | 'lock_count';

export type UserChanges = Partial<Omit<UserRow, 'id' | 'created_at' | LockColumn>>;

/** users, but for their lock columns (AccountLockRepository). */
export class UserRepository {
  constructor(private readonly pg: Pool) {}

  async insert(email: string, passwordHash: string, firstName: string | null, lastName: string | null): Promise<UserRow | null> {
    const { rows } = await this.pg.query<UserRow>(
      `INSERT INTO users (email, password_hash, first_name, last_name) VALUES ($1, $2, $3, $4)
       ON CONFLICT (email) DO NOTHING RETURNING *`,
      [email, passwordHash, firstName, lastName],
    );
    return rows[0] ?? null;
  }

  async byId(id: string, db: Db = this.pg): Promise<UserRow | null> {
    return (await db.query<UserRow>('SELECT * FROM users WHERE id = $1', [id])).rows[0] ?? null;
  }

  async byEmail(email: string, db: Db = this.pg, forUpdate = false): Promise<UserRow | null> {
    return (await db.query<UserRow>(`SELECT * FROM users WHERE email = $1${forUpdate ? ' FOR UPDATE' : ''}`, [email])).rows[0] ?? null;
  }

  /** Updates the given columns and returns the row before and after, in one statement. */
  async update(id: string, changes: UserChanges, db: Db = this.pg): Promise<{ before: UserRow; after: UserRow } | null> {
    const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
    if (entries.length === 0) {
      const row = await this.byId(id, db);
      return row ? { before: row, after: row } : null;
    }
    const sets = entries.map(([k], i) => `${k} = $${i + 2}`).join(', ');
    const { rows } = await db.query<UserRow & { before: UserRow }>(
      `WITH before AS (SELECT * FROM users WHERE id = $1 FOR UPDATE)
       UPDATE users u SET ${sets}, updated_at = now() FROM before WHERE u.id = before.id
       RETURNING u.*, row_to_json(before.*) AS before`,
      [id, ...entries.map(([, v]) => v)],
    );
    const row = rows[0];
    if (!row) return null;
    const { before, ...after } = row;
    return { before: reviveDates(before), after: after as UserRow };
  }

  /**
   * Moves a user to `to` only if their status is one of `from`; returns the
   * row after with the status before, or null when the user is missing or in
   * another state (the caller tells which).
   */
  async transition(id: string, from: readonly UserRow['status'][], to: UserRow['status']): Promise<{ before: UserRow['status']; after: UserRow } | null> {
    const { rows } = await this.pg.query<UserRow & { before_status: UserRow['status'] }>(
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
   * The risk worker asks a built-in user's next login from an unfamiliar
   * device or network for a mailed code, unless a step-up was passed after
   * the event (a late event must not ask again). True when this call asked.
   */
  async requireStepUp(userId: string, eventAt: Date): Promise<boolean> {
    if (!UUID_PATTERN.test(userId)) return false;
    const { rowCount } = await this.pg.query(
      `UPDATE users SET step_up_required_at = now()
       WHERE id = $1 AND step_up_required_at IS NULL AND deleted_at IS NULL AND (step_up_cleared_at IS NULL OR step_up_cleared_at < $2)`,
      [userId, eventAt],
    );
    return rowCount === 1;
  }

  async search(query: { q?: string; status?: string; limit: number; offset: number }): Promise<{ users: UserRow[]; total: number }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.q) {
      params.push(`%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.push(`(email ILIKE $${params.length} OR first_name ILIKE $${params.length} OR last_name ILIKE $${params.length})`);
    }
    if (query.status) {
      params.push(query.status);
      where.push(`status = $${params.length}`);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = Number((await this.pg.query<{ n: string }>(`SELECT count(*) AS n FROM users ${clause}`, params)).rows[0]!.n);
    params.push(query.limit, query.offset);
    const { rows } = await this.pg.query<UserRow>(`SELECT * FROM users ${clause} ORDER BY created_at DESC, id LIMIT $${params.length - 1} OFFSET $${params.length}`, params);
    return { users: rows, total };
  }
}

/** row_to_json turns timestamps into strings; bring them back to Dates. */
function reviveDates(row: UserRow): UserRow {
  const out = { ...row } as Record<string, unknown>;
  for (const k of ['email_verified_at', 'last_login_at', 'password_changed_at', 'locked_until', 'created_at', 'updated_at', 'deleted_at']) {
    if (typeof out[k] === 'string') out[k] = new Date(out[k] as string);
  }
  return out as unknown as UserRow;
}

import type { Pool } from 'pg';
import { UUID_PATTERN } from '../../schemas/fields';

export const API_KEY_SCOPES = ['ingest', 'query', 'reports', 'admin', 'risk', 'retention'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export interface ApiKeyRecord {
  id: string;
  name: string;
  /** The sending app: source_app of its events; several keys may share one. */
  app: string;
  scopes: ApiKeyScope[];
  /** The app shares IP reputation: its events feed the IP windows and blocks of our own login. */
  trusted_ip_reputation: boolean;
  /** The apps whose data the key may read; null: every app. */
  apps: string[] | null;
  key_prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface ApiKeyOptions {
  /** The app's events feed the shared IP windows and blocks (default false: only its own decisions). */
  trustedIpReputation?: boolean;
  /** Restricts what the key reads to these apps' data (default: every app). */
  apps?: string[];
}

const COLUMNS = 'id, name, app, scopes, trusted_ip_reputation, apps, key_prefix, created_at, last_used_at, revoked_at';

/** api_keys in PostgreSQL. */
export class ApiKeyRepository {
  constructor(private readonly pg: Pool) {}

  async insert(name: string, app: string, scopes: ApiKeyScope[], keyHash: string, keyPrefix: string, options: ApiKeyOptions = {}): Promise<ApiKeyRecord> {
    const { rows } = await this.pg.query<ApiKeyRecord>(
      `INSERT INTO api_keys (name, app, scopes, key_hash, key_prefix, trusted_ip_reputation, apps) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [name, app, scopes, keyHash, keyPrefix, options.trustedIpReputation ?? false, options.apps ?? null],
    );
    return rows[0]!;
  }

  async findActiveByHash(keyHash: string): Promise<ApiKeyRecord | null> {
    const { rows } = await this.pg.query<ApiKeyRecord>(`UPDATE api_keys SET last_used_at = now() WHERE key_hash = $1 AND revoked_at IS NULL RETURNING ${COLUMNS}`, [keyHash]);
    return rows[0] ?? null;
  }

  /** Apps with an active key that the operator marked trusted for shared IP reputation. */
  async trustedIpReputationApps(): Promise<string[]> {
    const { rows } = await this.pg.query<{ app: string }>(`SELECT DISTINCT app FROM api_keys WHERE trusted_ip_reputation AND revoked_at IS NULL`);
    return rows.map((r) => r.app);
  }

  async list(): Promise<ApiKeyRecord[]> {
    const { rows } = await this.pg.query<ApiKeyRecord>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at`);
    return rows;
  }

  /** Revokes the key with this id, or every active key with this name. */
  async revoke(nameOrId: string): Promise<ApiKeyRecord[]> {
    const isId = UUID_PATTERN.test(nameOrId);
    const { rows } = await this.pg.query<ApiKeyRecord>(`UPDATE api_keys SET revoked_at = now() WHERE ${isId ? 'id = $1::uuid' : 'name = $1'} AND revoked_at IS NULL RETURNING ${COLUMNS}`, [nameOrId]);
    return rows;
  }
}

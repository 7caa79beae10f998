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
  key_prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = 'id, name, app, scopes, key_prefix, created_at, last_used_at, revoked_at';

/** api_keys in PostgreSQL. */
export class ApiKeyRepository {
  constructor(private readonly pg: Pool) {}

  async insert(name: string, app: string, scopes: ApiKeyScope[], keyHash: string, keyPrefix: string): Promise<ApiKeyRecord> {
    const { rows } = await this.pg.query<ApiKeyRecord>(
      `INSERT INTO api_keys (name, app, scopes, key_hash, key_prefix) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [name, app, scopes, keyHash, keyPrefix],
    );
    return rows[0]!;
  }

  async findActiveByHash(keyHash: string): Promise<ApiKeyRecord | null> {
    const { rows } = await this.pg.query<ApiKeyRecord>(
      `UPDATE api_keys SET last_used_at = now() WHERE key_hash = $1 AND revoked_at IS NULL RETURNING ${COLUMNS}`,
      [keyHash],
    );
    return rows[0] ?? null;
  }

  async list(): Promise<ApiKeyRecord[]> {
    const { rows } = await this.pg.query<ApiKeyRecord>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at`);
    return rows;
  }

  /** Revokes the key with this id, or every active key with this name. */
  async revoke(nameOrId: string): Promise<ApiKeyRecord[]> {
    const isId = UUID_PATTERN.test(nameOrId);
    const { rows } = await this.pg.query<ApiKeyRecord>(
      `UPDATE api_keys SET revoked_at = now() WHERE ${isId ? 'id = $1::uuid' : 'name = $1'} AND revoked_at IS NULL RETURNING ${COLUMNS}`,
      [nameOrId],
    );
    return rows;
  }
}

import { OWN_SOURCE_APP } from '../../domain/own-source-app';
import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../../domain/sha256';
import { AppError } from '../../lib/errors/app-error';
import { isPgUnavailable } from '../../lib/pg';
import { API_KEY_SCOPES, type ApiKeyOptions, type ApiKeyRecord, type ApiKeyRepository, type ApiKeyScope } from './api-key.repository';

export interface AuthenticatedKey {
  id: string;
  name: string;
  /** The sending app: recorded as `source_app` on every event it posts, and the key of its risk state and webhook. */
  app: string;
  scopes: ApiKeyScope[];
  /** The apps whose data the key may read; null: every app. */
  apps: string[] | null;
}

/** Key names and app names: what `api_keys.name`, `app` and `apps` accept (migrations 011, 013). */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

export function hashApiKey(key: string): string {
  return sha256Hex(key);
}

export function parseScopes(text: string): ApiKeyScope[] {
  const scopes = [
    ...new Set(
      text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  const bad = scopes.filter((s) => !(API_KEY_SCOPES as readonly string[]).includes(s));
  if (scopes.length === 0 || bad.length > 0) {
    throw new AppError('VALIDATION_FAILED', `scopes must be a comma-separated list of ${API_KEY_SCOPES.join(', ')}${bad.length ? ` (unknown: ${bad.join(', ')})` : ''}`);
  }
  return scopes as ApiKeyScope[];
}

/**
 * Creates, checks and revokes API keys. Checked keys are cached for a few
 * seconds so the ingest path does not hit PostgreSQL on every request. A
 * revocation anywhere empties the cache at once (ApiKeyRevocationListener);
 * `cacheMs` bounds a revocation that went unheard (the listener's connection
 * was down).
 *
 * While PostgreSQL is unreachable, a key that was valid when last checked
 * stays valid for up to `staleMs` more, so other apps' ingest (which needs
 * only Redis) goes on through a database restart. Nobody can revoke a key
 * while the database is down, so the only revocation this can delay is one
 * made just before the outage, by at most `staleMs`. Unknown keys are not
 * guessed at: they get 503.
 */
export class ApiKeyService {
  private readonly cache = new Map<string, { key: AuthenticatedKey | null; until: number }>();

  constructor(
    private readonly repository: ApiKeyRepository,
    private readonly cacheMs = 5000,
    private readonly staleMs = 15 * 60_000,
  ) {}

  /** Returns the new key's record and the key itself, which is shown once and never stored. */
  async create(name: string, scopes: ApiKeyScope[], app: string = name, options: ApiKeyOptions = {}): Promise<{ record: ApiKeyRecord; key: string }> {
    if (options.apps && options.apps.length === 0) throw new AppError('VALIDATION_FAILED', 'apps must name at least one app');
    for (const [label, value] of [['name', name], ['app', app], ...(options.apps ?? []).map((a) => ['apps', a] as const)] as const) {
      if (!NAME_PATTERN.test(value)) {
        throw new AppError('VALIDATION_FAILED', `${label} must be 1-100 letters, digits, dot, dash or underscore, starting with a letter or digit`);
      }
    }
    // The app is the source_app of what the key sends; our own API's events (and its users' risk) must not be forgeable.
    if (app.toLowerCase() === OWN_SOURCE_APP) throw new AppError('VALIDATION_FAILED', `"${OWN_SOURCE_APP}" is reserved for auditflow's own events`);
    const key = `af_${randomBytes(32).toString('base64url')}`;
    const record = await this.repository.insert(name, app, scopes, hashApiKey(key), key.slice(0, 10), options);
    return { record, key };
  }

  async authenticate(key: string): Promise<AuthenticatedKey | null> {
    const hash = hashApiKey(key);
    const cached = this.cache.get(hash);
    // performance.now(): a monotonic clock, so a wall clock stepped back cannot keep a revoked key cached for an hour.
    if (cached && cached.until > performance.now()) return cached.key;
    let record: ApiKeyRecord | null;
    try {
      record = await this.repository.findActiveByHash(hash);
    } catch (error) {
      if (cached?.key && isPgUnavailable(error) && cached.until + this.staleMs > performance.now()) return cached.key;
      throw error;
    }
    const result = record ? { id: record.id, name: record.name, app: record.app, scopes: record.scopes, apps: record.apps } : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { key: result, until: performance.now() + this.cacheMs });
    return result;
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.repository.list();
  }

  async revoke(nameOrId: string): Promise<ApiKeyRecord[]> {
    const revoked = await this.repository.revoke(nameOrId);
    this.forgetCached();
    return revoked;
  }

  /** Forgets every cached key: one was revoked (ApiKeyRevocationListener hears it from any process). */
  forgetCached(): void {
    this.cache.clear();
  }
}

import type { ApiKeyRecord, ApiKeyScope } from '../api-keys/api-key.repository';
import type { ApiKeyService } from '../api-keys/api-key.service';
import { AppError } from '../../lib/errors/app-error';
import { requestActor, type PrivilegedActionAuditor } from '../audit/privileged-action-auditor';
import { apiKeyCreated, apiKeyRevoked } from '../audit/privileged-actions';
import type { RequestContext } from '../../http/request-context';

/** An API key as administrators see it: its record, which never holds the key or its hash (api-key.repository COLUMNS). */
export type PublicApiKey = ApiKeyRecord;

export interface NewApiKey {
  name: string;
  /** Default: the name. */
  app?: string;
  scopes: ApiKeyScope[];
  apps?: string[];
  trusted_ip_reputation: boolean;
}

/**
 * API keys through the admin API: the same creation, validation and
 * revocation as `auditflow apikey` (ApiKeyService), and the same audit
 * events (api_key_created, api_key_revoked), with the administrator as
 * the actor. Revoking through the API's own key service drops its cache,
 * so a revoked key is refused at once by this process.
 */
export class ApiKeyAdminService {
  constructor(
    private readonly keys: ApiKeyService,
    private readonly audit: PrivilegedActionAuditor,
  ) {}

  list(): Promise<PublicApiKey[]> {
    return this.keys.list();
  }

  /** The new key's record, and the key itself: shown in this answer only, never stored. */
  async create(input: NewApiKey, ctx: RequestContext): Promise<{ api_key: PublicApiKey; key: string }> {
    const { record, key } = await this.keys.create(input.name, input.scopes, input.app ?? input.name, {
      trustedIpReputation: input.trusted_ip_reputation,
      ...(input.apps ? { apps: input.apps } : {}),
    });
    this.audit.record(requestActor(ctx), apiKeyCreated(record));
    return { api_key: record, key };
  }

  /** Revokes one active key by id. */
  async revoke(id: string, ctx: RequestContext): Promise<PublicApiKey> {
    const [revoked] = await this.keys.revoke(id);
    if (!revoked) throw new AppError('NOT_FOUND', `no active API key ${id}`);
    this.audit.record(requestActor(ctx), apiKeyRevoked(revoked));
    return revoked;
  }
}

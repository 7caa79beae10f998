import { Client } from 'pg';
import type { Logger } from '../../lib/logger';

/** The channel migration 018's trigger notifies, with the key's id, whatever revoked or deleted the key. */
export const API_KEY_REVOKED_CHANNEL = 'api_key_revoked';

/**
 * Hears every revocation of an API key, by any process or by SQL, and has
 * this process forget the keys it cached: a revoked key is refused from the
 * next request, not API_KEY_CACHE_MS later. One dedicated connection per API
 * process (LISTEN needs a session of its own, outside the pool).
 *
 * While the connection is down a revocation can go unheard, so the cache's
 * own time limit still applies, and the cache is forgotten again each time
 * the connection comes back.
 */
export class ApiKeyRevocationListener {
  private client?: Client;
  private retry?: NodeJS.Timeout;
  private stopped = false;
  private lost = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly forget: () => void,
    private readonly logger: Logger,
    private readonly retryMs = 1000,
  ) {}

  /** Listens from now on. Never throws: an unreachable server is retried in the background. */
  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.databaseUrl, connectionTimeoutMillis: 5000 });
    // A lost connection emits 'error' and then 'end'; 'end' reconnects.
    client.on('error', () => undefined);
    client.on('notification', () => this.forget());
    client.on('end', () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.connectionLost();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${API_KEY_REVOKED_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      this.connectionLost(error);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    // What was revoked while nobody listened was not heard.
    this.forget();
    if (this.lost) this.logger.info('listening for API key revocations again');
    this.lost = false;
  }

  private connectionLost(error?: unknown): void {
    if (this.stopped) return;
    if (!this.lost) this.logger.warn({ err: error }, 'not hearing API key revocations; cached keys expire after API_KEY_CACHE_MS until PostgreSQL is back');
    this.lost = true;
    this.retry = setTimeout(() => void this.connect(), this.retryMs);
    this.retry.unref();
  }
}

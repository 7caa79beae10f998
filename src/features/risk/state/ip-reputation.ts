import { OWN_SOURCE_APP } from '../../../domain/own-source-app';

/** Reads the apps an operator trusts for shared IP reputation. */
export interface TrustedAppsSource {
  trustedIpReputationApps(): Promise<string[]>;
}

/**
 * Which apps share IP reputation. An untrusted app's events raise IP factors
 * only for its own decisions (its own windows) and never block an IP: any app
 * with an ingest key could otherwise make up failures and lock everyone out of
 * our login. The API's own events and trusted apps share one window per IP and
 * set the blocks our login enforces. Cached for `cacheMs`, so trusting or
 * revoking takes effect within it.
 */
export class IpReputation {
  private cached: { apps: Set<string>; until: number } | null = null;

  constructor(
    private readonly source: TrustedAppsSource,
    private readonly cacheMs = 5000,
  ) {}

  async sharedBy(sourceApp: string): Promise<boolean> {
    if (sourceApp === OWN_SOURCE_APP) return true;
    // Monotonic, so a wall clock stepped back does not stretch the cache.
    if (!this.cached || this.cached.until <= performance.now()) {
      this.cached = { apps: new Set(await this.source.trustedIpReputationApps()), until: performance.now() + this.cacheMs };
    }
    return this.cached.apps.has(sourceApp);
  }
}

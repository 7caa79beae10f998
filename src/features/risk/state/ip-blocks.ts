import type { Redis } from 'ioredis';
import { callerOf, ipv6SiteOf } from '../../../domain/network';

/** What a block covers: the caller (an IPv4 address, an IPv6 /64), or the caller's whole IPv6 site (/48). */
export type BlockRange = 'caller' | 'site';

/** What a block of `ip` over `range` covers: an IPv4 address, an IPv6 /64, or an IPv6 /48 (as `risk:block:<range>` names it). */
export function blockedRange(ip: string, range: BlockRange): string {
  return (range === 'site' ? ipv6SiteOf(ip) : callerOf(ip)) ?? ip;
}

/**
 * Temporarily blocked IPs, in Redis with the block's TTL. The risk worker
 * blocks; the API's login refuses a blocked IP with 429 and Retry-After.
 * An IPv6 address is blocked and checked by its /64 (callerOf), so the
 * attacker cannot step around a block to the next host address; a rotation
 * through a site's /64s blocks the site's /48, which every address in it is
 * checked against too. The key's value is the action that set it, so a
 * retried job recognises its own block.
 */
export class IpBlocks {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(range: string): string {
    return `${this.prefix}:risk:block:${range}`;
  }

  /** Every block a login from `ip` is checked against: its caller's, and its site's for IPv6. */
  private keysOf(ip: string): string[] {
    const site = ipv6SiteOf(ip);
    return [this.key(callerOf(ip) ?? ip), ...(site ? [this.key(site)] : [])];
  }

  /** Blocks `ip`'s caller or site unless it is blocked already. True when this action holds the block (set now, or by this same action before). */
  async block(ip: string, minutes: number, actionKey: string, range: BlockRange = 'caller'): Promise<boolean> {
    const key = this.key(blockedRange(ip, range));
    const set = await this.redis.set(key, actionKey, 'EX', Math.max(1, Math.round(minutes * 60)), 'NX');
    if (set === 'OK') return true;
    return (await this.redis.get(key)) === actionKey;
  }

  /** Seconds until `ip` may log in again: the longest of the blocks that cover it; 0 when none does. */
  async retryAfterSeconds(ip: string): Promise<number> {
    const ttls = await Promise.all(this.keysOf(ip).map((key) => this.redis.pttl(key)));
    const ttl = Math.max(...ttls);
    return ttl > 0 ? Math.ceil(ttl / 1000) : 0;
  }
}

import type { Redis } from 'ioredis';
import { callerOf } from '../../../domain/network';

/**
 * Temporarily blocked IPs, in Redis with the block's TTL. The risk worker
 * blocks; the API's login refuses a blocked IP with 429 and Retry-After.
 * An IPv6 address is blocked and checked by its /64 (callerOf), so the
 * attacker cannot step around a block to the next host address. The key's
 * value is the action that set it, so a retried job recognises its own block.
 */
export class IpBlocks {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(ip: string): string {
    return `${this.prefix}:risk:block:${callerOf(ip) ?? ip}`;
  }

  /** Blocks `ip` (its /64 for IPv6) unless it is blocked already. True when this action holds the block (set now, or by this same action before). */
  async block(ip: string, minutes: number, actionKey: string): Promise<boolean> {
    const set = await this.redis.set(this.key(ip), actionKey, 'EX', Math.max(1, Math.round(minutes * 60)), 'NX');
    if (set === 'OK') return true;
    return (await this.redis.get(this.key(ip))) === actionKey;
  }

  /** Seconds until `ip` may log in again; 0 when it is not blocked. */
  async retryAfterSeconds(ip: string): Promise<number> {
    const ttl = await this.redis.pttl(this.key(ip));
    return ttl > 0 ? Math.ceil(ttl / 1000) : 0;
  }

  async unblock(ip: string): Promise<boolean> {
    return (await this.redis.del(this.key(ip))) === 1;
  }
}

import dns from 'node:dns';
import ipaddr from 'ipaddr.js';
import { AppError } from './errors/app-error';

/** How the names of outbound hosts (webhook receivers) are resolved: every address, as `dns.lookup` gives them. */
export type Resolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

export const systemResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/**
 * Where auditflow may send requests on an app's behalf. Only public unicast
 * addresses: loopback, RFC 1918, link-local (cloud metadata), unique-local,
 * CGNAT, unspecified, multicast, broadcast, the reserved and translation
 * ranges and IPv4-compatible IPv6 could reach this machine or its network. An operator's allow-list
 * (WEBHOOK_ALLOWED_CIDRS) lets on-premises receivers through.
 */
export class OutboundAddressPolicy {
  private readonly allowed: [ipaddr.IPv4 | ipaddr.IPv6, number][];

  constructor(
    allowedCidrs: readonly string[] = [],
    private readonly resolve: Resolver = systemResolver,
  ) {
    this.allowed = allowedCidrs.map((cidr) => ipaddr.parseCIDR(cidr));
  }

  /** Why `address` may not be reached, or null when it may. IPv4-mapped IPv6 counts as its IPv4 address. */
  refusal(address: string): string | null {
    if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
    const ip = ipaddr.process(address);
    if (this.allowed.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits))) return null;
    const range = ip.range();
    if (range !== 'unicast') return `${ip.toString()} is a ${RANGE_NAMES[range] ?? range} address`;
    // ipaddr.js calls ::/96 (IPv4-compatible, deprecated by RFC 4291) unicast; some stacks route ::7f00:1 to 127.0.0.1.
    if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).parts.slice(0, 6).every((part) => part === 0)) return `${ip.toString()} is an IPv4-compatible (deprecated) address`;
    return null;
  }

  /**
   * Resolves the host of `url` and checks every address it has; the first
   * is the one to connect to. A name with any forbidden address is refused:
   * which one a later lookup would give is the attacker's choice.
   */
  async check(url: URL): Promise<{ address: string; family: number }> {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const addresses = ipaddr.isValid(host) ? [{ address: host, family: ipaddr.parse(host).kind() === 'ipv6' ? 6 : 4 }] : await this.lookup(host);
    for (const a of addresses) {
      const why = this.refusal(a.address);
      if (why)
        throw new AppError(
          'VALIDATION_FAILED',
          `url: ${host === a.address ? '' : `${host} resolves to ${a.address}; `}${why}, which webhooks may not reach (an operator can allow it with WEBHOOK_ALLOWED_CIDRS)`,
        );
    }
    return addresses[0]!;
  }

  private async lookup(host: string): Promise<{ address: string; family: number }[]> {
    try {
      const found = await this.resolve(host);
      if (found.length === 0) throw new Error('no address');
      return found;
    } catch {
      throw new AppError('VALIDATION_FAILED', `url: ${host} does not resolve`);
    }
  }
}

const RANGE_NAMES: Record<string, string> = {
  loopback: 'loopback',
  private: 'private (RFC 1918)',
  linkLocal: 'link-local',
  uniqueLocal: 'unique-local',
  carrierGradeNat: 'carrier-grade NAT',
  unspecified: 'unspecified',
  multicast: 'multicast',
  broadcast: 'broadcast',
  reserved: 'reserved',
};

import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** An address as IPv4 when it is an IPv4-mapped IPv6 one (`::ffff:1.2.3.4`), so both spellings are one host. */
function parse(ip: string): Address | null {
  if (!ipaddr.isValid(ip)) return null;
  const address = ipaddr.parse(ip);
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() ? (address as ipaddr.IPv6).toIPv4Address() : address;
}

/** One spelling per address, so `::ffff:1.2.3.4` and `1.2.3.4` count as one IP. */
export function normalizeIp(ip: string): string | null {
  return parse(ip)?.toString() ?? null;
}

/**
 * The network an address belongs to, by default for "is this a network the
 * user has logged in from before": the /24 of IPv4, the /48 of IPv6 (a home
 * or an office keeps its prefix while the host part changes).
 */
export function networkOf(ip: string, prefix: { ipv4: number; ipv6: number } = { ipv4: 24, ipv6: 48 }): string | null {
  const address = parse(ip);
  if (!address) return null;
  const bits = address.kind() === 'ipv4' ? prefix.ipv4 : prefix.ipv6;
  const bytes = address.toByteArray();
  const masked = bytes.map((byte, i) => {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    return byte & ((0xff << (8 - keep)) & 0xff);
  });
  return `${ipaddr.fromByteArray(masked).toString()}/${bits}`;
}

/** A list of addresses and CIDR ranges (the known-bad IPs setting). Invalid entries are reported, not ignored. */
export class IpList {
  private readonly ranges: [Address, number][] = [];
  readonly invalid: string[] = [];

  constructor(entries: string[]) {
    for (const raw of entries.map((e) => e.trim()).filter(Boolean)) {
      try {
        const [address, bits] = raw.includes('/') ? ipaddr.parseCIDR(raw) : [parse(raw), -1];
        if (!address) throw new Error('invalid');
        const mapped = address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() ? (address as ipaddr.IPv6).toIPv4Address() : address;
        this.ranges.push([mapped, bits < 0 ? (mapped.kind() === 'ipv4' ? 32 : 128) : bits]);
      } catch {
        this.invalid.push(raw);
      }
    }
  }

  /** Parses a comma, space or newline separated list. */
  static parse(text: string): IpList {
    return new IpList(text.split(/[\s,]+/));
  }

  get size(): number {
    return this.ranges.length;
  }

  has(ip: string): boolean {
    const address = parse(ip);
    if (!address) return false;
    return this.ranges.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));
  }
}

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

/**
 * Whom per-IP counts, limits and blocks are about: an IPv4 address, or the
 * /64 of an IPv6 one. A single home or phone line is given a whole /64 and
 * may send from any of its addresses, so judging each address would let it
 * start afresh at will.
 */
export function callerOf(ip: string): string | null {
  return networkOf(ip, { ipv4: 32, ipv6: 64 });
}

/**
 * The IPv6 site an address belongs to, its /48 (the most a provider gives one
 * customer), or null for IPv4. Limits that count by callerOf also count by
 * site, with more room, so rotating through a site's 65,536 /64s does not
 * start afresh each time either. IPv4 has no such tier: a /24 is often many
 * unrelated customers behind one provider.
 */
export function ipv6SiteOf(ip: string): string | null {
  const address = parse(ip);
  return address?.kind() === 'ipv6' ? networkOf(ip) : null;
}

/**
 * How many times a caller's room a site gets, wherever both are counted
 * (route limits, the risk engine's IP windows): an office's many callers
 * fit, a rotation through the site's /64s does not.
 */
export const SITE_FACTOR = 16;

/** An IP list's entry: a CIDR range (an address is its /32 or /128), as written and as parsed. */
interface Range {
  raw: string;
  address: Address;
  bits: number;
}

/** A range parsed from `address/bits`, or one address; an IPv4-mapped range is the IPv4 range it holds. */
function rangeOf(raw: string): Range | null {
  try {
    const [parsed, written] = raw.includes('/') ? ipaddr.parseCIDR(raw) : [ipaddr.parse(raw), -1];
    const bits = written < 0 ? (parsed.kind() === 'ipv4' ? 32 : 128) : written;
    if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) return { raw, address: (parsed as ipaddr.IPv6).toIPv4Address(), bits: bits - 96 };
    return { raw, address: parsed, bits };
  } catch {
    return null;
  }
}

/** Whether `inner` lies wholly within `outer`. */
function within(inner: Range, outer: Range): boolean {
  return inner.address.kind() === outer.address.kind() && inner.bits >= outer.bits && inner.address.match(outer.address, outer.bits);
}

/** A list of addresses and CIDR ranges (the known-bad and never-block IPs settings). Invalid entries are reported, not ignored. */
export class IpList {
  private readonly ranges: Range[] = [];
  readonly invalid: string[] = [];

  constructor(entries: string[]) {
    for (const raw of entries.map((e) => e.trim()).filter(Boolean)) {
      const range = rangeOf(raw);
      if (range) this.ranges.push(range);
      else this.invalid.push(raw);
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
    return this.ranges.some(({ address: range, bits }) => range.kind() === address.kind() && address.match(range, bits));
  }

  /** Whether an entry holds any address of `cidr` (an address or `address/bits`): it lies within it, or holds it. */
  overlaps(cidr: string): boolean {
    const other = rangeOf(cidr);
    return other !== null && this.ranges.some((range) => within(range, other) || within(other, range));
  }

  /** Whether every address of `other` is in this list too: each of its entries lies within one of ours. */
  covers(other: IpList): boolean {
    return other.ranges.every((range) => this.ranges.some((ours) => within(range, ours)));
  }

  /** The entries (as written) wider than the given prefix lengths. */
  widerThan(prefix: { ipv4: number; ipv6: number }): string[] {
    return this.ranges.filter((r) => r.bits < (r.address.kind() === 'ipv4' ? prefix.ipv4 : prefix.ipv6)).map((r) => r.raw);
  }
}

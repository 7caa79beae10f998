import { callerOf, ipv6SiteOf, networkOf, normalizeIp } from '../../src/domain/network';

describe('who a limit counts', () => {
  it('an IPv4 caller is its address; an IPv6 caller is its /64', () => {
    expect(callerOf('203.0.113.7')).toBe('203.0.113.7/32');
    expect(callerOf('::ffff:203.0.113.7')).toBe('203.0.113.7/32');
    expect(callerOf('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(callerOf('2001:db8:1:2:bbbb::9')).toBe(callerOf('2001:db8:1:2:aaaa::1'));
    expect(callerOf('not an address')).toBeNull();
  });

  it('an IPv6 site is its /48; IPv4 (and IPv4-mapped) has no site', () => {
    expect(ipv6SiteOf('2001:db8:48:7::1')).toBe('2001:db8:48::/48');
    expect(ipv6SiteOf('2001:db8:48:ffff:1::2')).toBe(ipv6SiteOf('2001:db8:48::1'));
    expect(ipv6SiteOf('2001:db8:49::1')).not.toBe(ipv6SiteOf('2001:db8:48::1'));
    expect(ipv6SiteOf('203.0.113.7')).toBeNull();
    expect(ipv6SiteOf('::ffff:203.0.113.7')).toBeNull();
    expect(ipv6SiteOf('')).toBeNull();
  });

  it('one spelling per address, and networks by prefix', () => {
    expect(normalizeIp('::ffff:1.2.3.4')).toBe('1.2.3.4');
    expect(networkOf('198.51.100.77')).toBe('198.51.100.0/24');
  });
});

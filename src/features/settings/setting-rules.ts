import { DEFAULT_LOCKOUT_POLICY as L } from '../../domain/lockout-policy';
import { IpList } from '../../domain/network';
import { LIMITED_ROUTES, limitSettingKey, type LimitedRoute } from '../../domain/route-limit-rules';

/**
 * What each known system setting may hold, checked on every write (400 with
 * the allowed range) and on every read (a value stored some other way, say
 * by hand in PostgreSQL, falls back to the default instead of breaking a
 * route). `weakens` says which change lowers protection: such a change is
 * also a HIGH security event and a webhook notice.
 */
export interface SettingRule {
  kind: 'integer' | 'number' | 'enum' | 'ip_list';
  min?: number;
  max?: number;
  values?: readonly string[];
  /** For an IP list: the widest range allowed (shorter prefixes are refused). */
  narrowest?: { ipv4: number; ipv6: number };
  /**
   * Read a stored value even when it breaks the rule (a list with a bad
   * entry): falling back to the default would drop its good entries too.
   */
  keepOnRead?: boolean;
  /** True when going from `before` to `after` switches protection down. */
  weakens?: (before: string, after: string) => boolean;
  /** Why a weakening change matters, for the security event. */
  risk?: string;
  /**
   * The value in force while no row exists (the code's default): creating
   * the row, or deleting it, is a change from or to this value.
   * test/unit/setting-rules.test.ts holds it to the defaults the code uses.
   */
  fallback?: string;
}

const up = (before: string, after: string) => Number(after) > Number(before);
const down = (before: string, after: string) => Number(after) < Number(before);
/** An IP list grows when `after` holds an address `before` did not. */
const grows = (before: string, after: string) => !IpList.parse(before).covers(IpList.parse(after));
const shrinks = (before: string, after: string) => grows(after, before);

/** Every route limit: 1 to 10 000 an hour (none can be switched off), raising one weakens it. */
const ROUTE_LIMIT_RULES: Record<string, SettingRule> = Object.fromEntries(
  (Object.entries(LIMITED_ROUTES) as [LimitedRoute, { per_ip?: number; per_address?: number }][]).flatMap(([route, limits]) =>
    (['per_ip', 'per_address'] as const)
      .filter((per) => limits[per] !== undefined)
      .map((per) => [
        limitSettingKey(route, per),
        {
          kind: 'integer',
          min: 1,
          max: 10_000,
          weakens: up,
          risk: `${route} may be called more often ${per === 'per_ip' ? 'from one address' : 'for one account'}`,
          fallback: String(limits[per]),
        } satisfies SettingRule,
      ]),
  ),
);

/** The one table of known settings; a setting not listed is free text of its declared type. */
export const SETTING_RULES: Readonly<Record<string, SettingRule>> = {
  ...ROUTE_LIMIT_RULES,
  'lockout.threshold': { kind: 'integer', min: 1, max: 20, weakens: up, risk: 'more password guesses before an account locks', fallback: String(L.threshold) },
  'lockout.window_minutes': { kind: 'integer', min: 1, max: 1440, weakens: down, risk: 'failed logins are counted over a shorter window', fallback: String(L.windowMinutes) },
  'lockout.duration_minutes': { kind: 'number', min: 0.01, max: 10_080, weakens: down, risk: 'locks end sooner', fallback: String(L.durationMinutes) },
  'lockout.max_duration_minutes': { kind: 'number', min: 1, max: 525_600, weakens: down, risk: 'escalated locks end sooner', fallback: String(L.maxDurationMinutes) },
  'lockout.multiplier': { kind: 'number', min: 1, max: 10, weakens: down, risk: 'repeated locks escalate more slowly', fallback: String(L.multiplier) },
  'lockout.permanent_after': {
    kind: 'integer',
    min: 0,
    max: 100,
    weakens: (b, a) => (Number(a) === 0 ? Number(b) !== 0 : Number(b) !== 0 && Number(a) > Number(b)),
    risk: 'accounts are locked for good later, or never',
    fallback: String(L.permanentAfter),
  },
  'session.idle_timeout_minutes': { kind: 'integer', min: 1, max: 1440, weakens: up, risk: 'idle sessions live longer', fallback: '30' },
  'session.absolute_timeout_minutes': { kind: 'integer', min: 5, max: 43_200, weakens: up, risk: 'sessions live longer', fallback: '720' },
  'account.restore_window_days': { kind: 'integer', min: 1, max: 365 },
  'guest.session_hours': { kind: 'integer', min: 1, max: 168, weakens: up, risk: 'guest sessions live longer', fallback: '24' },
  'risk.mode': {
    kind: 'enum',
    values: ['enforce', 'audit_only'],
    weakens: (b, a) => b !== 'audit_only' && a === 'audit_only',
    risk: 'the risk engine only records, and locks and blocks nothing',
    fallback: 'enforce',
  },
  'risk.ip_window_minutes': { kind: 'integer', min: 1, max: 1440, weakens: down, risk: 'IP failures are counted over a shorter window', fallback: '60' },
  'risk.ip_block_minutes': { kind: 'integer', min: 1, max: 10_080, weakens: down, risk: 'blocked IPs are let back in sooner', fallback: '15' },
  'risk.impossible_travel_kmh': { kind: 'number', min: 100, max: 5000, weakens: up, risk: 'impossible travel is detected only at higher speeds', fallback: '900' },
  // Any address added here is never blocked; a range as wide as ::/0 or 0.0.0.0/0 would switch IP blocking off.
  'risk.never_block_ips': {
    kind: 'ip_list',
    narrowest: { ipv4: 8, ipv6: 16 },
    weakens: grows,
    risk: 'more addresses are never blocked, however they attack',
    fallback: '127.0.0.1, ::1',
  },
  'risk.known_bad_ips': { kind: 'ip_list', keepOnRead: true, weakens: shrinks, risk: 'addresses known to be bad are no longer treated as such', fallback: '' },
};

/** Why `value` is not allowed for `key`, with the allowed range; null when it is (or the key has no rule). */
export function settingProblem(key: string, value: string): string | null {
  const rule = SETTING_RULES[key];
  if (!rule) return null;
  if (rule.kind === 'enum') return rule.values!.includes(value) ? null : `${key} must be one of ${rule.values!.join(', ')}`;
  if (rule.kind === 'ip_list') return ipListProblem(key, value, rule);
  const n = Number(value);
  const range = `from ${rule.min} to ${rule.max}`;
  if (value.trim() === '' || !Number.isFinite(n)) return `${key} must be a number ${range}`;
  if (rule.kind === 'integer' && !Number.isInteger(n)) return `${key} must be a whole number ${range}`;
  if (n < rule.min! || n > rule.max!) return `${key} must be ${range} (got ${value})`;
  return null;
}

function ipListProblem(key: string, value: string, rule: SettingRule): string | null {
  const list = IpList.parse(value);
  if (list.invalid.length > 0) return `${key} must list IP addresses or CIDR ranges, separated by commas or spaces (not ${list.invalid.join(', ')})`;
  const wide = rule.narrowest ? list.widerThan(rule.narrowest) : [];
  if (wide.length > 0) return `${key} may not hold ranges wider than /${rule.narrowest!.ipv4} (IPv4) or /${rule.narrowest!.ipv6} (IPv6) (got ${wide.join(', ')})`;
  return null;
}

/** What a change of `key` from `before` to `after` weakens, or null when it weakens nothing. */
export function weakening(key: string, before: string, after: string): string | null {
  const rule = SETTING_RULES[key];
  if (!rule?.weakens || (settingProblem(key, before) !== null && !rule.keepOnRead)) return null;
  return rule.weakens(before, after) ? (rule.risk ?? 'protection is lowered') : null;
}

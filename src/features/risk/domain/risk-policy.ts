import { lockoutPolicyFrom, type LockoutPolicy, type NumericSettings } from '../../../domain/lockout-policy';
import { IpList } from '../../../domain/network';

export const RISK_MODES = ['enforce', 'audit_only'] as const;
export type RiskMode = (typeof RISK_MODES)[number];

/** The risk worker's settings (`risk.*` and `lockout.*` in system settings; docs/security-analytics.md). */
export interface RiskPolicy {
  /** audit_only records every decision and enforces none. */
  mode: RiskMode;
  lockout: LockoutPolicy;
  /** Window for "one IP failing across many accounts". */
  ipWindowMinutes: number;
  /** How long an IP over the thresholds is refused at login. */
  ipBlockMinutes: number;
  knownBadIps: IpList;
  /** Addresses never blocked (monitoring, a trusted proxy, loopback); their events are still scored. */
  neverBlockIps: IpList;
  /** Faster than this between two logins is impossible travel. */
  impossibleTravelKmh: number;
}

export interface RiskSettings extends NumericSettings {
  text(key: string, fallback: string): Promise<string>;
}

export const RISK_DEFAULTS = {
  mode: 'enforce' as RiskMode,
  ipWindowMinutes: 60,
  ipBlockMinutes: 15,
  knownBadIps: '',
  neverBlockIps: '127.0.0.1, ::1',
  impossibleTravelKmh: 900,
};

export async function riskPolicyFrom(settings: RiskSettings): Promise<RiskPolicy> {
  const mode = await settings.text('risk.mode', RISK_DEFAULTS.mode);
  const ipWindow = await settings.integer('risk.ip_window_minutes', RISK_DEFAULTS.ipWindowMinutes);
  const ipBlock = await settings.integer('risk.ip_block_minutes', RISK_DEFAULTS.ipBlockMinutes);
  const travel = await settings.number('risk.impossible_travel_kmh', RISK_DEFAULTS.impossibleTravelKmh);
  return {
    // An unknown mode enforces: a typo must not silently switch protection off.
    mode: (RISK_MODES as readonly string[]).includes(mode) ? (mode as RiskMode) : 'enforce',
    lockout: await lockoutPolicyFrom(settings),
    ipWindowMinutes: ipWindow > 0 ? ipWindow : RISK_DEFAULTS.ipWindowMinutes,
    ipBlockMinutes: ipBlock > 0 ? ipBlock : RISK_DEFAULTS.ipBlockMinutes,
    knownBadIps: IpList.parse(await settings.text('risk.known_bad_ips', RISK_DEFAULTS.knownBadIps)),
    neverBlockIps: IpList.parse(await settings.text('risk.never_block_ips', RISK_DEFAULTS.neverBlockIps)),
    impossibleTravelKmh: travel > 0 ? travel : RISK_DEFAULTS.impossibleTravelKmh,
  };
}

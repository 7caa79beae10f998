import { callerOf, ipv6SiteOf, SITE_FACTOR } from '../../../domain/network';
import { distanceKm } from './geo';
import type { RiskPolicy } from './risk-policy';
import type { RiskObservation } from './risk-observation';
import type { RiskSignals } from '../state/risk-state';

export type RiskLevel = 'low' | 'medium' | 'high';
/** Adaptive authentication: what each level asks for. */
export type RiskAction = 'none' | 'step_up' | 'block';

export const LEVEL_ACTIONS: Record<RiskLevel, RiskAction> = { low: 'none', medium: 'step_up', high: 'block' };

/** Level boundaries; the daily risk distribution view (clickhouse/003) counts with the same ones. */
export const MEDIUM_AT = 30;
export const HIGH_AT = 70;

export type RiskSignalName =
  | 'account_failures'
  | 'new_device'
  | 'new_network'
  | 'impossible_travel'
  | 'ip_many_accounts'
  | 'account_many_ips'
  | 'attempt_rate'
  | 'site_many_accounts'
  | 'site_attempt_rate'
  | 'known_bad_ip'
  | 'failed_attempt'
  | 'app_reported';

/** One reason behind a score: stored with the event, so an analyst sees why. */
export interface RiskFactor {
  signal: RiskSignalName;
  points: number;
  reason: string;
  /** What the factor is about: the account (may lock it), the IP (may block it, an IPv6 one by its /64) or its IPv6 site (may block the /48). */
  scope: 'account' | 'ip' | 'site';
  /** The measured count behind a counting factor, and the tier it crossed. */
  value?: number;
  threshold?: number;
}

export interface RiskAssessment {
  score: number;
  level: RiskLevel;
  action: RiskAction;
  factors: RiskFactor[];
  /** Lock the account: its failures reached the lockout threshold, or account factors alone make it high risk. */
  lockAccount: boolean;
  /** Block the IP: IP factors alone reach the block line. */
  blockIp: boolean;
  /** Block the IP's whole IPv6 site (/48): the site's factors alone reach the block line. */
  blockSite: boolean;
}

/** Points of IP factors that block the IP; points of account factors that lock a high-risk account. */
const IP_BLOCK_POINTS = 50;
export const ACCOUNT_LOCK_POINTS = 45;

/** An IP factor's tiers for a whole IPv6 site: the same points at SITE_FACTOR times the count. */
function siteTiers(tiers: [number, number][]): [number, number][] {
  return tiers.map(([atLeast, points]) => [atLeast * SITE_FACTOR, points]);
}

const IP_MANY_ACCOUNTS: [number, number][] = [
  [10, 70],
  [5, 50],
  [3, 25],
];
const ATTEMPT_RATE: [number, number][] = [
  [60, 50],
  [20, 30],
  [10, 15],
];

/** The points of the highest tier `value` reaches (tiers from highest down), with that tier's threshold. */
function tier(value: number, tiers: [number, number][]): { points: number; value: number; threshold?: number } {
  for (const [atLeast, points] of tiers) if (value >= atLeast) return { points, value, threshold: atLeast };
  return { points: 0, value };
}

export function levelOf(score: number): RiskLevel {
  return score >= HIGH_AT ? 'high' : score >= MEDIUM_AT ? 'medium' : 'low';
}

/**
 * The explainable score of one auth or failed_login event: the sum of the
 * points of each factor that applies, capped at 100. Pure: the signals come
 * from Redis (RiskState), the thresholds from settings.
 */
export function scoreEvent(o: RiskObservation, s: RiskSignals, policy: RiskPolicy): RiskAssessment {
  const factors: RiskFactor[] = [];
  const add = (signal: RiskSignalName, points: number | ReturnType<typeof tier>, reason: string, scope: RiskFactor['scope']) => {
    const measured = typeof points === 'number' ? { points } : points;
    if (measured.points > 0) factors.push({ signal, reason, scope, ...measured });
  };
  const { threshold, windowMinutes } = policy.lockout;
  // An IPv6 caller's /48: a rotation through its /64s is a new caller per guess, so the site is counted as well, with more room.
  const site = o.ip ? ipv6SiteOf(o.ip) : null;

  if (o.isFailure) add('failed_attempt', 5, 'a failed login', 'account');
  if (o.subject) {
    add(
      'account_failures',
      tier(s.accountFailures, [
        [threshold, 45],
        [Math.max(2, threshold - 2), 20],
        [2, 10],
      ]),
      `${s.accountFailures} failed logins for this account in ${windowMinutes} min (lockout at ${threshold})`,
      'account',
    );
    add(
      'account_many_ips',
      tier(s.accountFailureIps, [
        [5, 50],
        [3, 25],
      ]),
      `this account failed from ${s.accountFailureIps} IPs in ${windowMinutes} min`,
      'account',
    );
    // Unfamiliar only once there is something to be unfamiliar with: a first login is not suspicious.
    if (s.deviceKnown === false && s.knownDevices > 0) add('new_device', 15, `a device not seen for this user (${s.knownDevices} known)`, 'account');
    if (s.networkKnown === false && s.knownNetworks > 0) add('new_network', 15, `a network (${o.network}) not seen for this user`, 'account');
    if (o.coordinates && s.previousLocation) {
      const km = distanceKm(s.previousLocation, o.coordinates);
      const hours = Math.max(Math.abs(o.at - s.previousLocation.at), 60_000) / 3_600_000;
      const kmh = km / hours;
      if (km > 500 && kmh > policy.impossibleTravelKmh) {
        add('impossible_travel', 50, `${Math.round(km)} km from the last login in ${formatHours(hours)} (${Math.round(kmh)} km/h)`, 'account');
      }
    }
  }
  if (o.ip) {
    add('ip_many_accounts', tier(s.ipFailedAccounts, IP_MANY_ACCOUNTS), `${s.ipFailedAccounts} accounts failed from this IP in ${policy.ipWindowMinutes} min`, 'ip');
    add('attempt_rate', tier(s.ipAttemptsPerMinute, ATTEMPT_RATE), `${s.ipAttemptsPerMinute} login attempts from this IP in the last minute`, 'ip');
    if (site) {
      add('site_many_accounts', tier(s.siteFailedAccounts, siteTiers(IP_MANY_ACCOUNTS)), `${s.siteFailedAccounts} accounts failed from the network ${site} in ${policy.ipWindowMinutes} min`, 'site');
      add('site_attempt_rate', tier(s.siteAttemptsPerMinute, siteTiers(ATTEMPT_RATE)), `${s.siteAttemptsPerMinute} login attempts from the network ${site} in the last minute`, 'site');
    }
    if (policy.knownBadIps.has(o.ip)) add('known_bad_ip', 80, 'the IP is on the known-bad list', 'ip');
  }
  if (o.appScore > 0) factors.push({ signal: 'app_reported', points: 0, reason: `the sending app scored it ${o.appScore}`, scope: 'account', value: o.appScore });

  const computed = Math.min(
    100,
    factors.reduce((sum, f) => sum + f.points, 0),
  );
  // The sending app may know things we do not; its own score is a floor.
  const score = Math.max(computed, Math.min(100, o.appScore));
  const level = levelOf(score);
  const pointsOf = (scope: RiskFactor['scope']) => factors.filter((f) => f.scope === scope).reduce((sum, f) => sum + f.points, 0);
  const accountPoints = pointsOf('account');
  const ipPoints = pointsOf('ip');
  const lockAccount = o.subject !== null && (s.accountFailures >= threshold || (level === 'high' && accountPoints >= ACCOUNT_LOCK_POINTS));
  // A block covers the caller's whole /64 (IPv6): none is set where it would shut out a never-block address too.
  const blockIp = o.ip !== null && ipPoints >= IP_BLOCK_POINTS && !policy.neverBlockIps.overlaps(callerOf(o.ip) ?? o.ip);
  const blockSite = site !== null && pointsOf('site') >= IP_BLOCK_POINTS && !policy.neverBlockIps.overlaps(site);
  return {
    score,
    level,
    // A lockout threshold blocks whatever the score: the action says what enforcement does (or would do, audit-only).
    action: lockAccount || blockIp || blockSite ? 'block' : LEVEL_ACTIONS[level],
    factors,
    lockAccount,
    blockIp,
    blockSite,
  };
}

function formatHours(hours: number): string {
  return hours < 1 ? `${Math.round(hours * 60)} min` : `${hours.toFixed(1)} h`;
}

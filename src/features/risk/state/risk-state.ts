import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Coordinates } from '../domain/geo';
import { sha256Bytes } from '../../../domain/sha256';
import { callerOf, ipv6SiteOf, networkOf, normalizeIp } from '../../../domain/network';
import type { RiskObservation } from '../domain/risk-observation';

/** What Redis remembers about an event's account and IP, read as the event is counted. */
export interface RiskSignals {
  /** Failed logins of this account within the account window, this one included. */
  accountFailures: number;
  /** Distinct IPs those failures came from (an IPv6 one by its /64). */
  accountFailureIps: number;
  /** Devices the account has logged in from (0: no history yet). */
  knownDevices: number;
  /** Whether this event's device is one of them; null when the event names no device. */
  deviceKnown: boolean | null;
  knownNetworks: number;
  networkKnown: boolean | null;
  /** Where and when the account last logged in, if a location was given. */
  previousLocation: (Coordinates & { at: number }) | null;
  /** Distinct accounts that failed from this IP within the IP window. */
  ipFailedAccounts: number;
  /** Login attempts from this IP within the last minute. */
  ipAttemptsPerMinute: number;
  /** The same two counts for the IPv6 site (/48) of the IP; 0 for IPv4. */
  siteFailedAccounts: number;
  siteAttemptsPerMinute: number;
}

export interface RiskStateOptions {
  /** Key prefix (the queue prefix), so test runs and deployments sharing a Redis stay apart. */
  prefix: string;
  /** How long devices, networks and the last location are remembered without a login. */
  historyTtlSeconds: number;
}

/** The sliding windows, from settings (they may change while running). */
export interface RiskWindows {
  accountWindowMs: number;
  ipWindowMs: number;
}

/** Bounds that keep every key small whatever the traffic (see docs/security-analytics.md for the footprint). */
export const STATE_LIMITS = {
  /** Devices and networks remembered per account (most recent kept). */
  historyPerAccount: 20,
  /** Failures remembered per account within its window. */
  failuresPerAccount: 200,
  /** Accounts and attempts remembered per IP within its windows. */
  entriesPerIp: 1000,
  rateWindowMs: 60_000,
  /** How long an event's signals are kept, so a retried job scores it the same. */
  replayTtlSeconds: 3600,
};

/**
 * One script call per batch: for each event in order, count it into its
 * account's and IP's sliding windows (sorted sets keyed by the attempt, so a
 * retried or doubly reported attempt counts once) and read the signals.
 * Signals are cached per event for an hour: a job retried after a crash
 * sees exactly what the first run saw, so the stored score does not change.
 * An event is its app's and its id (two apps may send one id, and an NDJSON
 * record's id derives from its content): keyed by the id alone, another
 * app's signals would be read, and the event never counted.
 */
const OBSERVE_SCRIPT = `
local cfg = cjson.decode(ARGV[1])
local obs = cjson.decode(ARGV[2])
local out = {}
local function trim(key, min, cap)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. min)
  redis.call('ZREMRANGEBYRANK', key, 0, -(cap + 1))
end
-- An IP's (or an IPv6 site's) windows: the accounts that failed from it, and its attempts in the last minute.
local function countCaller(ik, o, ts)
  local fa, at = ik .. ':fa', ik .. ':at'
  if o.fail and o.sk then redis.call('ZADD', fa, ts, o.sk) end
  trim(fa, ts - cfg.ipWindowMs, cfg.ipCap)
  local failedAccounts = redis.call('ZCOUNT', fa, ts - cfg.ipWindowMs, '+inf')
  redis.call('EXPIRE', fa, math.ceil(cfg.ipWindowMs / 1000) * 2)
  if o.try then
    redis.call('ZADD', at, ts, o.att)
    trim(at, ts - cfg.rateWindowMs, cfg.ipCap)
    redis.call('EXPIRE', at, math.ceil(cfg.rateWindowMs / 1000) * 2)
  end
  return failedAccounts, redis.call('ZCOUNT', at, ts - cfg.rateWindowMs, ts)
end
for i, o in ipairs(obs) do
  local cacheKey = cfg.prefix .. 'e:' .. o.id
  local cached = redis.call('GET', cacheKey)
  if cached then
    out[i] = cached
  else
    local r = { af = 0, afi = 0, kd = 0, kn = 0, ifa = 0, ir = 0, sfa = 0, sr = 0 }
    local ts = o.at
    if o.sk then
      local f, fi, d, n, l = o.sk .. ':f', o.sk .. ':fi', o.sk .. ':d', o.sk .. ':n', o.sk .. ':l'
      local from = ts - cfg.accountWindowMs
      if o.fail then
        redis.call('ZADD', f, ts, o.att)
        if o.ip then redis.call('ZADD', fi, ts, o.ip) end
      end
      trim(f, from, cfg.failureCap)
      trim(fi, from, cfg.failureCap)
      r.af = redis.call('ZCOUNT', f, from, '+inf')
      r.afi = redis.call('ZCOUNT', fi, from, '+inf')
      local windowSeconds = math.ceil(cfg.accountWindowMs / 1000) * 2
      redis.call('EXPIRE', f, windowSeconds)
      redis.call('EXPIRE', fi, windowSeconds)
      r.kd = redis.call('ZCARD', d)
      r.kn = redis.call('ZCARD', n)
      if o.dev then r.dk = redis.call('ZSCORE', d, o.dev) and 1 or 0 end
      if o.net then r.nk = redis.call('ZSCORE', n, o.net) and 1 or 0 end
      local last = redis.call('GET', l)
      if last then r.pl = last end
      if o.ok then
        if o.dev then
          redis.call('ZADD', d, ts, o.dev)
          redis.call('ZREMRANGEBYRANK', d, 0, -(cfg.historyCap + 1))
          redis.call('EXPIRE', d, cfg.historyTtl)
        end
        if o.net then
          redis.call('ZADD', n, ts, o.net)
          redis.call('ZREMRANGEBYRANK', n, 0, -(cfg.historyCap + 1))
          redis.call('EXPIRE', n, cfg.historyTtl)
        end
        if o.loc then
          local previousAt = last and tonumber(string.match(last, '[^,]+,[^,]+,(.+)')) or nil
          if not previousAt or ts >= previousAt then redis.call('SET', l, o.loc .. ',' .. ts, 'EX', cfg.historyTtl) end
        end
        -- The owner got in: earlier failures were typos, not an attack in progress.
        redis.call('DEL', f, fi)
      end
    end
    if o.ik then r.ifa, r.ir = countCaller(o.ik, o, ts) end
    if o.sik then r.sfa, r.sr = countCaller(o.sik, o, ts) end
    local encoded = cjson.encode(r)
    redis.call('SET', cacheKey, encoded, 'EX', cfg.replayTtl)
    out[i] = encoded
  end
end
return out
`;

interface RawSignals {
  af: number;
  afi: number;
  kd: number;
  kn: number;
  dk?: number;
  nk?: number;
  pl?: string;
  ifa: number;
  ir: number;
  /** Absent from signals cached before the site windows existed. */
  sfa?: number;
  sr?: number;
}

/** Sliding windows and per-account history of the risk worker, in Redis. */
export class RiskState {
  private readonly sha: string;

  constructor(
    private readonly redis: Redis,
    private readonly options: RiskStateOptions,
  ) {
    this.sha = createHash('sha1').update(OBSERVE_SCRIPT).digest('hex');
  }

  /** The Redis key prefix of an account: hashed, so a long or odd user id costs a fixed few bytes. */
  subjectKey(sourceApp: string, subject: string): string {
    return `${this.options.prefix}:risk:s:${sha256Bytes(`${sourceApp}\n${subject}`).toString('base64url').slice(0, 22)}`;
  }

  /**
   * An IP's windows: shared (`risk:i:<caller>`), or one app's own (`risk:i:<app>|<caller>`; neither an app
   * name nor an address holds a '|'). An IPv6 caller is its /64, as for blocks: one line rotating its host half is one IP.
   */
  ipKey(ip: string, app: string | null = null): string {
    return this.windowKey(callerOf(ip) ?? ip, app);
  }

  /** The IPv6 site's (/48) windows, beside its callers' (a /48 never reads as a /64 or an address); none for IPv4. */
  siteKey(ip: string, app: string | null = null): string | null {
    const site = ipv6SiteOf(ip);
    return site === null ? null : this.windowKey(site, app);
  }

  private windowKey(caller: string, app: string | null): string {
    return `${this.options.prefix}:risk:i:${app === null ? '' : `${app}|`}${caller}`;
  }

  /**
   * Whether a login from `device` at `ip` would be familiar for the account:
   * both seen at one of its successful logins. Naming no device is familiar
   * only for an account that never logged in with one: otherwise leaving the
   * fingerprint out would skip the device check. Read only; the API asks it
   * before demanding a step-up.
   */
  async isFamiliar(sourceApp: string, subject: string, device: string | null, ip: string | null): Promise<boolean> {
    const normalized = ip ? normalizeIp(ip) : null;
    const network = normalized ? networkOf(normalized) : null;
    if (!network) return false;
    const key = this.subjectKey(sourceApp, subject);
    const [networkSeen, deviceSeen] = await Promise.all([
      this.redis.zscore(`${key}:n`, network),
      device ? this.redis.zscore(`${key}:d`, device).then((score) => score !== null) : this.redis.zcard(`${key}:d`).then((known) => known === 0),
    ]);
    return networkSeen !== null && deviceSeen;
  }

  /** Counts a batch of events in order and returns each one's signals, in one round trip. */
  async observe(observations: RiskObservation[], windows: RiskWindows): Promise<RiskSignals[]> {
    if (observations.length === 0) return [];
    const config = JSON.stringify({
      prefix: `${this.options.prefix}:risk:`,
      accountWindowMs: windows.accountWindowMs,
      ipWindowMs: windows.ipWindowMs,
      rateWindowMs: STATE_LIMITS.rateWindowMs,
      historyTtl: this.options.historyTtlSeconds,
      historyCap: STATE_LIMITS.historyPerAccount,
      failureCap: STATE_LIMITS.failuresPerAccount,
      ipCap: STATE_LIMITS.entriesPerIp,
      replayTtl: STATE_LIMITS.replayTtlSeconds,
    });
    const batch = JSON.stringify(
      observations.map((o) => ({
        id: `${o.sourceApp}|${o.eventId}`,
        at: o.at,
        att: o.attemptKey,
        sk: o.subject ? this.subjectKey(o.sourceApp, o.subject) : undefined,
        ik: o.ip ? this.ipKey(o.ip, o.sharesIpReputation ? null : o.sourceApp) : undefined,
        // A rotation through a site's /64s is one caller per guess: counted per site too.
        sik: o.ip ? (this.siteKey(o.ip, o.sharesIpReputation ? null : o.sourceApp) ?? undefined) : undefined,
        // Distinct callers, not addresses: one /64 rotating its host half is not a distributed attack.
        ip: o.ip ? (callerOf(o.ip) ?? o.ip) : undefined,
        dev: o.device ?? undefined,
        net: o.network ?? undefined,
        loc: o.coordinates ? `${o.coordinates.lat},${o.coordinates.lon}` : undefined,
        fail: o.isFailure || undefined,
        ok: o.isSuccess || undefined,
        try: o.isAttempt || undefined,
      })),
    );
    let raw: string[];
    try {
      raw = (await this.redis.evalsha(this.sha, 0, config, batch)) as string[];
    } catch (error) {
      if (!String((error as Error).message).includes('NOSCRIPT')) throw error;
      raw = (await this.redis.eval(OBSERVE_SCRIPT, 0, config, batch)) as string[];
    }
    return raw.map((text, i) => toSignals(JSON.parse(text) as RawSignals, observations[i]!));
  }
}

function toSignals(r: RawSignals, o: RiskObservation): RiskSignals {
  let previousLocation: RiskSignals['previousLocation'] = null;
  if (r.pl) {
    const [lat, lon, at] = r.pl.split(',').map(Number);
    if (Number.isFinite(lat) && Number.isFinite(lon) && Number.isFinite(at)) previousLocation = { lat: lat!, lon: lon!, at: at! };
  }
  return {
    accountFailures: r.af,
    accountFailureIps: r.afi,
    knownDevices: r.kd,
    deviceKnown: o.device ? r.dk === 1 : null,
    knownNetworks: r.kn,
    networkKnown: o.network ? r.nk === 1 : null,
    previousLocation,
    ipFailedAccounts: r.ifa,
    ipAttemptsPerMinute: r.ir,
    siteFailedAccounts: r.sfa ?? 0,
    siteAttemptsPerMinute: r.sr ?? 0,
  };
}

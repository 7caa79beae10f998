import { randomUUID } from 'node:crypto';
import { distanceKm, type Coordinates } from '../../src/features/risk/domain/geo';

/**
 * Labelled login traffic for the risk simulator: normal users and attacks,
 * as the auth and failed_login events an app posts to /v1/events.
 *
 * Every event has an offset: how long before the moment it is sent it
 * happened (its occurred_at). History (normal users' past week, attack
 * victims' earlier logins) is sent first, oldest first; then the live phase
 * sends today's normal logins and the attacks together. An attack's
 * attempts are spaced by its own pace in event time (a slow password spray
 * spreads ten attempts over up to 20 minutes) without the run waiting that
 * long: the risk worker's windows run on event time.
 */
export const ATTACKS = ['brute_force', 'credential_stuffing', 'password_spraying', 'distributed_brute_force', 'impossible_travel'] as const;
export type AttackName = (typeof ATTACKS)[number];
export type Scenario = 'normal' | AttackName;

/** What an event is, for scoring the run: a normal user's login, an attacker's attempt, or a victim's own past login. */
export type Role = 'normal' | 'attack' | 'setup';

export interface SimEvent {
  scenario: Scenario;
  role: Role;
  /** Events of one stream are sent in order, each after the previous one was accepted. */
  stream: string;
  /** 1-based attempt number within an attack instance. */
  attempt: number;
  /** ms before sending that it happened (0: now). */
  offsetMs: number;
  /** The event as posted, without occurred_at (set when sent). */
  body: Record<string, unknown> & { event_id: string };
}

export interface TrafficOptions {
  /** Prefix of every user id, so a run's rows can be told apart (and a rerun against the same server starts fresh). */
  runTag: string;
  normalUsers: number;
  /** Instances of each attack scenario. */
  attacksPerScenario: number;
  /** Attempts per attack instance. */
  attemptsPerAttack: number;
  seed: number;
}

export interface Traffic {
  /** The past week, sent first, oldest first. */
  history: SimEvent[];
  /** The last half hour of normal logins, oldest first, sent while the attacks run. */
  today: SimEvent[];
  /** One array per attack instance, its attempts in order. */
  attacks: SimEvent[][];
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const CITIES: (Coordinates & { city: string; country: string })[] = [
  { city: 'London', country: 'GB', lat: 51.51, lon: -0.13 },
  { city: 'Paris', country: 'FR', lat: 48.86, lon: 2.35 },
  { city: 'Berlin', country: 'DE', lat: 52.52, lon: 13.4 },
  { city: 'Madrid', country: 'ES', lat: 40.42, lon: -3.7 },
  { city: 'New York', country: 'US', lat: 40.71, lon: -74.01 },
  { city: 'Chicago', country: 'US', lat: 41.88, lon: -87.63 },
  { city: 'San Francisco', country: 'US', lat: 37.77, lon: -122.42 },
  { city: 'Toronto', country: 'CA', lat: 43.65, lon: -79.38 },
  { city: 'São Paulo', country: 'BR', lat: -23.55, lon: -46.63 },
  { city: 'Tokyo', country: 'JP', lat: 35.68, lon: 139.69 },
  { city: 'Singapore', country: 'SG', lat: 1.35, lon: 103.82 },
  { city: 'Sydney', country: 'AU', lat: -33.87, lon: 151.21 },
  { city: 'Mumbai', country: 'IN', lat: 19.08, lon: 72.88 },
  { city: 'Lagos', country: 'NG', lat: 6.52, lon: 3.38 },
  { city: 'Johannesburg', country: 'ZA', lat: -26.2, lon: 28.05 },
  { city: 'Moscow', country: 'RU', lat: 55.76, lon: 37.62 },
];
const BROWSERS = ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0'];
const PHONES = ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5) Mobile/15E148', 'Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/126.0 Mobile'];
const TOOLS = ['python-requests/2.32', 'curl/8.7.1', 'Go-http-client/1.1', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0'];

/** A small seeded generator (mulberry32), so a run can be repeated. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Addresses of one kind (homes, offices, hotels and phones, attackers): each
 * call a new /24, from a first octet of its own and a random start, so a
 * rerun against a live server meets none of an earlier run's IP state.
 */
class AddressSpace {
  private next: number;
  constructor(
    private readonly firstOctets: number[],
    random: () => number,
  ) {
    this.next = Math.floor(random() * 40_000);
  }
  network(): string {
    const n = this.next++;
    const first = this.firstOctets[Math.floor(n / 65536) % this.firstOctets.length]!;
    return `${first}.${(n >> 8) & 255}.${n & 255}`;
  }
  address(host = 1 + (this.next % 250)): string {
    return `${this.network()}.${host}`;
  }
}

/**
 * IPv6 sites (/48s) of one kind, from a random start as AddressSpace's, each
 * call a new one. The risk engine counts a site beside its /64s, so the
 * traffic has the two shapes that put many people in one site: an office
 * with a /64 per desk, and a provider's /48 split into /56s, one per home.
 */
class SiteSpace {
  private next: number;
  constructor(
    private readonly prefix: string,
    random: () => number,
  ) {
    this.next = Math.floor(random() * 40_000);
  }
  site(): string {
    return `${this.prefix}:${(this.next++ % 0x10000).toString(16)}`;
  }
}

interface Person {
  userId: string;
  email: string;
  home: (typeof CITIES)[number];
  homeIp: string;
  workIp: string;
  laptop: string;
  phone: string;
  browser: string;
}

export function generateTraffic(options: TrafficOptions): Traffic {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const between = (low: number, high: number) => low + random() * (high - low);
  const chance = (p: number) => random() < p;
  const homes = new AddressSpace([10], random);
  const offices = new AddressSpace([172], random);
  const roaming = new AddressSpace([100], random);
  // Phone carriers put many subscribers behind a few shared addresses (carrier-grade NAT).
  const carriers = Array.from({ length: 20 }, () => roaming.network());
  const carrierAddress = () => `${pick(carriers)}.${1 + Math.floor(random() * 250)}`;
  const attackers = new AddressSpace([45, 185, 193], random);
  const officeSites = new SiteSpace('2001:db8', random);
  // Four providers' /48s, 256 homes (a /56 each) in every one of them.
  const providerSites = Array.from({ length: 4 }, () => new SiteSpace('2a00:db8', random).site());
  let providerHomes = 0;
  const providerHome = () => {
    const n = providerHomes++;
    return `${providerSites[n % providerSites.length]}:${(((n >> 2) % 256) << 8).toString(16)}::1`;
  };

  const history: SimEvent[] = [];
  const today: SimEvent[] = [];
  const attacks: SimEvent[][] = [];
  let people = 0;
  let device = 0;

  // Colleagues share their office's address (NAT), as they do in real companies; or, in an IPv6
  // office, its /48, each desk on a /64 of its own.
  type Office = { left: number } & ({ ip: string } | { site: string; desks: number });
  const newOffice = (): Office => {
    const left = Math.floor(between(5, 40));
    return chance(0.4) ? { site: officeSites.site(), desks: 0, left } : { ip: offices.address(), left };
  };
  let office: Office = { ip: offices.address(), left: 0 };
  const person = (tag: string): Person => {
    const n = people++;
    if (office.left-- <= 0) office = newOffice();
    const userId = `${options.runTag}-${tag}-${n}`;
    return {
      userId,
      email: `${userId}@sim.example`,
      home: pick(CITIES),
      // Three homes in ten are on IPv6, in a provider's /48 with 255 neighbours.
      homeIp: chance(0.3) ? providerHome() : homes.address(),
      workIp: 'site' in office ? `${office.site}:${(office.desks++).toString(16)}::10` : office.ip,
      laptop: `laptop-${options.runTag}-${device++}`,
      phone: `phone-${options.runTag}-${device++}`,
      browser: pick(BROWSERS),
    };
  };
  // Apps know where a login came from most of the time, not always.
  const located = (place: Coordinates & { city: string; country: string }, always: boolean) => (always || chance(0.85) ? { location: { ...place } } : {});

  const success = (p: Person, ip: string, deviceId: string, userAgent: string, place: (typeof CITIES)[number], alwaysLocated = false) => ({
    kind: 'auth',
    event_id: randomUUID(),
    event_type: 'login_success',
    event_status: 'SUCCESS',
    user_id: p.userId,
    ip_address: ip,
    user_agent: userAgent,
    device_fingerprint: deviceId,
    session_id: `sess-${randomUUID()}`,
    ...located(place, alwaysLocated),
  });
  const failure = (userId: string, email: string, ip: string, deviceId: string, userAgent: string, extra: Record<string, unknown> = {}) => ({
    kind: 'failed_login',
    event_id: randomUUID(),
    user_id: userId,
    email_address: email,
    failure_reason: 'INVALID_PASSWORD',
    ip_address: ip,
    user_agent: userAgent,
    metadata: { device_fingerprint: deviceId, request_id: randomUUID() },
    ...extra,
  });

  /**
   * A normal login at `offsetMs`: sometimes after a typo or two a few seconds
   * earlier, and now and then after a forgotten password (three to six tries,
   * then a reset), which may reach the lockout threshold as it would for real.
   */
  const login = (out: SimEvent[], scenario: Scenario, role: Role, p: Person, offsetMs: number, ip: string, deviceId: string, userAgent: string, place: (typeof CITIES)[number]) => {
    const typos = chance(0.01) ? Math.floor(between(3, 6.99)) : chance(0.04) ? (chance(0.25) ? 2 : 1) : 0;
    for (let t = typos; t > 0; t--)
      out.push({ scenario, role, stream: p.userId, attempt: 0, offsetMs: offsetMs + t * between(5_000, 40_000), body: failure(p.userId, p.email, ip, deviceId, userAgent) });
    out.push({ scenario, role, stream: p.userId, attempt: 0, offsetMs, body: success(p, ip, deviceId, userAgent, place) });
  };

  // Normal users: a week of logins at work and at home, some with a new phone, some travelling; then today's login.
  for (let u = 0; u < options.normalUsers; u++) {
    const p = person('user');
    const past: SimEvent[] = [];
    const phoneFrom = chance(0.3) ? Math.floor(between(1, 7)) : -1; // the day (days ago) a new phone appears
    const trip = chance(0.15) ? { out: Math.floor(between(4, 7)), back: 2, to: pick(CITIES.filter((c) => distanceKm(c, p.home) > 300)) } : null;
    const hotelIp = roaming.address();
    for (let day = 7; day >= 1; day--) {
      const dayStart = day * DAY;
      if (trip && day < trip.out && day > trip.back) {
        // Away: one login a day from the hotel. The flights take the evening of the day out and
        // the morning of the day back, so logins at both ends are 20+ hours apart: no faster than a plane.
        login(past, 'normal', 'normal', p, dayStart - between(8, 12) * HOUR, hotelIp, p.laptop, p.browser, trip.to);
        continue;
      }
      const hasPhone = phoneFrom >= 0 && day <= phoneFrom;
      if (day !== trip?.back && chance(0.8)) login(past, 'normal', 'normal', p, dayStart - between(8, 10) * HOUR, p.workIp, p.laptop, p.browser, p.home);
      if (day !== trip?.out && chance(0.6)) {
        const onPhone = hasPhone && chance(0.7);
        // A phone sometimes logs in over its carrier's network rather than the home wifi.
        const ip = onPhone && chance(0.3) ? carrierAddress() : p.homeIp;
        login(past, 'normal', 'normal', p, dayStart - between(18, 22) * HOUR, ip, onPhone ? p.phone : p.laptop, onPhone ? pick(PHONES) : p.browser, p.home);
      }
    }
    history.push(...past);
    login(today, 'normal', 'normal', p, between(0, 30) * MINUTE, chance(0.6) ? p.workIp : p.homeIp, p.laptop, p.browser, p.home);
  }

  /** An attack's victim: a user who logged in from home a few times, days ago (or, for some, never). */
  const victim = (withHistory: boolean, lastLoginAgoMs = between(1, 6) * DAY, located = false): Person => {
    const p = person('victim');
    if (withHistory) {
      const logins = Math.floor(between(1, 3.99));
      for (let i = logins - 1; i >= 0; i--) {
        history.push({ scenario: 'normal', role: 'setup', stream: p.userId, attempt: 0, offsetMs: lastLoginAgoMs + i * DAY, body: success(p, p.homeIp, p.laptop, p.browser, p.home, located) });
      }
    }
    return p;
  };

  /** One attack instance: its attempts in order, the i-th (1-based) `gap × (n − i)` before the last. */
  const attack = (scenario: AttackName, instance: number, attempts: (attempt: number) => Record<string, unknown> & { event_id: string }, gapMs: number, n = options.attemptsPerAttack) => {
    const stream = `${options.runTag}-${scenario}-${instance}`;
    attacks.push(Array.from({ length: n }, (_, i) => ({ scenario, role: 'attack' as const, stream, attempt: i + 1, offsetMs: (n - 1 - i) * gapMs, body: attempts(i + 1) })));
  };
  const tool = () => ({ device: `tool-${randomUUID().slice(0, 8)}`, userAgent: pick(TOOLS) });

  for (let i = 0; i < options.attacksPerScenario; i++) {
    // Brute force: one IP, one account, many passwords; half fast (a tool), half slow (under a rate limit).
    {
      const target = victim(chance(0.8));
      const ip = attackers.address();
      const t = tool();
      attack('brute_force', i, () => failure(target.userId, target.email, ip, t.device, t.userAgent), chance(0.5) ? between(500, 3_000) : between(20_000, 80_000));
    }
    // Credential stuffing: one IP, a leaked list (each account tried once, fast); a few of the pairs are valid.
    {
      const ip = attackers.address();
      const t = tool();
      const targets = Array.from({ length: options.attemptsPerAttack }, () => victim(chance(0.7)));
      attack(
        'credential_stuffing',
        i,
        (n) => {
          const target = targets[n - 1]!;
          return chance(0.03) ? success(target, ip, t.device, t.userAgent, pick(CITIES)) : failure(target.userId, target.email, ip, t.device, t.userAgent);
        },
        between(300, 3_000),
      );
    }
    // Password spraying: one IP, one common password across many accounts, slowly.
    {
      const ip = attackers.address();
      const t = tool();
      const targets = Array.from({ length: options.attemptsPerAttack }, () => victim(chance(0.7)));
      attack('password_spraying', i, (n) => failure(targets[n - 1]!.userId, targets[n - 1]!.email, ip, t.device, t.userAgent), between(30_000, 120_000));
    }
    // Distributed brute force: one account, each attempt from another address of a botnet.
    {
      const target = victim(chance(0.8));
      const t = tool();
      attack('distributed_brute_force', i, () => failure(target.userId, target.email, attackers.address(), `bot-${randomUUID().slice(0, 8)}`, t.userAgent), between(10_000, 80_000));
    }
    // Impossible travel: stolen credentials used far away, an hour or a few after the owner's last login at home.
    {
      // The scenario is about places: the owner's last login and the attacker's have a location.
      const target = victim(true, between(1, 4) * HOUR, true);
      const far = pick(CITIES.filter((c) => distanceKm(c, target.home) > 5000));
      const ip = attackers.address();
      const t = tool();
      const typoFirst = chance(0.3);
      attack(
        'impossible_travel',
        i,
        (n) => (typoFirst && n === 1 ? failure(target.userId, target.email, ip, t.device, t.userAgent) : success(target, ip, t.device, t.userAgent, far, true)),
        between(10_000, 60_000),
        typoFirst ? 2 : 1,
      );
    }
  }
  const oldestFirst = (a: SimEvent, b: SimEvent) => b.offsetMs - a.offsetMs;
  return { history: history.sort(oldestFirst), today: today.sort(oldestFirst), attacks };
}

import type { Queue } from 'bullmq';
import { AppError } from '../../lib/errors/app-error';
import type { EventPublisher } from '../../queues/event-publisher';
import { EVENT_KIND_NAMES, type EventKind } from '../../schemas/event';
import { actorFields } from '../audit/actor-fields';
import { ADMIN_LEVELS, type AdminAction } from '../admin/admin-levels';
import type { AdministratorRow } from '../admin/administrator.repository';
import type { AuthenticatedKey } from '../api-keys/api-key.service';
import type { RequestContext } from '../../http/request-context';
import type { EventStatsRepository } from './event-stats.repository';
import type { FailedLoginsByAccount, FailedLoginsByIp, FailedLoginStatsRepository, RiskDay } from './failed-login-stats.repository';
import type { LockedAccount, LockedAccountRepository } from './locked-account.repository';
import type { SecurityTrendRepository } from './security-trend.repository';
import { queueStatus, type QueueStatus } from './queue-status';
import { decodeTimelineCursor, encodeTimelineCursor } from './timeline-cursor';
import type { TimelineEvent, UserTimelineRepository } from './user-timeline.repository';

export interface DashboardDeps {
  stats: EventStatsRepository;
  failedLogins: FailedLoginStatsRepository;
  timeline: UserTimelineRepository;
  locked: LockedAccountRepository;
  securityTrends: SecurityTrendRepository;
  /** Queues whose backlog the overview shows. */
  queues: Queue[];
  events?: EventPublisher;
}

/** Who is looking, and what the dashboard may offer them (the pages and buttons follow `can`). */
export interface Viewer {
  principal: { type: 'admin'; id: string; email: string; admin_level: number } | { type: 'api_key'; id: string; name: string; app: string };
  can: Record<AdminAction, boolean>;
  /** The apps whose data the viewer reads (a key restricted to apps); null: every app. */
  apps: string[] | null;
}

export interface Overview {
  from: string;
  to: string;
  /** Start of each hour, ISO 8601; every series below has one value per hour. */
  hours: string[];
  events_by_kind: Record<string, number[]>;
  /** The shared queues' backlog; null for a viewer restricted to apps (it is every app's traffic). */
  queues: QueueStatus[] | null;
  /** Of the apps read (all, or the filter's / the viewer's). */
  dead_letters: { total: number; pending: number };
}

/** GET /v1/dashboard/security-trends: what the charts of failed logins, lockouts and security events show. */
export interface SecurityTrends {
  from: string;
  to: string;
  /** Start of each hour, ISO 8601; every series below has one value per hour. */
  hours: string[];
  failed_logins: number[];
  /** Locks, unlocks and IP blocks, by the action_taken of security events. */
  lockouts: Record<string, number[]>;
  /** Every security event, by severity (CRITICAL, HIGH, MEDIUM, LOW always present). */
  security_events_by_severity: Record<string, number[]>;
}

const LOCK_ACTIONS = ['ACCOUNT_LOCKED', 'IP_BLOCKED', 'ACCOUNT_UNLOCKED'];
const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];

/** A page that knows whether another follows (one row more was asked for). */
interface Paged {
  limit: number;
  offset: number;
  has_more: boolean;
}

const HOUR = 3_600_000;

/** What a `reports` API key may do on the dashboard: read and manage reports, nothing about users or incidents. */
const KEY_ACTIONS: readonly AdminAction[] = ['readReports', 'manageReports'];

/**
 * The dashboard's read models: traffic and queues for the overview, failed
 * logins and locks, a user's timeline. Lists come a bounded page at a time
 * and every ClickHouse figure is read from a materialized view, except the
 * timeline, which reads one user's rows by an indexed column.
 */
export class DashboardService {
  constructor(private readonly d: DashboardDeps) {}

  viewer(admin: AdministratorRow | undefined, key: AuthenticatedKey | undefined): Viewer {
    const actions = Object.keys(ADMIN_LEVELS) as AdminAction[];
    if (admin) {
      return {
        principal: { type: 'admin', id: admin.id, email: admin.email, admin_level: admin.admin_level },
        can: Object.fromEntries(actions.map((a) => [a, admin.admin_level >= ADMIN_LEVELS[a]])) as Record<AdminAction, boolean>,
        apps: null,
      };
    }
    if (!key) throw new AppError('UNAUTHENTICATED', 'log in first');
    return {
      principal: { type: 'api_key', id: key.id, name: key.name, app: key.app },
      can: Object.fromEntries(actions.map((a) => [a, KEY_ACTIONS.includes(a)])) as Record<AdminAction, boolean>,
      apps: key.apps,
    };
  }

  /**
   * Traffic per hour and kind, queue backlog and dead letters. `apps`: only
   * those apps' events and dead letters (the app filter, or what a
   * restricted key may read); `restricted`: the viewer may read only those
   * apps, so the shared queues, which carry every app's traffic, are left out.
   */
  async overview(hours: number, apps?: string[], restricted = false, now = Date.now()): Promise<Overview> {
    // Whole hours, the current one included.
    const to = Math.floor(now / HOUR) * HOUR + HOUR;
    const from = to - hours * HOUR;
    const [counts, queues, deadLetters] = await Promise.all([
      this.d.stats.perHour(new Date(from), new Date(to), apps),
      restricted ? null : queueStatus(this.d.queues, now),
      this.d.stats.deadLetters(apps),
    ]);
    const hourStarts = Array.from({ length: hours }, (_, i) => new Date(from + i * HOUR).toISOString());
    const index = new Map(hourStarts.map((h, i) => [h, i]));
    const byKind: Record<string, number[]> = Object.fromEntries(EVENT_KIND_NAMES.map((k) => [k, new Array<number>(hours).fill(0)]));
    for (const c of counts) {
      const i = index.get(c.hour);
      if (i === undefined) continue;
      let series = byKind[c.kind];
      if (!series) {
        series = new Array<number>(hours).fill(0);
        byKind[c.kind] = series;
      }
      series[i] = c.events;
    }
    return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), hours: hourStarts, events_by_kind: byKind, queues, dead_letters: deadLetters };
  }

  /**
   * Failed logins (from events_per_hour), lockouts and security events by
   * severity (from security_events) per hour over the last `hours`, of one
   * app when `app` is given: the dashboard's charts of attacks and controls.
   */
  async securityTrends(hours: number, app?: string, now = Date.now()): Promise<SecurityTrends> {
    const to = Math.floor(now / HOUR) * HOUR + HOUR;
    const from = to - hours * HOUR;
    const [traffic, security] = await Promise.all([
      this.d.stats.perHour(new Date(from), new Date(to), app === undefined ? undefined : [app]),
      this.d.securityTrends.perHour(new Date(from), new Date(to), app),
    ]);
    const hourStarts = Array.from({ length: hours }, (_, i) => new Date(from + i * HOUR).toISOString());
    const index = new Map(hourStarts.map((h, i) => [h, i]));
    const zeros = () => new Array<number>(hours).fill(0);
    const failed = zeros();
    for (const c of traffic) {
      const i = index.get(c.hour);
      if (c.kind === 'failed_login' && i !== undefined) failed[i]! += c.events;
    }
    const lockouts: Record<string, number[]> = Object.fromEntries(LOCK_ACTIONS.map((a) => [a, zeros()]));
    const bySeverity: Record<string, number[]> = Object.fromEntries(SEVERITIES.map((s) => [s, zeros()]));
    for (const c of security) {
      const i = index.get(c.hour);
      if (i === undefined) continue;
      const severity = bySeverity[c.severity_level] ?? zeros();
      bySeverity[c.severity_level] = severity;
      severity[i]! += c.events;
      if (lockouts[c.action_taken]) lockouts[c.action_taken]![i]! += c.events;
    }
    return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), hours: hourStarts, failed_logins: failed, lockouts, security_events_by_severity: bySeverity };
  }

  async eventTypes(kind: EventKind): Promise<{ kind: EventKind; event_types: { event_type: string; events: number }[] }> {
    return { kind, event_types: await this.d.stats.eventTypes(kind) };
  }

  async failedLogins(
    q: { by: 'ip' | 'account'; hours: number; limit: number; offset: number; app?: string },
    now = Date.now(),
  ): Promise<Paged & { by: 'ip' | 'account'; from: string; to: string; rows: (FailedLoginsByIp | FailedLoginsByAccount)[] }> {
    const to = Math.floor(now / HOUR) * HOUR + HOUR;
    const from = to - q.hours * HOUR;
    const page = { from: new Date(from), to: new Date(to), limit: q.limit + 1, offset: q.offset, app: q.app };
    const rows = q.by === 'ip' ? await this.d.failedLogins.byIp(page) : await this.d.failedLogins.byAccount(page);
    return { by: q.by, from: page.from.toISOString(), to: page.to.toISOString(), rows: rows.slice(0, q.limit), limit: q.limit, offset: q.offset, has_more: rows.length > q.limit };
  }

  async authRisk(days: number, now = Date.now()): Promise<{ from: string; days: RiskDay[] }> {
    const from = new Date(now - (days - 1) * 24 * HOUR);
    return { from: from.toISOString().slice(0, 10), days: await this.d.failedLogins.riskPerDay(from) };
  }

  async lockedAccounts(limit: number, offset: number, app?: string): Promise<Paged & { accounts: LockedAccount[] }> {
    const rows = await this.d.locked.list(limit + 1, offset, app);
    return { accounts: rows.slice(0, limit), limit, offset, has_more: rows.length > limit };
  }

  /**
   * The source apps a viewer can filter by: those with a key, a lock or a
   * risk decision, and auditflow itself; for a viewer restricted to apps
   * (`readable`), those apps and nothing else.
   */
  async apps(readable: string[] | null = null): Promise<string[]> {
    if (readable) return [...new Set(readable)].sort();
    const [sent, known] = await Promise.all([this.d.stats.apps(), this.d.locked.apps()]);
    return [...new Set([...sent, ...known])].sort();
  }

  /**
   * Every event about a user, a page at a time. Reading a user's history is
   * reading personal data, so the first page is recorded as an audit READ.
   */
  async timeline(
    userId: string,
    q: { kinds?: EventKind[]; order: 'asc' | 'desc'; cursor?: string; limit: number; app?: string },
    ctx: RequestContext,
  ): Promise<{ user_id: string; order: 'asc' | 'desc'; events: TimelineEvent[]; next_cursor: string | null }> {
    const after = q.cursor ? decodeTimelineCursor(q.cursor, q.order) : undefined;
    if (after === null) throw new AppError('VALIDATION_FAILED', 'cursor: not a cursor of this timeline and order; start again without it');
    const events = await this.d.timeline.page(userId, { kinds: q.kinds ?? EVENT_KIND_NAMES, order: q.order, after, limit: q.limit + 1, app: q.app });
    const page = events.slice(0, q.limit);
    if (!q.cursor) {
      this.d.events?.publish({
        kind: 'audit',
        event_type: 'user_timeline_viewed',
        user_id: userId,
        action_type: 'READ',
        entity_type: 'USER_ACCOUNT',
        entity_id: userId,
        ...actorFields(ctx),
      });
    }
    return { user_id: userId, order: q.order, events: page, next_cursor: events.length > q.limit ? encodeTimelineCursor(page[page.length - 1]!, q.order) : null };
  }
}

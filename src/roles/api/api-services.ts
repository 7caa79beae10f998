import { cappedMailer } from '../../features/rate-limits/capped-mailer';
import { RouteLimits } from '../../features/rate-limits/route-limits';
import { randomUUID } from 'node:crypto';
import type { WebhookNotifier } from '../../features/webhooks/webhook-notifier';
import type { WeakeningNotice } from '../../features/settings/settings.service';
import { OutboundAddressPolicy } from '../../lib/outbound-address';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import type { Config } from '../../config/env';
import type { Logger } from '../../lib/logger';
import { createMailer, type Mailer } from '../../lib/mailer';
import { SecretBox } from '../../lib/secret-box';
import type { ClickHouseReader } from '../../queues/clickhouse-reader';
import type { EventPublisher } from '../../queues/event-publisher';
import { buildAdminServices, type AdminServices } from '../../features/admin/admin.services';
import { AccountEvents } from '../../features/auth/account-events';
import { DashboardService } from '../../features/dashboard/dashboard.service';
import { EventStatsRepository } from '../../features/dashboard/event-stats.repository';
import { SecurityTrendRepository } from '../../features/dashboard/security-trend.repository';
import { FailedLoginStatsRepository } from '../../features/dashboard/failed-login-stats.repository';
import { LockedAccountRepository } from '../../features/dashboard/locked-account.repository';
import { UserTimelineRepository } from '../../features/dashboard/user-timeline.repository';
import { AccountTokenRepository } from '../../features/auth/account-token.repository';
import { AccountService } from '../../features/auth/account.service';
import { AuthService } from '../../features/auth/auth.service';
import { LoginAudit } from '../../features/auth/login-audit';
import { LoginStepUp } from '../../features/auth/login-step-up';
import { LoginGuard } from '../../features/auth/login-guard';
import { PasswordCheck } from '../../features/auth/password-check';
import { PasswordService } from '../../features/auth/password.service';
import { SessionRepository } from '../../features/auth/session.repository';
import { UserRepository } from '../../features/auth/user.repository';
import { SettingsRepository } from '../../features/settings/settings.repository';
import { SettingsService } from '../../features/settings/settings.service';
import { TodoEvents } from '../../features/todos/todo-events';
import { TodoRepository } from '../../features/todos/todo.repository';
import { TodoService } from '../../features/todos/todo.service';
import { IpBlocks } from '../../features/risk/state/ip-blocks';
import { RecentDecisions } from '../../features/risk/state/recent-decisions';
import { RiskState } from '../../features/risk/state/risk-state';
import { RiskSubjectRepository } from '../../features/risk/risk-subject.repository';
import { WebhookRepository } from '../../features/webhooks/webhook.repository';
import { RetentionPolicyRepository } from '../../features/retention/retention-policy.repository';
import { RetentionPolicyService } from '../../features/retention/retention-policy.service';
import { SubjectService } from '../../features/risk/subject.service';
import { WebhookService } from '../../features/webhooks/webhook.service';

/** The todo/auth API's services, wired from their repositories. */
export interface ApiServices {
  /** The administrators component (/admin). */
  admin: AdminServices;
  settings: SettingsService;
  auth: AuthService;
  passwords: PasswordService;
  accounts: AccountService;
  users: UserRepository;
  sessions: SessionRepository;
  mailer: Mailer;
  accountEvents: AccountEvents;
  guard: LoginGuard;
  todos: TodoService;
  /** Read access to ClickHouse (error logs, security events, timelines). */
  reader: ClickHouseReader;
  /** Apps' view of the risk worker: their users' risk and locks, their webhook. */
  subjects: SubjectService;
  webhooks: WebhookService;
  /** The dashboard's read models (/v1/dashboard). */
  dashboard: DashboardService;
  /** data_retention_policies (/v1/retention-policies). */
  retention: RetentionPolicyService;
  /** Per-IP and per-address limits of the unauthenticated routes. */
  limits: RouteLimits;
}

/** `queues`: those whose backlog the dashboard shows. */
export function buildApiServices(
  config: Config,
  pg: Pool,
  redis: Redis,
  events: EventPublisher | undefined,
  reader: ClickHouseReader,
  logger: Logger,
  queues: Queue[] = [],
  /** Where a settings change that lowers protection is announced (every app subscribed to protection.weakened). */
  webhookNotifier?: WebhookNotifier,
): ApiServices {
  const box = SecretBox.fromConfig(config.settingsEncryptionKey, config.keysDir);
  const announceWeakening = async (notice: Parameters<WeakeningNotice>[0]) => {
    await webhookNotifier
      ?.broadcast('protection.weakened', `weakened-${randomUUID()}`, notice)
      .catch((error: unknown) => logger.warn({ err: error }, 'could not queue the protection.weakened webhook'));
  };
  const settings = new SettingsService(new SettingsRepository(pg), box, events, config.settingsCacheMs, announceWeakening);
  const users = new UserRepository(pg);
  const sessions = new SessionRepository(pg);
  const tokens = new AccountTokenRepository(pg);
  const guard = new LoginGuard(pg);
  const limits = new RouteLimits(redis, config.queuePrefix, settings, events, logger.child({ component: 'rate-limits' }));
  const mailer = cappedMailer(createMailer(config.mail), limits, logger);
  const accountEvents = new AccountEvents(events);
  const ipBlocks = new IpBlocks(redis, config.queuePrefix);
  const riskState = new RiskState(redis, { prefix: config.queuePrefix, historyTtlSeconds: 0 });
  const stepUp = new LoginStepUp({ tokens, mailer, risk: riskState, logger });
  const audit = new LoginAudit(accountEvents);
  const check = new PasswordCheck({ guard, users, settings, audit, ipBlocks, stepUp, logger });
  const auth = new AuthService({ users, sessions, tokens, settings, mailer, events: accountEvents, audit, passwords: check, publicUrl: config.publicUrl, logger });
  const passwords = new PasswordService({ users, sessions, tokens, guard, check, mailer, events: accountEvents, audit, publicUrl: config.publicUrl, logger });
  const accounts = new AccountService({ pg, users, sessions, tokens, settings, mailer, events: accountEvents, auth, passwords: check, publicUrl: config.publicUrl, logger });
  const todos = new TodoService({ todos: new TodoRepository(pg), settings, events: new TodoEvents(events) });
  const admin = buildAdminServices({ pg, users, sessions, settings, auth, guard, events: accountEvents, audit, reader });
  const subjects = new SubjectService(new RiskSubjectRepository(pg), new RecentDecisions(redis, riskState));
  const webhooks = new WebhookService(new WebhookRepository(pg), box, events, new OutboundAddressPolicy(config.webhooks.allowedCidrs));
  const dashboard = new DashboardService({
    stats: new EventStatsRepository(reader),
    failedLogins: new FailedLoginStatsRepository(reader),
    timeline: new UserTimelineRepository(reader),
    locked: new LockedAccountRepository(pg),
    securityTrends: new SecurityTrendRepository(reader),
    queues,
    events,
  });
  const retention = new RetentionPolicyService(new RetentionPolicyRepository(pg), events, config.retentionMinDays, announceWeakening);
  return { admin, settings, auth, passwords, accounts, users, sessions, mailer, accountEvents, guard, todos, reader, subjects, webhooks, dashboard, retention, limits };
}

import type { Queue } from 'bullmq';
import express, { type Express } from 'express';
import { AppError } from '../../lib/errors/app-error';
import type { Logger } from '../../lib/logger';
import type { AppMetrics } from '../../lib/metrics';
import type { EventPublisher } from '../../queues/event-publisher';
import { authOperations } from '../../features/auth/auth.openapi';
import { adminOperations } from '../../features/admin/admin.openapi';
import { adminRoutes } from '../../features/admin/admin.routes';
import { PrivilegedActionAuditor } from '../../features/audit/privileged-action-auditor';
import { authRoutes } from '../../features/auth/auth.routes';
import type { AnalystQueryService } from '../../features/analyst/analyst-query.service';
import { clickHouseHttpOperations } from '../../features/analyst/clickhouse-http.openapi';
import { clickHouseHttpRoutes } from '../../features/analyst/clickhouse-http.routes';
import { healthOperations } from '../../features/ops/health.openapi';
import { integrityOperations } from '../../features/integrity/integrity.openapi';
import { integrityRoutes, type IntegrityChecker } from '../../features/integrity/integrity.routes';
import { reportOperations } from '../../features/reports/reports.openapi';
import { retentionOperations } from '../../features/retention/retention.openapi';
import { retentionRoutes } from '../../features/retention/retention.routes';
import { reportsRoutes, type ReportsComponent } from '../../features/reports/reports.routes';
import { dashboardOperations } from '../../features/dashboard/dashboard.openapi';
import { dashboardPageRoutes } from '../../features/dashboard/dashboard-page.routes';
import { dashboardRoutes } from '../../features/dashboard/dashboard.routes';
import { requireAdminOrKey } from '../../features/admin/require-admin-or-key';
import { ingestOperations } from '../../features/ingest/ingest.openapi';
import type { ApiOperation } from '../../http/api-operation';
import { openApiRoutes } from './openapi.routes';
import { metricsRoutes } from '../../features/ops/metrics.routes';
import { opsOperations } from '../../features/ops/ops.openapi';
import { queueBoardRoutes } from '../../features/ops/queue-board.routes';
import { requestLog } from '../../features/ops/request-log';
import { requireOperator } from '../../features/ops/require-operator';
import { errorHandler } from '../../http/error-handler';
import { refuseHostileJson, verifyJsonBody } from '../../http/hostile-json';
import { noStore } from '../../http/no-store';
import { requestContext } from '../../http/request-context';
import type { ApiServices } from './api-services';
import { healthRoutes, type ReadinessCheck } from '../../features/ops/health.routes';
import type { IngestService } from '../../features/ingest/ingest.service';
import { ingestRoutes } from '../../features/ingest/ingest.routes';
import type { ApiKeyService } from '../../features/api-keys/api-key.service';
import { todoOperations } from '../../features/todos/todos.openapi';
import { todoRoutes } from '../../features/todos/todos.routes';
import { subjectOperations } from '../../features/risk/subjects.openapi';
import { subjectsRoutes } from '../../features/risk/subjects.routes';
import { webhookOperations } from '../../features/webhooks/webhooks.openapi';
import { webhooksRoutes } from '../../features/webhooks/webhooks.routes';
import { ApiKeyAdminService } from '../../features/admin/api-key-admin.service';

export interface AppDeps {
  logger: Logger;
  apiKeys: ApiKeyService;
  ingest: IngestService;
  bodyLimitBytes: number;
  readiness: Record<string, ReadinessCheck>;
  /** The API's own events (api_access, errors, account and todo actions). */
  events?: EventPublisher;
  services: ApiServices;
  /** Runs integrity verification where ClickHouse is. */
  integrity: IntegrityChecker;
  /** Compliance reports: stored ones, their verification, and generation where ClickHouse is. */
  reports: ReportsComponent;
  /** Version shown in the OpenAPI document. */
  version?: string;
  /** Served at /metrics; absent, /metrics answers 404. */
  metrics?: AppMetrics;
  /** Bearer token /metrics requires (METRICS_TOKEN); unset, it answers loopback clients only. */
  metricsToken?: string;
  /** Queues shown on Bull Board at /admin/queues. */
  queues?: Queue[];
  /** Analysts' read-only queries on /clickhouse. */
  analyst: AnalystQueryService;
}

/** Every endpoint, for /openapi.json; a test checks that no route is missing. */
export const API_OPERATIONS: ApiOperation[] = [
  ...healthOperations,
  ...ingestOperations,
  ...authOperations,
  ...adminOperations,
  ...integrityOperations,
  ...reportOperations,
  ...retentionOperations,
  ...todoOperations,
  ...opsOperations,
  ...subjectOperations,
  ...webhookOperations,
  ...dashboardOperations,
  ...clickHouseHttpOperations,
];

/** Builds the HTTP app from its dependencies; opens no connection itself. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Every answer is no-store (noStore below), so an ETag has nothing to revalidate: skip hashing each body.
  app.set('etag', false);
  app.set('trust proxy', 'loopback');
  app.use(requestContext(deps.events));
  app.use(noStore());
  // After requestContext: its request id is the log line's.
  app.use(requestLog(deps.logger));
  // The hot path first: an ingest post need not walk every router below to reach its own.
  app.use(ingestRoutes(deps.ingest, deps.apiKeys, deps.bodyLimitBytes));
  app.use(healthRoutes(deps.readiness));
  app.use(metricsRoutes(deps.metrics, deps.metricsToken));
  app.use(queueBoardRoutes(deps.queues ?? [], requireOperator(deps.services.auth, deps.services.admin, deps.apiKeys)));
  app.use(openApiRoutes(API_OPERATIONS, deps.version ?? '0.0.0'));
  const audit = new PrivilegedActionAuditor(deps.events);
  // Reads its own body: SQL text, not JSON. Before the landing page: a ClickHouse client may send its queries to /.
  app.use(clickHouseHttpRoutes(deps.analyst, deps.logger, audit));
  app.use(dashboardPageRoutes());
  // Reports and integrity: a `reports` key, or an administrator with the level admin-levels.ts gives.
  const access = { auth: deps.services.auth, admin: deps.services.admin, keys: deps.apiKeys };
  const readReports = requireAdminOrKey(access, 'reports', 'readReports');
  app.use(integrityRoutes(deps.integrity, readReports, audit));
  // Every other route takes small JSON bodies.
  app.use(express.json({ limit: '100kb', verify: verifyJsonBody }));
  app.use(refuseHostileJson());
  // Reports bound every read to a restricted key's apps (app-scoped reports); integrity, above, covers every app and refuses such a key.
  const appScoped = { servesRestricted: true };
  app.use(reportsRoutes(deps.reports, { read: requireAdminOrKey(access, 'reports', 'readReports', appScoped), manage: requireAdminOrKey(access, 'reports', 'manageReports', appScoped) }, audit));
  app.use(retentionRoutes(deps.services.retention, { read: requireAdminOrKey(access, 'retention', 'readRetention'), manage: requireAdminOrKey(access, 'retention', 'manageRetention') }));
  app.use(dashboardRoutes(deps.services.dashboard, access));
  app.use(authRoutes(deps.services.auth, deps.services.accounts, deps.services.passwords, deps.services.limits));
  // The API's own key service: a key revoked here is refused at once, its cache dropped.
  app.use(adminRoutes(deps.services.admin, deps.services.auth, deps.services.limits, new ApiKeyAdminService(deps.apiKeys, audit), audit));
  app.use(todoRoutes(deps.services.todos, deps.services.auth));
  app.use(subjectsRoutes(deps.services.subjects, deps.apiKeys));
  app.use(webhooksRoutes(deps.services.webhooks, deps.apiKeys));
  app.use((req) => {
    throw new AppError('NOT_FOUND', `no route for ${req.method} ${req.path}`);
  });
  app.use(errorHandler(deps.logger, deps.events));
  return app;
}

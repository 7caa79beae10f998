import express, { type Express } from 'express';
import { AppError } from '../../lib/errors/app-error';
import type { Logger } from '../../lib/logger';
import type { AppMetrics } from '../../lib/metrics';
import { errorHandler } from '../../http/error-handler';
import { healthRoutes, type ReadinessCheck } from './health.routes';
import { requestContext } from '../../http/request-context';
import { metricsRoutes } from './metrics.routes';
import { requestLog } from './request-log';

export interface OpsAppDeps {
  logger: Logger;
  metrics: AppMetrics;
  /** Bearer token /metrics requires (METRICS_TOKEN); unset, it answers loopback clients only. */
  metricsToken?: string;
  readiness: Record<string, ReadinessCheck>;
}

/**
 * The ops endpoints alone (/healthz, /readyz, /metrics), the same handlers as
 * the API's, for processes without the api role: a worker's flush and lag
 * metrics live in the worker, so they must be scraped there.
 */
export function createOpsApp(deps: OpsAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(requestContext(undefined));
  app.use(requestLog(deps.logger));
  app.use(healthRoutes(deps.readiness));
  app.use(metricsRoutes(deps.metrics, deps.metricsToken));
  app.use((req) => {
    throw new AppError('NOT_FOUND', `no route for ${req.method} ${req.path}; this port serves /healthz, /readyz and /metrics`);
  });
  app.use(errorHandler(deps.logger));
  return app;
}

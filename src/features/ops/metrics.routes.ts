import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import { AppError } from '../../lib/errors/app-error';
import type { AppMetrics } from '../../lib/metrics';

const sha256 = (value: string) => createHash('sha256').update(value).digest();

const isLoopback = (ip: string | null) => ip === '::1' || (ip?.startsWith('127.') ?? false);

/**
 * Who may scrape: with METRICS_TOKEN set, whoever sends it as a Bearer token;
 * unset, loopback clients only (req.ip, so a client behind a local proxy that
 * sets X-Forwarded-For is not mistaken for a local one).
 */
export function metricsAccess(token: string | undefined): RequestHandler {
  const expected = token === undefined ? undefined : sha256(token);
  return (req, res, next) => {
    if (expected) {
      const sent = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
      if (!sent) throw new AppError('UNAUTHENTICATED', 'send the metrics token: Authorization: Bearer <METRICS_TOKEN>');
      // Hashes have equal lengths, so the comparison time says nothing about the token.
      if (!timingSafeEqual(sha256(sent), expected)) throw new AppError('UNAUTHENTICATED', 'wrong metrics token');
    } else if (!isLoopback(res.locals.ctx.ip)) {
      throw new AppError('FORBIDDEN', '/metrics answers loopback clients only; set METRICS_TOKEN to scrape it from elsewhere');
    }
    next();
  };
}

/** GET /metrics: the process's metrics in the Prometheus text format. */
export function metricsRoutes(metrics: AppMetrics | undefined, token: string | undefined): Router {
  const router = Router();
  router.get('/metrics', metricsAccess(token), async (_req, res) => {
    if (!metrics) throw new AppError('NOT_FOUND', 'this process collects no metrics');
    const body = await metrics.render();
    res.set('Content-Type', metrics.contentType).send(body);
  });
  return router;
}

import { Router } from 'express';
import type { AdminAction } from '../admin/admin-levels';
import { requireAdmin, requireLevel } from '../admin/require-admin';
import { requireAdminOrKey, type AdminOrKeyDeps } from '../admin/require-admin-or-key';
import { boundedApps, readableApps } from '../api-keys/app-restriction';
import { validate } from '../../http/validate';
import type { DashboardService } from './dashboard.service';
import { authRiskQuery, eventTypesQuery, failedLoginsQuery, lockedAccountsQuery, overviewQuery, securityTrendsQuery, timelineParams, timelineQuery } from './dashboard.schemas';

/**
 * /v1/dashboard: the figures the dashboard shows that no other endpoint
 * gives. Traffic and the list of apps are for anyone who may read reports
 * (an administrator or a `reports` key); failed logins, locks and timelines
 * are for administrators only. Actions (resolve, unlock) are the /admin
 * endpoints'.
 *
 * A `reports` key restricted to apps is served here, and every read is
 * bounded on the server to its apps (readableApps): without a filter it
 * reads all of its apps, with one it reads that app, and naming an app
 * outside its own is refused (403) whether or not that app exists.
 */
export function dashboardRoutes(dashboard: DashboardService, access: AdminOrKeyDeps): Router {
  const router = Router();
  const admin = (action: AdminAction) => Router().use(requireAdmin(access.auth, access.admin), requireLevel(action));
  const appScoped = { servesRestricted: true };

  router.get('/v1/dashboard/me', requireAdminOrKey(access, 'reports', undefined, appScoped), (_req, res) => {
    res.json(dashboard.viewer(res.locals.admin, res.locals.apiKey));
  });

  router.get('/v1/dashboard/overview', requireAdminOrKey(access, 'reports', 'readReports', appScoped), async (req, res) => {
    const q = validate(overviewQuery, req.query);
    const readable = readableApps(res.locals);
    res.json(await dashboard.overview(q.hours, boundedApps(readable, q.app), readable !== null));
  });

  router.get('/v1/dashboard/event-types', admin('readIncidents'), async (req, res) => {
    res.json(await dashboard.eventTypes(validate(eventTypesQuery, req.query).kind));
  });

  router.get('/v1/dashboard/failed-logins', admin('readIncidents'), async (req, res) => {
    res.json(await dashboard.failedLogins(validate(failedLoginsQuery, req.query)));
  });

  router.get('/v1/dashboard/security-trends', admin('readIncidents'), async (req, res) => {
    const q = validate(securityTrendsQuery, req.query);
    res.json(await dashboard.securityTrends(q.hours, q.app));
  });

  router.get('/v1/dashboard/auth-risk', admin('readIncidents'), async (req, res) => {
    res.json(await dashboard.authRisk(validate(authRiskQuery, req.query).days));
  });

  router.get('/v1/dashboard/locked-accounts', admin('readUsers'), async (req, res) => {
    const q = validate(lockedAccountsQuery, req.query);
    res.json(await dashboard.lockedAccounts(q.limit, q.offset, q.app));
  });

  router.get('/v1/dashboard/apps', requireAdminOrKey(access, 'reports', 'readIncidents', appScoped), async (_req, res) => {
    res.json({ apps: await dashboard.apps(readableApps(res.locals)) });
  });

  router.get('/v1/dashboard/users/:user_id/timeline', admin('readUsers'), async (req, res) => {
    const { user_id } = validate(timelineParams, req.params);
    res.json(await dashboard.timeline(user_id, validate(timelineQuery, req.query), res.locals.ctx));
  });

  return router;
}

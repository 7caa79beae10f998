import { emailOfBody, rateLimited, type RouteLimits } from '../rate-limits/route-limits';
import { Router } from 'express';
import type { AuthService } from '../auth/auth.service';
import { validate } from '../../http/validate';
import { requestActor, type PrivilegedActionAuditor } from '../audit/privileged-action-auditor';
import { administratorPasswordChanged } from '../audit/privileged-actions';
import {
  adminChangePasswordBody,
  adminLoginBody,
  apiKeyIdParams,
  createApiKeyBody,
  createSettingBody,
  errorLogQuery,
  eventIdParams,
  idParams,
  permissionBody,
  permissionParams,
  reactivateBody,
  resolveErrorBody,
  resolveSecurityBody,
  roleBody,
  securityEventQuery,
  settingKeyParams,
  suspendBody,
  unlockBody,
  updateSettingBody,
  userSearchQuery,
} from './admin.schemas';
import type { AdminServices } from './admin.services';
import type { ApiKeyAdminService } from './api-key-admin.service';
import { publicAdministrator } from './administrator.repository';
import { requireAdmin, requireLevel } from './require-admin';

/**
 * /admin: administrator login, then (admin session, active administrator,
 * and the admin_level of admin-levels.ts) users, settings, API keys, error
 * logs and security events. Log out with POST /auth/logout.
 */
export function adminRoutes(admin: AdminServices, auth: AuthService, limits: RouteLimits | undefined, apiKeys: ApiKeyAdminService, audit: PrivilegedActionAuditor): Router {
  const router = Router();

  router.post('/admin/login', rateLimited(limits, 'admin_login', emailOfBody), async (req, res) => {
    res.json(await admin.login.login(validate(adminLoginBody, req.body), res.locals.ctx));
  });

  router.use('/admin', requireAdmin(auth, admin));

  router.get('/admin/me', (_req, res) => {
    res.json(publicAdministrator(res.locals.admin!));
  });

  // Any level: every administrator owns their password. The current one is checked and counted as a login.
  router.post('/admin/password/change', async (req, res) => {
    const body = validate(adminChangePasswordBody, req.body);
    const change = await admin.login.changePassword(res.locals.admin!, body.current_password, body.new_password, res.locals.ctx);
    audit.record(requestActor(res.locals.ctx), administratorPasswordChanged(change.administrator, change.previousChangedAt, change.endedSessions));
    res.json({ status: 'password_changed', ended_sessions: change.endedSessions });
  });

  // Users
  router.get('/admin/users', requireLevel('readUsers'), async (req, res) => {
    res.json(await admin.users.search(validate(userSearchQuery, req.query), res.locals.ctx));
  });

  router.get('/admin/users/:id', requireLevel('readUsers'), async (req, res) => {
    res.json(await admin.users.get(validate(idParams, req.params).id, res.locals.ctx));
  });

  router.post('/admin/users/:id/suspend', requireLevel('suspendUsers'), async (req, res) => {
    const { id } = validate(idParams, req.params);
    res.json(await admin.users.suspend(id, validate(suspendBody, req.body).reason, res.locals.ctx));
  });

  router.post('/admin/users/:id/reactivate', requireLevel('suspendUsers'), async (req, res) => {
    const { id } = validate(idParams, req.params);
    res.json(await admin.users.reactivate(id, validate(reactivateBody, req.body).reason, res.locals.ctx));
  });

  router.post('/admin/users/:id/unlock', requireLevel('unlockUsers'), async (req, res) => {
    const { id } = validate(idParams, req.params);
    res.json(await admin.users.unlock(id, validate(unlockBody, req.body).reason, res.locals.ctx));
  });

  router.put('/admin/users/:id/role', requireLevel('manageAccess'), async (req, res) => {
    const { id } = validate(idParams, req.params);
    res.json(await admin.users.setRole(id, validate(roleBody, req.body).role, res.locals.ctx));
  });

  router.get('/admin/users/:id/permissions', requireLevel('readUsers'), async (req, res) => {
    res.json({ permissions: await admin.users.permissions(validate(idParams, req.params).id) });
  });

  router.post('/admin/users/:id/permissions', requireLevel('manageAccess'), async (req, res) => {
    const { id } = validate(idParams, req.params);
    const { permission, created } = await admin.users.grant(id, validate(permissionBody, req.body).permission, res.locals.ctx);
    res.status(created ? 201 : 200).json(permission);
  });

  router.delete('/admin/users/:id/permissions/:permission', requireLevel('manageAccess'), async (req, res) => {
    const { id, permission } = validate(permissionParams, req.params);
    await admin.users.revoke(id, permission, res.locals.ctx);
    res.status(204).end();
  });

  // System settings
  router.get('/admin/settings', requireLevel('readSettings'), async (_req, res) => {
    res.json({ settings: await admin.settings.list(res.locals.admin!.admin_level, res.locals.ctx) });
  });

  router.get('/admin/settings/:key', requireLevel('readSettings'), async (req, res) => {
    res.json(await admin.settings.get(validate(settingKeyParams, req.params).key, res.locals.admin!.admin_level, res.locals.ctx));
  });

  router.post('/admin/settings', requireLevel('manageSettings'), async (req, res) => {
    res.status(201).json(await admin.settings.create(validate(createSettingBody, req.body), res.locals.ctx));
  });

  router.patch('/admin/settings/:key', requireLevel('manageSettings'), async (req, res) => {
    const { key } = validate(settingKeyParams, req.params);
    res.json(await admin.settings.update(key, validate(updateSettingBody, req.body), res.locals.ctx));
  });

  router.delete('/admin/settings/:key', requireLevel('manageSettings'), async (req, res) => {
    await admin.settings.delete(validate(settingKeyParams, req.params).key, res.locals.ctx);
    res.status(204).end();
  });

  // API keys, as `auditflow apikey` manages them; only an administrator session gets here, never a key.
  router.get('/admin/api-keys', requireLevel('readKeys'), async (_req, res) => {
    res.json({ api_keys: await apiKeys.list() });
  });

  router.post('/admin/api-keys', requireLevel('manageKeys'), async (req, res) => {
    res.status(201).json(await apiKeys.create(validate(createApiKeyBody, req.body), res.locals.ctx));
  });

  router.delete('/admin/api-keys/:id', requireLevel('manageKeys'), async (req, res) => {
    res.json({ api_key: await apiKeys.revoke(validate(apiKeyIdParams, req.params).id, res.locals.ctx) });
  });

  // Error logs and security events
  router.get('/admin/error-logs', requireLevel('readIncidents'), async (req, res) => {
    res.json(await admin.incidents.errorLogs(validate(errorLogQuery, req.query)));
  });

  router.post('/admin/error-logs/:event_id/resolve', requireLevel('resolveIncidents'), async (req, res) => {
    const { event_id } = validate(eventIdParams, req.params);
    const body = validate(resolveErrorBody, req.body);
    res.json(await admin.incidents.resolveErrorLog(event_id, body.source_app, body.resolution_notes, res.locals.ctx));
  });

  router.get('/admin/security-events', requireLevel('readIncidents'), async (req, res) => {
    res.json(await admin.incidents.securityEvents(validate(securityEventQuery, req.query)));
  });

  router.post('/admin/security-events/:event_id/resolve', requireLevel('resolveIncidents'), async (req, res) => {
    const { event_id } = validate(eventIdParams, req.params);
    const body = validate(resolveSecurityBody, req.body);
    res.json(await admin.incidents.resolveSecurityEvent(event_id, body.source_app, body.analyst_notes, body.false_positive, res.locals.ctx));
  });

  return router;
}

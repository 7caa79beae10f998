import type { ApiOperation } from '../../http/api-operation';
import { ADMIN_LEVELS, type AdminAction } from './admin-levels';
import {
  adminLoginBody,
  createSettingBody,
  errorLogQuery,
  permissionBody,
  reactivateBody,
  resolveErrorBody,
  resolveSecurityBody,
  roleBody,
  securityEventQuery,
  suspendBody,
  unlockBody,
  updateSettingBody,
  userSearchQuery,
  USER_PERMISSIONS,
  USER_ROLES,
} from './admin.schemas';

const invalid = { 400: 'Invalid input: field paths and messages' };
const noUser = { 404: 'No such user' };

/** The responses every /admin route shares, and the admin_level it needs (admin-levels.ts). */
function gated(action: AdminAction): Record<number, string> {
  return {
    401: 'No live session',
    403: `Not an administrator session, the administrator is suspended or inactive, or admin_level is below ${ADMIN_LEVELS[action]}`,
  };
}

function level(action: AdminAction): string {
  return ` (admin_level ≥ ${ADMIN_LEVELS[action]})`;
}

export const adminOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/admin/login',
    tag: 'admin',
    summary: 'Administrator login; returns an admin session token. Log out with POST /auth/logout',
    security: 'none',
    body: adminLoginBody,
    responses: {
      200: '{ token, expires_at, idle_expires_at, session_id, administrator: { id, email, admin_level } }',
      401: 'Wrong email or password (one answer for both)',
      403: 'Administrator suspended, inactive or unverified',
      423: 'Too many failed logins; Retry-After says when to retry',
      ...invalid,
    },
  },
  { method: 'get', path: '/admin/me', tag: 'admin', summary: 'The signed-in administrator', security: 'adminSession', responses: { 200: 'The administrator (never its password hash)', ...gated('readUsers') } },
  { method: 'get', path: '/admin/users', tag: 'admin', summary: `List and search users by email or name, and status${level('readUsers')}`, security: 'adminSession', query: userSearchQuery, responses: { 200: '{ users, total, limit, offset }', ...gated('readUsers'), ...invalid } },
  { method: 'get', path: '/admin/users/:id', tag: 'admin', summary: `One user with their permissions; audited as a READ${level('readUsers')}`, security: 'adminSession', responses: { 200: 'The user', ...gated('readUsers'), ...noUser, ...invalid } },
  {
    method: 'post',
    path: '/admin/users/:id/suspend',
    tag: 'admin',
    summary: `Suspend a user and end their sessions: account_suspended + status_changed${level('suspendUsers')}`,
    security: 'adminSession',
    body: suspendBody,
    responses: { 200: 'The user', ...gated('suspendUsers'), ...noUser, 409: 'Already suspended, or deleted', ...invalid },
  },
  {
    method: 'post',
    path: '/admin/users/:id/reactivate',
    tag: 'admin',
    summary: `Reactivate a suspended or inactive user: account_reactivated + status_changed${level('suspendUsers')}`,
    security: 'adminSession',
    body: reactivateBody,
    responses: { 200: 'The user', ...gated('suspendUsers'), ...noUser, 409: 'Not suspended or inactive', ...invalid },
  },
  {
    method: 'post',
    path: '/admin/users/:id/unlock',
    tag: 'admin',
    summary: `Lift a login lock, whoever set it (password lockout or risk worker): account_unlocked + a security event${level('unlockUsers')}`,
    security: 'adminSession',
    body: unlockBody,
    responses: { 200: 'The user, with was_locked', ...gated('unlockUsers'), ...noUser, ...invalid },
  },
  {
    method: 'put',
    path: '/admin/users/:id/role',
    tag: 'admin',
    summary: `Set a user's role (${USER_ROLES.join(', ')}): role_changed${level('manageAccess')}`,
    security: 'adminSession',
    body: roleBody,
    responses: { 200: 'The user', ...gated('manageAccess'), ...noUser, ...invalid },
  },
  { method: 'get', path: '/admin/users/:id/permissions', tag: 'admin', summary: `A user's permissions${level('readUsers')}`, security: 'adminSession', responses: { 200: '{ permissions }', ...gated('readUsers'), ...noUser, ...invalid } },
  {
    method: 'post',
    path: '/admin/users/:id/permissions',
    tag: 'admin',
    summary: `Grant a permission (${USER_PERMISSIONS.join(', ')}): permission_granted${level('manageAccess')}`,
    security: 'adminSession',
    body: permissionBody,
    responses: { 201: 'Granted', 200: 'The user already had it (nothing recorded)', ...gated('manageAccess'), ...noUser, ...invalid },
  },
  {
    method: 'delete',
    path: '/admin/users/:id/permissions/:permission',
    tag: 'admin',
    summary: `Revoke a permission: permission_revoked${level('manageAccess')}`,
    security: 'adminSession',
    responses: { 204: 'Revoked', ...gated('manageAccess'), 404: 'No such user, or the user does not have it', ...invalid },
  },
  {
    method: 'get',
    path: '/admin/settings',
    tag: 'admin',
    summary: `Every system setting; encrypted values are shown only from admin_level ${ADMIN_LEVELS.manageSettings}${level('readSettings')}`,
    security: 'adminSession',
    responses: { 200: '{ settings }', ...gated('readSettings') },
  },
  { method: 'get', path: '/admin/settings/:key', tag: 'admin', summary: `One system setting${level('readSettings')}`, security: 'adminSession', responses: { 200: 'The setting', ...gated('readSettings'), 404: 'No such setting', ...invalid } },
  {
    method: 'post',
    path: '/admin/settings',
    tag: 'admin',
    summary: `Create a setting; is_encrypted values are stored encrypted and never put in an event${level('manageSettings')}`,
    security: 'adminSession',
    body: createSettingBody,
    responses: { 201: 'The setting', ...gated('manageSettings'), 409: 'The key exists', ...invalid },
  },
  {
    method: 'patch',
    path: '/admin/settings/:key',
    tag: 'admin',
    summary: `Change a setting's value, description or mutability${level('manageSettings')}`,
    security: 'adminSession',
    body: updateSettingBody,
    responses: { 200: 'The setting', ...gated('manageSettings'), 404: 'No such setting', ...invalid },
  },
  {
    method: 'delete',
    path: '/admin/settings/:key',
    tag: 'admin',
    summary: `Delete a mutable setting${level('manageSettings')}`,
    security: 'adminSession',
    responses: { 204: 'Deleted', ...gated('manageSettings'), 404: 'No such setting', ...invalid },
  },
  {
    method: 'get',
    path: '/admin/error-logs',
    tag: 'admin',
    summary: `Error logs from ClickHouse, newest first, with their resolution${level('readIncidents')}`,
    security: 'adminSession',
    query: errorLogQuery,
    responses: { 200: '{ error_logs, total, limit, offset }', ...gated('readIncidents'), ...invalid },
  },
  {
    method: 'post',
    path: '/admin/error-logs/:event_id/resolve',
    tag: 'admin',
    summary: `Resolve an error log (audit event, entity ERROR_LOG)${level('resolveIncidents')}`,
    security: 'adminSession',
    body: resolveErrorBody,
    responses: { 200: 'The error log, resolved', ...gated('resolveIncidents'), 404: 'No such error log', 409: 'Already resolved', ...invalid },
  },
  {
    method: 'get',
    path: '/admin/security-events',
    tag: 'admin',
    summary: `Security events from ClickHouse, newest first, with their resolution${level('readIncidents')}`,
    security: 'adminSession',
    query: securityEventQuery,
    responses: { 200: '{ security_events, total, limit, offset }', ...gated('readIncidents'), ...invalid },
  },
  {
    method: 'post',
    path: '/admin/security-events/:event_id/resolve',
    tag: 'admin',
    summary: `Resolve a security event, optionally as a false positive (audit event, entity SECURITY_EVENT)${level('resolveIncidents')}`,
    security: 'adminSession',
    body: resolveSecurityBody,
    responses: { 200: 'The security event, resolved', ...gated('resolveIncidents'), 404: 'No such security event', 409: 'Already resolved', ...invalid },
  },
];

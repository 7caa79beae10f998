import { ADMIN_LEVELS, type AdminAction } from '../admin/admin-levels';
import type { ApiOperation } from '../../http/api-operation';
import { authRiskQuery, eventTypesQuery, failedLoginsQuery, lockedAccountsQuery, overviewQuery, securityTrendsQuery, timelineQuery } from './dashboard.schemas';

const invalid = { 400: 'Invalid input: field paths and messages' };

function adminOnly(action: AdminAction): Record<number, string> {
  return { 401: 'No live session', 403: `Not an administrator session, or admin_level is below ${ADMIN_LEVELS[action]}` };
}

const adminOrKey = { 401: 'No API key or administrator session, or not a valid one', 403: `The key lacks the reports scope, or the administrator's admin_level is below ${ADMIN_LEVELS.readReports}` };

export const dashboardOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/',
    tag: 'dashboard',
    summary: 'Where to go: a browser (Accept: text/html) is redirected to the dashboard; anything else gets the addresses of the dashboard, the API docs and the health checks',
    security: 'none',
    responses: { 200: '{ name, dashboard, api_docs, openapi, health, readiness }', 302: 'To /dashboard' },
  },
  {
    method: 'get',
    path: '/favicon.ico',
    tag: 'dashboard',
    summary: "The dashboard's icon (a redirect to its SVG)",
    security: 'none',
    responses: { 301: 'To /dashboard/assets/favicon.svg' },
  },
  {
    method: 'get',
    path: '/dashboard',
    tag: 'dashboard',
    summary: 'The dashboard (HTML). It loads its scripts from /dashboard/assets and asks for an administrator login or a `reports` API key itself',
    security: 'none',
    responses: { 200: 'The page' },
  },
  {
    method: 'get',
    path: '/v1/dashboard/me',
    tag: 'dashboard',
    summary:
      'Who the credential is (administrator or API key) and what the dashboard may offer them: `can` maps each action of admin-levels to true/false; `apps` lists the apps a key restricted to apps reads (null: every app)',
    security: ['adminSession', 'apiKey'],
    responses: { 200: '{ principal, can, apps }', 401: adminOrKey[401], 403: 'The key lacks the reports scope, or the administrator is suspended or inactive' },
  },
  {
    method: 'get',
    path: '/v1/dashboard/overview',
    tag: 'dashboard',
    summary:
      "Events per hour by kind (from the events_per_hour view), queue backlog and lag, dead letters. For a key restricted to apps: only its apps' events and dead letters (app may name one of them), and queues is null (the queues carry every app's traffic)",
    security: ['adminSession', 'apiKey'],
    query: overviewQuery,
    responses: {
      200: '{ from, to, hours, events_by_kind: { kind: [count per hour] }, queues, dead_letters: { total, pending } }',
      ...adminOrKey,
      403: `${adminOrKey[403]}, or app names an app outside the key's`,
      ...invalid,
    },
  },
  {
    method: 'get',
    path: '/v1/dashboard/event-types',
    tag: 'dashboard',
    summary: `The event types seen for a kind in the last 90 days, with counts, for filters (admin_level ≥ ${ADMIN_LEVELS.readIncidents})`,
    security: 'adminSession',
    query: eventTypesQuery,
    responses: { 200: '{ kind, event_types: [{ event_type, events }] }', ...adminOnly('readIncidents'), ...invalid },
  },
  {
    method: 'get',
    path: '/v1/dashboard/failed-logins',
    tag: 'dashboard',
    summary: `Failed logins over the last hours by source IP or by account, most first, from their materialized views (admin_level ≥ ${ADMIN_LEVELS.readIncidents})`,
    security: 'adminSession',
    query: failedLoginsQuery,
    responses: { 200: '{ by, from, to, rows, limit, offset, has_more }', ...adminOnly('readIncidents'), ...invalid },
  },
  {
    method: 'get',
    path: '/v1/dashboard/security-trends',
    tag: 'dashboard',
    summary: `Failed logins (events_per_hour), lockouts and security events by severity (security_events) per hour over the last hours, for the dashboard's charts (admin_level ≥ ${ADMIN_LEVELS.readIncidents})`,
    security: 'adminSession',
    query: securityTrendsQuery,
    responses: {
      200: '{ from, to, hours, failed_logins: [count per hour], lockouts: { ACCOUNT_LOCKED, IP_BLOCKED, ACCOUNT_UNLOCKED: [count per hour] }, security_events_by_severity: { CRITICAL, HIGH, MEDIUM, LOW: [count per hour] } }',
      ...adminOnly('readIncidents'),
      ...invalid,
    },
  },
  {
    method: 'get',
    path: '/v1/dashboard/auth-risk',
    tag: 'dashboard',
    summary: `Risk scores of auth events per day: low/medium/high counts, average and maximum, from auth_risk_daily (admin_level ≥ ${ADMIN_LEVELS.readIncidents})`,
    security: 'adminSession',
    query: authRiskQuery,
    responses: { 200: '{ from, days: [{ day, events, low, medium, high, risk_avg, risk_max }] }', ...adminOnly('readIncidents'), ...invalid },
  },
  {
    method: 'get',
    path: '/v1/dashboard/locked-accounts',
    tag: 'dashboard',
    summary: `Accounts under a login lock now, of this API (source_app auditflow) and of every other app (the risk worker's locks); lift one of this API's with POST /admin/users/{id}/unlock (admin_level ≥ ${ADMIN_LEVELS.readUsers})`,
    security: 'adminSession',
    query: lockedAccountsQuery,
    responses: { 200: '{ accounts, limit, offset, has_more }', ...adminOnly('readUsers'), ...invalid },
  },
  {
    method: 'get',
    path: '/v1/dashboard/apps',
    tag: 'dashboard',
    summary: `The source apps the dashboard can filter by: apps with a key, a lock or a risk decision, and auditflow (admin_level ≥ ${ADMIN_LEVELS.readIncidents}, or a reports key); for a key restricted to apps, its apps only`,
    security: ['adminSession', 'apiKey'],
    responses: { 200: '{ apps: string[] }', 401: adminOrKey[401], 403: `The key lacks the reports scope, or the administrator's admin_level is below ${ADMIN_LEVELS.readIncidents}` },
  },
  {
    method: 'get',
    path: '/v1/dashboard/users/:user_id/timeline',
    tag: 'dashboard',
    summary: `Every event about a user across the event tables, in time order, with audit values before and after; a page at a time (next_cursor). The first page is recorded as an audit READ (admin_level ≥ ${ADMIN_LEVELS.readUsers})`,
    security: 'adminSession',
    query: timelineQuery,
    responses: { 200: '{ user_id, order, events, next_cursor }', ...adminOnly('readUsers'), ...invalid },
  },
];

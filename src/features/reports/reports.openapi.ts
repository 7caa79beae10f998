import { ADMIN_LEVELS } from '../admin/admin-levels';
import type { ApiOperation } from '../../http/api-operation';
import { downloadQuery, generateBody, listQuery, submissionBody } from './reports.routes';

const readErrors = { 401: 'No API key or administrator session, or not a valid one', 403: `The key lacks the reports scope, or the administrator's admin_level is below ${ADMIN_LEVELS.readReports}` };
/** A key restricted to apps reads only reports scoped within them; any other answers as missing. */
const notFound = { 404: "No such report, or (for a key restricted to apps) a report whose scope is not within the key's apps" };
const manageErrors = { ...readErrors, 403: `The key lacks the reports scope, or the administrator's admin_level is below ${ADMIN_LEVELS.manageReports}` };
/** A key with the reports scope, or an administrator session. */
const security: ApiOperation['security'] = ['apiKey', 'adminSession'];

export const reportOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/v1/reports',
    tag: 'reports',
    summary: 'List compliance reports, newest first, each with its scope_apps (null: every app). A key restricted to apps lists only reports scoped within them',
    security,
    query: listQuery,
    responses: { 200: '{ reports }', ...readErrors, 403: `${readErrors[403]}, or app names an app outside the key's` },
  },
  {
    method: 'post',
    path: '/v1/reports',
    tag: 'reports',
    summary:
      'Generate a report for a period now, of every app or scoped to `apps` (one per type, period and scope: asking again returns it). A key restricted to apps generates only reports scoped within them, its apps by default',
    security,
    body: generateBody,
    responses: {
      201: '{ id, created: true, scope? }',
      200: '{ id, created: false, scope? }: it existed',
      400: 'Invalid type, period or apps',
      ...manageErrors,
      403: `${manageErrors[403]}, or apps names an app outside the key's`,
      422: 'The period has not ended',
    },
  },
  {
    method: 'get',
    path: '/v1/reports/:id',
    tag: 'reports',
    summary: 'Download a report: json (the signed document, checkable offline), csv or pdf',
    security,
    query: downloadQuery,
    responses: { 200: 'The report', ...notFound, ...readErrors },
  },
  {
    method: 'get',
    path: '/v1/reports/:id/verification',
    tag: 'reports',
    summary:
      "Check a stored report on the server: its hash, its Ed25519 signature with this server's public key, its stored scope against the signed one, and its link to the report of the same scope before it",
    security,
    responses: { 200: '{ ok, hash_matches, signature_valid, key_matches, scope, chain: { previous_report_id, linked }, problems }', ...notFound, ...readErrors },
  },
  {
    method: 'get',
    path: '/v1/reports/public-key',
    tag: 'reports',
    summary: 'The public key (PEM) reports are signed with, for `auditflow report verify <file> --public-key <pem>`',
    security,
    responses: { 200: 'The public key, PEM', ...readErrors },
  },
  {
    method: 'patch',
    path: '/v1/reports/:id',
    tag: 'reports',
    summary: 'Record its submission to an authority (submitted_to_authority, submission_date, authority_acknowledgment)',
    security,
    body: submissionBody,
    responses: { 200: 'The report, without its content', ...notFound, ...manageErrors },
  },
];

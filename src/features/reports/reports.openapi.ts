import { ADMIN_LEVELS } from '../admin/admin-levels';
import type { ApiOperation } from '../../http/api-operation';
import { downloadQuery, generateBody, listQuery, submissionBody } from './reports.routes';

const readErrors = { 401: 'No API key or administrator session, or not a valid one', 403: `The key lacks the reports scope, or the administrator's admin_level is below ${ADMIN_LEVELS.readReports}` };
const manageErrors = { ...readErrors, 403: `The key lacks the reports scope, or the administrator's admin_level is below ${ADMIN_LEVELS.manageReports}` };
/** A key with the reports scope, or an administrator session. */
const security: ApiOperation['security'] = ['apiKey', 'adminSession'];

export const reportOperations: ApiOperation[] = [
  { method: 'get', path: '/v1/reports', tag: 'reports', summary: 'List compliance reports, newest first', security, query: listQuery, responses: { 200: '{ reports }', ...readErrors } },
  {
    method: 'post',
    path: '/v1/reports',
    tag: 'reports',
    summary: 'Generate a report for a period now (one per type and period: asking again returns it)',
    security,
    body: generateBody,
    responses: { 201: '{ id, created: true }', 200: '{ id, created: false }: it existed', 400: 'Invalid type or period', ...manageErrors },
  },
  {
    method: 'get',
    path: '/v1/reports/:id',
    tag: 'reports',
    summary: 'Download a report: json (the signed document, checkable offline), csv or pdf',
    security,
    query: downloadQuery,
    responses: { 200: 'The report', 404: 'No such report', ...readErrors },
  },
  {
    method: 'get',
    path: '/v1/reports/:id/verification',
    tag: 'reports',
    summary: "Check a stored report on the server: its hash, its Ed25519 signature with this server's public key, and its link to the report before it",
    security,
    responses: { 200: '{ ok, hash_matches, signature_valid, key_matches, chain: { previous_report_id, linked }, problems }', 404: 'No such report', ...readErrors },
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
    responses: { 200: 'The report, without its content', 404: 'No such report', ...manageErrors },
  },
];

import type { ApiOperation } from '../openapi/api-operation';
import { downloadQuery, generateBody, listQuery, submissionBody } from './reports.routes';

const keyErrors = { 401: 'API key missing or wrong', 403: 'The key lacks the reports scope' };

export const reportOperations: ApiOperation[] = [
  { method: 'get', path: '/v1/reports', tag: 'reports', summary: 'List compliance reports, newest first', security: 'apiKey', query: listQuery, responses: { 200: '{ reports }', ...keyErrors } },
  {
    method: 'post',
    path: '/v1/reports',
    tag: 'reports',
    summary: 'Generate a report for a period now (one per type and period: asking again returns it)',
    security: 'apiKey',
    body: generateBody,
    responses: { 201: '{ id, created: true }', 200: '{ id, created: false }: it existed', 400: 'Invalid type or period', ...keyErrors },
  },
  {
    method: 'get',
    path: '/v1/reports/:id',
    tag: 'reports',
    summary: 'Download a report: json (the signed document, checkable offline), csv or pdf',
    security: 'apiKey',
    query: downloadQuery,
    responses: { 200: 'The report', 404: 'No such report', ...keyErrors },
  },
  {
    method: 'patch',
    path: '/v1/reports/:id',
    tag: 'reports',
    summary: 'Record its submission to an authority (submitted_to_authority, submission_date, authority_acknowledgment)',
    security: 'apiKey',
    body: submissionBody,
    responses: { 200: 'The report, without its content', 404: 'No such report', ...keyErrors },
  },
];

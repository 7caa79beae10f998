import type { ApiOperation } from '../../http/api-operation';
import { webhookBody } from './webhooks.routes';

const keyErrors = { 401: 'API key missing or wrong', 403: 'The key lacks the risk scope' };

export const webhookOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/v1/webhook',
    tag: 'risk',
    summary: "The calling app's webhook (without its secret)",
    security: 'apiKey',
    responses: { 200: '{ url, events, is_active }', 404: 'None set', ...keyErrors },
  },
  {
    method: 'put',
    path: '/v1/webhook',
    tag: 'risk',
    summary:
      'Set the app\'s webhook, called on subject.locked, subject.unlocked and subject.high_risk. Each call is signed: X-Auditflow-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>; retried with exponential backoff until a 2xx',
    security: 'apiKey',
    body: webhookBody,
    responses: { 201: 'Created; the body holds the signing secret, shown this once', 200: 'Updated (secret included only when rotated)', 400: 'Invalid URL or events', ...keyErrors },
  },
  { method: 'delete', path: '/v1/webhook', tag: 'risk', summary: "Remove the app's webhook", security: 'apiKey', responses: { 204: 'Removed', 404: 'None set', ...keyErrors } },
];

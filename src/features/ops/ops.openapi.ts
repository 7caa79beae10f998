import type { ApiOperation } from '../../http/api-operation';

export const opsOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/metrics',
    tag: 'operations',
    summary: 'Prometheus metrics. With METRICS_TOKEN set, send it as `Authorization: Bearer <token>`; unset, only loopback clients are answered',
    security: 'none',
    responses: {
      200: 'Metrics, in the Prometheus text format',
      401: 'METRICS_TOKEN is set and the request did not send it',
      403: 'Not a loopback client, and no METRICS_TOKEN is configured',
    },
  },
  {
    method: 'get',
    path: '/admin/queues',
    tag: 'operations',
    summary: 'Bull Board: a read-only view of the queues. An administrator session token or an API key with the admin scope, as a Bearer token or as the Basic-auth password (the browser asks for it)',
    security: 'adminSession',
    responses: {
      200: 'The board (HTML)',
      401: 'No credential, or not a valid one',
      403: "A session that is not an administrator's, or a key without the admin scope",
    },
  },
];

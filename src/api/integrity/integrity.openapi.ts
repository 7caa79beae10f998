import { ADMIN_LEVELS } from '../admin/admin-levels';
import type { ApiOperation } from '../openapi/api-operation';
import { verifyQuery } from './integrity.routes';

export const integrityOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/v1/integrity/verify',
    tag: 'integrity',
    summary: 'Recompute every hash chain from ClickHouse and check it against the signed seals; names the first broken place per table',
    security: ['apiKey', 'adminSession'],
    query: verifyQuery,
    responses: { 200: '{ ok, tables: [{ table, seals, rows, ok, first_break? }], rows_per_second }', 401: 'No API key or administrator session, or not a valid one', 403: `The key lacks the reports scope, or the administrator's admin_level is below ${ADMIN_LEVELS.readReports}`, 400: 'Invalid from/to' },
  },
];

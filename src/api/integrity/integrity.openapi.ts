import type { ApiOperation } from '../openapi/api-operation';
import { verifyQuery } from './integrity.routes';

export const integrityOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/v1/integrity/verify',
    tag: 'integrity',
    summary: 'Recompute every hash chain from ClickHouse and check it against the signed seals; names the first broken place per table',
    security: 'apiKey',
    query: verifyQuery,
    responses: { 200: '{ ok, tables: [{ table, seals, rows, ok, first_break? }], rows_per_second }', 401: 'API key missing or wrong', 403: 'The key lacks the reports scope', 400: 'Invalid from/to' },
  },
];

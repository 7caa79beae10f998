import { ADMIN_LEVELS } from '../admin/admin-levels';
import type { ApiOperation } from '../../http/api-operation';
import { runsQuery, verifyQuery } from './integrity.routes';

export const integrityOperations: ApiOperation[] = [
  {
    method: 'get',
    path: '/v1/integrity/verify',
    tag: 'integrity',
    summary: 'Recompute every hash chain from ClickHouse and check it against the signed seals; names the first broken place per table',
    security: ['apiKey', 'adminSession'],
    query: verifyQuery,
    responses: {
      200: '{ ok, tables: [{ table, seals, rows, ok, first_break? }], rows_per_second }',
      401: 'No API key or administrator session, or not a valid one',
      403: `The key lacks the reports scope, or the administrator's admin_level is below ${ADMIN_LEVELS.readReports}`,
      400: 'Invalid from/to',
    },
  },
  {
    method: 'get',
    path: '/v1/integrity/runs',
    tag: 'integrity',
    summary: 'The latest recorded verification runs (the nightly scheduled one, and those asked for through the API or the CLI), newest first',
    security: ['apiKey', 'adminSession'],
    query: runsQuery,
    responses: {
      200: '{ runs: [{ id, trigger, started_at, finished_at, range_from, range_to, ok, rows_verified, tables }] }',
      401: 'No API key or administrator session, or not a valid one',
      403: `The key lacks the reports scope, or the administrator's admin_level is below ${ADMIN_LEVELS.readReports}`,
      400: 'Invalid limit',
    },
  },
];

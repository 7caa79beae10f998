import type { ApiOperation } from '../../http/api-operation';

export const healthOperations: ApiOperation[] = [
  { method: 'get', path: '/healthz', tag: 'operations', summary: 'The process is up', security: 'none', responses: { 200: 'Up' } },
  { method: 'get', path: '/readyz', tag: 'operations', summary: 'Redis, PostgreSQL and ClickHouse all answer', security: 'none', responses: { 200: 'Ready', 503: 'A dependency does not answer' } },
];

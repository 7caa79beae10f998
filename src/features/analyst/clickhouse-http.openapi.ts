import type { ApiOperation } from '../../http/api-operation';
import { clickHouseHttpQuery } from './clickhouse-http-request';

const answers = {
  200: 'The result in the requested format (ClickHouse headers: X-ClickHouse-Query-Id, X-ClickHouse-Format, X-ClickHouse-Summary)',
  400: 'ClickHouse text: syntax errors and the like',
  401: 'ClickHouse text, Code 516 AUTHENTICATION_FAILED: no key, or a wrong or revoked one',
  403: 'ClickHouse text, Code 497 ACCESS_DENIED: the key lacks the query scope, the query calls file(), url(), remote()…, or, for a key restricted to apps, it reads what the app filter cannot cover (system tables, merge(), PREWHERE…; the text says what)',
  408: 'ClickHouse text, Code 159 TIMEOUT_EXCEEDED: ANALYST_MAX_EXECUTION_TIME passed',
  500: 'ClickHouse text, e.g. Code 164 READONLY (a write, DDL, or a setting that lifts a limit) or Code 396 TOO_MANY_ROWS_OR_BYTES',
};

const summary =
  "ClickHouse's HTTP interface, read-only, for curl, @clickhouse/client and BI tools: the query in `query` and/or the body, `default_format`, `param_<name>` for `{name:Type}`, allowed settings as parameters. " +
  'Authenticate with an API key that has the query scope: the Basic-auth password (any user name), X-ClickHouse-Key, or `password`';

export const clickHouseHttpOperations: ApiOperation[] = [
  { method: 'get', path: '/clickhouse', tag: 'analytics', summary: `${summary}. Without a query: "Ok."`, security: 'analystKey', query: clickHouseHttpQuery, responses: answers },
  {
    method: 'post',
    path: '/clickhouse',
    tag: 'analytics',
    summary: `${summary}. The body is SQL (text/plain), optionally gzip, deflate or br encoded`,
    security: 'analystKey',
    query: clickHouseHttpQuery,
    responses: answers,
  },
  { method: 'get', path: '/clickhouse/ping', tag: 'analytics', summary: 'Liveness, as ClickHouse answers /ping: "Ok."', security: 'none', responses: { 200: 'Ok.' } },
  // Clients read the path of url …/clickhouse (or of the DSN http://user:key@host:3000/clickhouse) as a database name, and send to / and /ping.
  {
    method: 'get',
    path: '/',
    tag: 'analytics',
    summary: 'Same as GET /clickhouse when the URL has database=clickhouse or a query (what clients given url …/clickhouse send); otherwise the landing page (see the dashboard tag)',
    security: 'analystKey',
    query: clickHouseHttpQuery,
    responses: answers,
  },
  {
    method: 'post',
    path: '/',
    tag: 'analytics',
    summary: 'Same as POST /clickhouse: clients given url …/clickhouse, or the DSN http://user:key@host:3000/clickhouse, read the path as a database name and post their queries to the root',
    security: 'analystKey',
    query: clickHouseHttpQuery,
    responses: answers,
  },
  {
    method: 'get',
    path: '/ping',
    tag: 'analytics',
    summary: 'Liveness, as ClickHouse answers /ping (where @clickhouse/client given url …/clickhouse pings): "Ok."',
    security: 'none',
    responses: { 200: 'Ok.' },
  },
];

import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import { z } from 'zod';
import { clickHouseException, type ClickHouseException } from '../../lib/clickhouse-exception';
import type { AnalystQueryRequest } from '../../domain/analyst-query';

/** The URL parameters of ClickHouse's HTTP interface that are not settings (settings and param_* are every other name). */
export const clickHouseHttpQuery = z.looseObject({
  query: z.string().optional().describe('The SQL. With a body too, the query is this, a line break, then the body (as ClickHouse joins them)'),
  default_format: z.string().optional().describe('Format when the query has no FORMAT clause (default TabSeparated); also the X-ClickHouse-Format header'),
  query_id: z.string().optional().describe('Echoed as X-ClickHouse-Query-Id'),
  user: z.string().optional().describe('Any name: the API key is what counts'),
  password: z.string().optional().describe('An API key with the query scope. Prefer Basic auth or X-ClickHouse-Key: URLs end up in logs'),
  database: z.string().optional().describe('Accepted and ignored: unqualified tables are in the auditflow database'),
});

/** Parameters ClickHouse reads itself rather than as settings; those we do not act on are accepted and ignored. */
const NOT_SETTINGS = new Set([
  ...Object.keys(clickHouseHttpQuery.shape),
  'session_id',
  'session_timeout',
  'session_check',
  'quota_key',
  'role',
  'stacktrace',
  'client_protocol_version',
  'compress',
  'decompress',
]);

/** The API key, from X-ClickHouse-Key, Basic auth (the password; any user name), a Bearer token or the password parameter. */
export function credentialOf(req: Request, url: URLSearchParams): string | null {
  const header = req.get('x-clickhouse-key');
  if (header) return header;
  const authorization = req.get('authorization') ?? '';
  const basic = /^Basic\s+(\S+)\s*$/i.exec(authorization);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? null : decoded.slice(colon + 1) || null;
  }
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (bearer) return bearer[1]!;
  return url.get('password') || null;
}

/** The user name the client sent (Basic auth, X-ClickHouse-User or `user`), for ClickHouse-style messages; `default` as ClickHouse. */
export function userOf(req: Request, url: URLSearchParams): string {
  const basic = /^Basic\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
  const fromBasic = basic ? Buffer.from(basic[1]!, 'base64').toString('utf8').split(':')[0] : undefined;
  const user = req.get('x-clickhouse-user') || fromBasic || url.get('user') || 'default';
  // Printed back in an error: keep it short and plain.
  return user.replace(/[^\w.@-]/g, '_').slice(0, 64);
}

/** The URL's parameters. */
export function urlParameters(req: Request): URLSearchParams {
  return new URL(req.originalUrl, 'http://clickhouse.invalid').searchParams;
}

/** The analyst query a request carries, or the ClickHouse exception a server would answer it with. */
export function readAnalystQuery(req: Request, url: URLSearchParams): AnalystQueryRequest | ClickHouseException {
  // The first value of each name, as ClickHouse reads them.
  const first = Object.fromEntries([...new Set(url.keys())].map((name) => [name, url.get(name)!]));
  const known = clickHouseHttpQuery.parse(first);
  for (const name of ['compress', 'decompress']) {
    if (/^(1|true)$/i.test(first[name] ?? '')) {
      return clickHouseException(
        'NOT_IMPLEMENTED',
        `${name}=1 (ClickHouse's native compression) is not supported by /clickhouse; use HTTP compression (enable_http_compression=1 and Accept-Encoding)`,
      );
    }
  }
  if (/^multipart\/form-data/i.test(req.get('content-type') ?? '')) {
    return clickHouseException('NOT_IMPLEMENTED', 'multipart/form-data is not supported by /clickhouse; send parameters in the URL as param_<name>');
  }
  const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
  const query = known.query ? `${known.query}\n${body}` : body;
  if (!query.trim()) return clickHouseException('SYNTAX_ERROR', 'Empty query');

  const defaultFormat = known.default_format || req.get('x-clickhouse-format') || 'TabSeparated';
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(defaultFormat)) return clickHouseException('UNKNOWN_FORMAT', `Unknown format ${defaultFormat}`);

  const params: Record<string, string> = {};
  const settings: Record<string, string> = {};
  for (const [name, value] of Object.entries(first)) {
    if (name.startsWith('param_')) params[name.slice('param_'.length)] = unescapeParameter(value);
    else if (!NOT_SETTINGS.has(name)) settings[name] = value;
  }
  return { query, params, settings, defaultFormat, queryId: known.query_id || randomUUID() };
}

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', '0': '\0', a: '\x07', v: '\v', e: '\x1b' };

/**
 * ClickHouse reads a param_* value in its escaped text format (`a\tb` holds
 * a tab). Query parameters travel on to ClickHouse as plain values and are
 * escaped again on the way, so they are unescaped here once.
 */
export function unescapeParameter(value: string): string {
  return value.replace(/\\(x[0-9A-Fa-f]{2}|.)/gs, (_m, c: string) => (c.length === 3 ? String.fromCharCode(parseInt(c.slice(1), 16)) : (ESCAPES[c] ?? c)));
}

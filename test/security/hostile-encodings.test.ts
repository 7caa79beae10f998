/**
 * Issue 12 §11: client mistakes in the encoding of a request answered 500
 * without any credential and wrote a `critical` error_logs row with a stack
 * trace, so anyone could flood the critical error feed. Every route in
 * API_OPERATIONS (the OpenAPI list) gets malformed %-escapes in its path
 * parameters and, where it takes a body, a lying Content-Encoding, invalid
 * JSON, JSON 10,000 deep, NUL and a lone surrogate: no 5xx, and no critical
 * error_logs row.
 */
import zlib from 'node:zlib';
import fc from 'fast-check';
import { Pool } from 'pg';
import { API_OPERATIONS } from '../../src/roles/api/create-app';
import { AdminAccountService } from '../../src/features/admin/admin-account.service';
import { AdministratorRepository } from '../../src/features/admin/administrator.repository';
import { LoginGuard } from '../../src/features/auth/login-guard';
import { API_KEY_SCOPES } from '../../src/features/api-keys/api-key.repository';
import type { Security } from '../../src/http/api-operation';
import { api, signUp } from '../helpers/accounts';
import { createApiKey, queryRows, startStack, drainIngest } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

const ns = createNamespace('hostileenc');
let stack: Awaited<ReturnType<typeof startStack>>;
const bearer: Partial<Record<Security, string>> = {};
const PASSWORD = 'admin passphrase of some length';

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  bearer.session = (await signUp(stack.url, ns, 'enc-user@example.com')).token;
  const pg = new Pool({ connectionString: ns.databaseUrl, max: 1 });
  try {
    await new AdminAccountService(new AdministratorRepository(pg), new LoginGuard(pg)).create({ email: 'enc-root@example.com', password: PASSWORD, admin_level: 5 });
  } finally {
    await pg.end();
  }
  bearer.adminSession = (await api<{ token: string }>(stack.url, 'POST', '/admin/login', { body: { email: 'enc-root@example.com', password: PASSWORD } })).body.token;
  bearer.apiKey = bearer.analystKey = await createApiKey(ns, 'enc-app', [...API_KEY_SCOPES]);
});

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

/** Escapes decodeURIComponent refuses (bad hex, truncated, overlong, an encoded lone surrogate), and NUL. */
const BAD_ESCAPES = ['%zz', '%', '%E0%A4%A', '%C0%80', '%ED%A0%80', '%ff', 'a%2', '%00'];

type Mutation = { name: string; body: Buffer | string; headers: Record<string, string> };
const plain = '{"email":"a@example.com","password":"not a real password"}';
const BODY_MUTATIONS: Mutation[] = [
  { name: 'gzip lie', body: plain, headers: { 'content-encoding': 'gzip' } },
  { name: 'br lie', body: plain, headers: { 'content-encoding': 'br' } },
  { name: 'deflate lie', body: plain, headers: { 'content-encoding': 'deflate' } },
  { name: 'truncated gzip', body: zlib.gzipSync(plain).subarray(0, 20), headers: { 'content-encoding': 'gzip' } },
  { name: 'invalid JSON', body: '{"email":', headers: {} },
  { name: 'deep JSON', body: '['.repeat(10_000) + ']'.repeat(10_000), headers: {} },
  { name: 'deep object', body: `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`, headers: {} },
  { name: 'NUL', body: '{"email":"a\\u0000@example.com","password":"x\\u0000y","title":"t\\u0000","kind":"audit","event_type":"x\\u0000"}', headers: {} },
  { name: 'NUL key', body: '{"\\u0000":1}', headers: {} },
  { name: 'lone surrogate', body: '{"email":"\\ud800@example.com","password":"\\udc00xxxxxxxxxxxx","title":"\\ud800","kind":"audit","event_type":"\\ud800"}', headers: {} },
];

function credentials(security: Security | Security[]): Record<string, string> {
  const first = (Array.isArray(security) ? security : [security]).find((s) => s !== 'none' && bearer[s]);
  return first ? { authorization: `Bearer ${bearer[first as Security]}` } : {};
}

/** The route's path with every parameter replaced by `value`, as sent (not encoded again). */
function withParams(path: string, value: string): string {
  return path.replace(/:[A-Za-z_]+/g, value);
}

const operations = API_OPERATIONS.filter((op) => op.path !== '/admin/queues');
const withBody = operations.filter((op) => op.method !== 'get' && op.method !== 'delete');

async function send(method: string, route: string, body: Buffer | string | undefined, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(`${stack.url}${route}`, { method: method.toUpperCase(), headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, text: await res.text() };
}

function noServerError(label: string, res: { status: number; text: string }): void {
  if (res.status >= 500) throw new Error(`${label} answered ${res.status}: ${res.text.slice(0, 300)}`);
}

/**
 * Runs each route's checks in order, eight routes at a time: one after another, the thousand
 * requests waited on each other's round trips. One route never has two at once, so a route's own
 * limit (the analyst endpoint's queries at once) is not what answers.
 */
async function eightRoutesAtATime<T>(routes: readonly T[], checks: (route: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < routes.length) await checks(routes[next++]!);
    }),
  );
}

describe('malformed encodings on every route', () => {
  it('answers 400 to the replayed attacks, without credentials', async () => {
    for (const route of ['/v1/subjects/%zz', '/todos/%zz', '/v1/reports/%zz']) {
      const res = await send('GET', route, undefined, {});
      expect([route, res.status, JSON.parse(res.text).error.code]).toEqual([route, 400, 'BAD_REQUEST']);
    }
    for (const encoding of ['gzip', 'br']) {
      const res = await send('POST', '/auth/login', plain, { 'content-encoding': encoding });
      expect([encoding, res.status]).toEqual([encoding, 400]);
    }
  });

  it('never answers 5xx to a bad %-escape in a path parameter', async () => {
    const parameterised = operations.filter((op) => op.path.includes(':'));
    expect(parameterised.length).toBeGreaterThan(10);
    await eightRoutesAtATime(parameterised, async (op) => {
      for (const badEscape of BAD_ESCAPES) {
        const route = withParams(op.path, badEscape);
        noServerError(`${op.method} ${route}`, await send(op.method, route, undefined, credentials(op.security)));
      }
    });
    // And random junk around the escapes, fuzzed.
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...parameterised), fc.constantFrom(...BAD_ESCAPES), fc.string({ maxLength: 8 }), async (op, badEscape, junk) => {
        const route = withParams(op.path, `${encodeURIComponent(junk)}${badEscape}`);
        noServerError(`${op.method} ${route}`, await send(op.method, route, undefined, credentials(op.security)));
      }),
      { numRuns: 200 },
    );
  }, 120_000);

  it('never answers 5xx to a lying Content-Encoding, invalid or deep JSON, NUL or a lone surrogate, on any route that takes a body', async () => {
    expect(withBody.length).toBeGreaterThan(10);
    await eightRoutesAtATime(withBody, async (op) => {
      for (const mutation of BODY_MUTATIONS) {
        // A parameter that exists, so the body is what is tested.
        const route = withParams(op.path, '00000000-0000-4000-8000-000000000000');
        for (const auth of [{}, credentials(op.security)]) {
          noServerError(`${op.method} ${route} (${mutation.name})`, await send(op.method, route, mutation.body, { ...mutation.headers, ...auth }));
        }
      }
    });
  }, 180_000);

  it('logs none of them as a critical server error', async () => {
    await drainIngest(stack, ns);
    // The client errors were recorded, as what they are: the check below is not vacuous.
    const low = await queryRows<{ n: string }>(stack.clickhouse!, "SELECT count() AS n FROM error_logs WHERE severity_level = 'low'");
    expect(Number(low[0]!.n)).toBeGreaterThan(0);
    const critical = await queryRows<{ error_message: string; request_path: string }>(
      stack.clickhouse!,
      "SELECT error_message, request_path FROM error_logs WHERE severity_level = 'critical' LIMIT 10",
    );
    expect(critical).toEqual([]);
  }, 90_000);
});

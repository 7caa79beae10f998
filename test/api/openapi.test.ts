import type { Express } from 'express';
import { API_OPERATIONS, createApp } from '../../src/roles/api/create-app';
import { api } from '../helpers/accounts';
import { startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

/** The parts of an OpenAPI operation these assertions read. */
interface Operation {
  security?: unknown;
  responses: Record<string, unknown>;
  requestBody: { content: { 'application/json': { schema: { oneOf: [{ oneOf: { title: string }[] }] } } } };
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, { get: Operation; post: Operation }>;
}

const ns = createNamespace('openapi');
let stack: Awaited<ReturnType<typeof startStack>>;

beforeAll(async () => {
  stack = await startStack(ns, { ROLE: 'api' });
});
afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every method + path the Express app routes, read from its router. */
function routesOf(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) for (const method of Object.keys(layer.route.methods)) found.push(`${method} ${layer.route.path}`);
      else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return found;
}

describe('OpenAPI', () => {
  it('describes every route the API serves, and nothing it does not', () => {
    const app = createApp({
      reports: { repository: {} as never, generator: {} as never, verification: {} as never, publicKeyPem: '' },
      integrity: {} as never,
      analyst: {} as never,
      services: {} as never,
      apiKeys: {} as never,
      ingest: {} as never,
      logger: {} as never,
      bodyLimitBytes: 1,
      readiness: {},
    });
    const served = routesOf(app).filter((r) => !r.includes('/docs') && !r.endsWith('/openapi.json'));
    const documented = API_OPERATIONS.map((op) => `${op.method} ${op.path}`);
    expect([...served].sort()).toEqual([...documented].sort());
  });

  it('serves /openapi.json with request bodies from the validating schemas', async () => {
    const res = await api<OpenApiDocument>(stack.url, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const register = res.body.paths['/auth/register']!.post;
    expect(register.requestBody.content['application/json'].schema).toMatchObject({
      properties: { password: { minLength: 10 } },
      required: ['email', 'password'],
      additionalProperties: false,
    });
    const ingest = res.body.paths['/v1/events']!.post;
    expect(ingest.security).toEqual([{ apiKey: [] }]);
    expect(Object.keys(ingest.responses)).toEqual(expect.arrayContaining(['202', '207', '400', '401', '403', '413', '415', '429', '503']));
    // Every recorded route may be refused while its events cannot be recorded; probes may not.
    expect(Object.keys(register.responses)).toContain('503');
    expect(Object.keys(res.body.paths['/healthz']!.get.responses)).not.toContain('503');
    const kinds = ingest.requestBody.content['application/json'].schema.oneOf[0].oneOf.map((s: { title: string }) => s.title);
    expect(kinds).toEqual(['audit', 'auth', 'security', 'failed_login', 'error', 'api_access', 'rate_limit', 'session']);
    // The other formats the ingest routes read (docs/ingest-formats.md).
    expect(Object.keys(ingest.requestBody.content)).toEqual(['application/json', 'application/x-ndjson', 'application/cloudevents+json', 'application/cloudevents-batch+json']);
    const logs = res.body.paths['/v1/logs']!.post;
    expect([Object.keys(logs.requestBody.content), logs.security]).toEqual([['application/x-protobuf', 'application/json'], [{ apiKey: [] }]]);
  });

  it('serves a browsable page at /docs', async () => {
    const page = await fetch(`${stack.url}/docs`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('swagger-ui-bundle.js');
    const bundle = await fetch(`${stack.url}/docs/assets/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    // Read the body, or the keep-alive connection holds server.close() for a minute.
    expect((await bundle.text()).length).toBeGreaterThan(1000);
  });
});

import type { z } from 'zod';
import { isRecordedPath, UNRECORDABLE } from '../../http/request-context';
import { inputJsonSchema, type ApiOperation, type Security } from '../../http/api-operation';

const SECURITY_SCHEMES = {
  session: { type: 'http', scheme: 'bearer', description: 'Session token from POST /auth/login (afs_…)' },
  adminSession: { type: 'http', scheme: 'bearer', description: 'Administrator session token from POST /admin/login' },
  apiKey: { type: 'http', scheme: 'bearer', description: 'API key from `npx auditflow apikey create` (af_…)' },
  analystKey: { type: 'http', scheme: 'basic', description: 'API key with the query scope as the Basic-auth password, with any user name (or in X-ClickHouse-Key)' },
} as const;

const ERROR_SCHEMA = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', description: 'Machine-readable code, e.g. VALIDATION_FAILED' },
        error_code: { type: 'string', description: 'TODOAPP-<CATEGORY>-<NNN>' },
        message: { type: 'string', description: 'Safe to show a user' },
        details: { description: 'Field paths and messages, for validation errors' },
      },
      required: ['code', 'message'],
    },
  },
};

function queryParameters(schema: z.ZodType): unknown[] {
  const json = inputJsonSchema(schema) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    schema: property,
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
  }));
}

/** `/todos/:id` → `/todos/{id}`, with its path parameters. */
function openApiPath(path: string): { path: string; parameters: unknown[] } {
  const parameters: unknown[] = [];
  const converted = path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_m, name: string) => {
    parameters.push({ name, in: 'path', required: true, schema: { type: 'string' } });
    return `{${name}}`;
  });
  return { path: converted, parameters };
}

/** Builds the OpenAPI 3.1 document of every operation. */
export function buildOpenApiDocument(operations: ApiOperation[], info: { version: string; serverUrl?: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const { path, parameters } = openApiPath(op.path);
    // Each entry of an OpenAPI security list is an alternative.
    const security = (s: Security | Security[]) =>
      [s]
        .flat()
        .filter((one) => one !== 'none')
        .map((one) => ({ [one]: [] }));
    const responses: Record<string, unknown> = {};
    // Any recorded route may answer 503 when its events could not be recorded (requestContext).
    const statuses = isRecordedPath(op.path) ? { 503: `Retry later (see Retry-After): ${UNRECORDABLE.replace(/; retry later$/, '')}`, ...op.responses } : op.responses;
    for (const [status, description] of Object.entries(statuses)) {
      responses[status] = Number(status) >= 400 ? { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } } : { description };
    }
    const body = op.bodyJsonSchema ?? (op.body ? inputJsonSchema(op.body) : undefined);
    paths[path] ??= {};
    paths[path]![op.method] = {
      summary: op.summary,
      tags: [op.tag],
      security: security(op.security),
      parameters: [...parameters, ...(op.query ? queryParameters(op.query) : [])],
      ...(body || op.bodyContent ? { requestBody: { required: true, content: { ...(body ? { 'application/json': { schema: body } } : {}), ...op.bodyContent } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'auditflow',
      version: info.version,
      description: 'Ingest API for audit, auth, security and error events, and the todo/auth API that records every action it takes.',
    },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    paths,
    components: { securitySchemes: SECURITY_SCHEMES, schemas: { Error: ERROR_SCHEMA } },
  };
}

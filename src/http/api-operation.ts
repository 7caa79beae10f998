import { z } from 'zod';

/** How a caller proves who it is. */
export type Security = 'none' | 'session' | 'adminSession' | 'apiKey' | 'analystKey';

/**
 * One endpoint as the OpenAPI document describes it. `body` and `query` are
 * the very zod schemas the route validates with, so the document cannot
 * drift from what the API accepts.
 */
export interface ApiOperation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express-style path: `/todos/:id`. */
  path: string;
  summary: string;
  tag: string;
  /** Several: any one of them will do. */
  security: Security | Security[];
  body?: z.ZodType;
  /** A body described by a hand-picked JSON Schema (the ingest API's "one event or an array"). */
  bodyJsonSchema?: Record<string, unknown>;
  /** Other media types the body may come as (NDJSON, CloudEvents, OTLP protobuf) → their JSON Schema. */
  bodyContent?: Record<string, { schema: Record<string, unknown>; description?: string }>;
  query?: z.ZodType;
  /** Status → what it means. */
  responses: Record<number, string>;
}

/** A zod schema as the JSON Schema of what a client sends. */
export function inputJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return json;
}

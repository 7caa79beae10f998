import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE_NAMES } from '../../src/queues/queue-names';
import { Pool } from 'pg';
import { ApiKeyRepository, type ApiKeyOptions, type ApiKeyScope } from '../../src/features/api-keys/api-key.repository';
import { ApiKeyService } from '../../src/features/api-keys/api-key.service';
import type { EventResult, IngestResponse } from '../../src/features/ingest/ingest.service';
import type { EventIssue } from '../../src/schemas/event';
import type { ClickHouseClient } from '../../src/lib/clickhouse';
import { createLogger } from '../../src/lib/logger';
import { ensureDatabase } from '../../src/lib/pg';
import { migratePostgres } from '../../src/lib/pg-migrations';
import { start, type Running } from '../../src/roles/start';
import { configureZod } from '../../src/schemas/zod-config';
import { seedClickHouseStore } from './clickhouse-template';
import { eventually, REDIS_URL, type TestNamespace } from './test-env';

export const silentLogger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

/** Every role of auditflow in this process, on the namespace's database, prefix and chDB dir. */
export async function startStack(ns: TestNamespace, env: Record<string, string> = {}, logger = silentLogger): Promise<Running & { url: string }> {
  // What src/main.ts does first; start() leaves it to its caller.
  configureZod();
  const config = ns.config(env);
  await seedClickHouseStore(config);
  const running = await start(config, logger);
  return Object.assign(running, { url: `http://127.0.0.1:${running.port}` });
}

export async function createApiKey(ns: TestNamespace, name: string, scopes: ApiKeyScope[] = ['ingest'], app: string = name, options: ApiKeyOptions = {}): Promise<string> {
  await ensureDatabase(ns.databaseUrl);
  const pool = new Pool({ connectionString: ns.databaseUrl, max: 1 });
  try {
    await migratePostgres(pool);
    return (await new ApiKeyService(new ApiKeyRepository(pool)).create(name, scopes, app, options)).key;
  } finally {
    await pool.end();
  }
}

/**
 * What POST /v1/events answered, its body parsed as JSON (else left as text).
 * `T` is the body the test expects: the ingest answer by default, `ErrorBody`
 * for a request refused as a whole (401, 413, 429, 503...). Nothing here checks it.
 */
export interface PostResult<T = IngestBody> {
  status: number;
  headers: Headers;
  body: T;
}

/** One event's outcome: the variants of the API's EventResult in one shape, so a test reads the fields it asserts on. */
export interface IngestEventResult {
  index: number;
  status: EventResult['status'];
  event_id?: string;
  warnings?: string[];
  message?: string;
  errors?: EventIssue[];
}

/** The ingest answer (202, 207, 400, 409). */
export type IngestBody = Omit<IngestResponse['body'], 'events'> & { events: IngestEventResult[] };

/** POSTs JSON (or a raw string) to the ingest API. */
export async function postEvents<T = IngestBody>(
  url: string,
  key: string | null,
  body: unknown,
  options: { raw?: boolean; contentType?: string; headers?: Record<string, string> } = {},
): Promise<PostResult<T>> {
  const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/json', ...options.headers };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const response = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers,
    body: options.raw ? (body as string) : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: response.status, headers: response.headers, body: parsed as T };
}

/** Rows of a query, with 64-bit integers as numbers. */
export async function queryRows<T = Record<string, unknown>>(clickhouse: ClickHouseClient, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const result = await clickhouse.query({
    query,
    query_params: params,
    format: 'JSONEachRow',
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  return result.json<T>();
}

/** count() and uniqExact(source_app, event_id) of a table: equal when nothing is duplicated. */
export async function countUnique(clickhouse: ClickHouseClient, table: string): Promise<{ count: number; unique: number }> {
  const [row] = await queryRows<{ count: number; unique: number }>(clickhouse, `SELECT count() AS count, uniqExact(source_app, event_id) AS unique FROM ${table}`);
  return { count: Number(row!.count), unique: Number(row!.unique) };
}

/** Waits until the ingest queue of `ns` is empty. A job completes only once its rows are written, so a worker in another process has then written everything. */
export async function ingestQueueEmpty(ns: TestNamespace): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE_NAMES.ingest, { connection: redis, prefix: ns.queuePrefix });
  try {
    try {
      await eventually(async () => (await queue.getJobCountByTypes('waiting', 'active', 'delayed', 'prioritized')) === 0, 60_000, 200);
    } catch (error) {
      // Say what is stuck: a slow drain and a job that keeps failing need different fixes.
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
      const retried = (await queue.getJobs(['delayed', 'failed'], 0, 4)).map((job) => `${job.id} attempt ${job.attemptsMade}: ${job.failedReason}`);
      throw new Error(`${(error as Error).message}; ingest queue ${JSON.stringify(counts)}${retried.length ? `; ${retried.join('; ')}` : ''}`);
    }
  } finally {
    await queue.close();
    await redis.quit();
  }
}

/** Waits until the ingest queue of `ns` is empty, then flushes the writer: everything accepted is in ClickHouse. */
export async function drainIngest(stack: { writer?: { flushAll(): Promise<unknown> } }, ns: TestNamespace): Promise<void> {
  await ingestQueueEmpty(ns);
  await stack.writer!.flushAll();
}

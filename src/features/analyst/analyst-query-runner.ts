import { randomUUID } from 'node:crypto';
import type { DataFormat } from '@clickhouse/client';
import { QueueEvents, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { executableSql, inspectAst, inspectTokens, urlSettingsToApply } from './analyst-query-policy';
import { withoutInjectedSettings } from './analyst-settings-view';
import type { AnalystLimits } from '../../config/env';
import type { AnalystQueryRequest } from '../../domain/analyst-query';
import { clickHouseException, clickHouseExceptionOf, type ClickHouseException } from '../../lib/clickhouse-exception';
import type { ClickHouseClient } from '../../lib/clickhouse';
import { explainAst, parseWithClickHouse, readAll } from './clickhouse-parser';
import { inlineQueryParameters } from './inline-query-parameters';
import type { ControlJob, ControlResult } from '../../queues/queue-names';
import { appFilters, restrictedException, STORED_TABLES_SQL, type AppRestriction, type StoredTable } from './analyst-app-restriction';
import { addAndWait } from '../../queues/control-client';

export interface AnalystQueryResult {
  /** The result exactly as ClickHouse wrote it in its format. */
  body: Buffer;
  format: string;
  /** X-ClickHouse-Summary: read_rows, read_bytes… as strings. */
  summary: Record<string, string>;
}

export type AnalystQueryOutcome = { type: 'result'; result: AnalystQueryResult } | { type: 'exception'; exception: ClickHouseException };

/** Runs analyst queries where ClickHouse is: directly, or through the worker that owns the embedded store. */
export interface AnalystQueryRunner {
  run(request: AnalystQueryRequest, limits: AnalystLimits): Promise<AnalystQueryOutcome>;
}

const exception = (e: ClickHouseException): AnalystQueryOutcome => ({ type: 'exception', exception: e });

/**
 * Parse (ClickHouse's lexer and parser), judge (the policy), then run with
 * the limits in the query's own SETTINGS clause. Never through
 * `clickhouse_settings`: over chDB those become SETs that outlive the query
 * on the session.
 */
export async function runAnalystQuery(client: ClickHouseClient, request: AnalystQueryRequest, limits: AnalystLimits): Promise<AnalystQueryOutcome> {
  const apps = request.apps ?? null;
  const outcome = await runJudged(client, request, limits, apps);
  return apps && outcome.type === 'exception' ? exception(restrictedException(outcome.exception, apps)) : outcome;
}

async function runJudged(client: ClickHouseClient, request: AnalystQueryRequest, limits: AnalystLimits, apps: AppRestriction): Promise<AnalystQueryOutcome> {
  const restricted = apps !== null;
  /** The settings the analyst wrote in the query: what an error's echo of the query may show of its SETTINGS clause. */
  let analystSettings: string[] = [];
  try {
    // A NUL could end the text early for one reader of it and not another.
    if (request.query.includes('\0')) return exception(clickHouseException('SYNTAX_ERROR', 'The query contains a NUL byte'));
    const urlSettings = urlSettingsToApply(request.settings, limits, restricted);
    if ('code' in urlSettings) return exception(urlSettings);
    if (Object.values(request.params).some((value) => value.includes('\0'))) return exception(clickHouseException('SYNTAX_ERROR', 'A query parameter contains a NUL byte'));
    let parsed = await parseWithClickHouse(client, request.query);
    let text = Buffer.from(request.query, 'utf8');
    // Values written into the query, not bound: chDB runs bound queries one at a time in the whole process.
    const inlined = inlineQueryParameters(text, parsed.tokens, request.params);
    if (inlined !== null) {
      parsed = await parseWithClickHouse(client, inlined);
      text = Buffer.from(inlined, 'utf8');
    }
    const findings = inspectTokens(text, parsed.tokens, limits, restricted);
    if ('code' in findings) return exception(findings);
    analystSettings = findings.topLevelSettings.map(([name]) => name);
    const refusal = inspectAst(await explainAst(client, parsed.canonical, {}), findings, restricted);
    if (refusal) return exception(refusal);
    // Read now, not cached: a table created since the last query is filtered (or denied) too.
    const filters = apps && appFilters(apps, await storedTables(client));

    const format = findings.format ?? request.defaultFormat;
    const response = await client.exec({
      query: executableSql(text, findings, urlSettings, limits, filters),
      query_id: request.queryId,
      // Both shape the response only; the chDB connection maps default_format to its output format and drops wait_end_of_query.
      clickhouse_settings: { default_format: request.defaultFormat as DataFormat, wait_end_of_query: 1 },
    });
    const body = await readCapped(response.stream, limits.maxResultBytes);
    if (!body) {
      return exception(
        clickHouseException(
          'TOO_MANY_ROWS_OR_BYTES',
          `Limit for result exceeded, max bytes: ${limits.maxResultBytes}, current bytes: more than ${limits.maxResultBytes} (the bytes sent are counted, whatever ClickHouse's own count says)`,
        ),
      );
    }
    const summary = Object.fromEntries(Object.entries(response.summary ?? {}).map(([k, v]) => [k, String(v)]));
    return { type: 'result', result: { body, format, summary } };
  } catch (error) {
    const judged = clickHouseExceptionOf(error);
    // ClickHouse's echo of the query would show the limits and filters auditflow appended.
    if (judged) return exception({ ...judged, message: withoutInjectedSettings(judged.message, analystSettings) });
    throw error;
  }
}

async function storedTables(client: ClickHouseClient): Promise<StoredTable[]> {
  const rows = await (await client.query({ query: STORED_TABLES_SQL, format: 'JSONEachRow' })).json<{ database: string; name: string; hasSourceApp: number | boolean }>();
  return rows.map((r) => ({ database: r.database, name: r.name, hasSourceApp: Boolean(Number(r.hasSourceApp)) }));
}

/**
 * The result's bytes as they arrive, or null as soon as they pass `cap`:
 * ClickHouse's max_result_bytes counts a constant column once
 * (`SELECT repeat('a', 1000000) FROM numbers(300)` measured 2 MB for 300 MB
 * of output), so the bytes actually produced are what is capped. Reading
 * stops there, which aborts the query on a server.
 */
async function readCapped(stream: AsyncIterable<Buffer | string> & { destroy?: () => void }, cap: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > cap) {
      stream.destroy?.();
      return null;
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, size);
}

/**
 * Runs analyst queries on a client of their own. Over chDB (`exclusive`),
 * one at a time, because a connection runs its queries one after another
 * anyway, and because chDB 3.4 hands what a failed query had already
 * written (a JSON header, say) to the connection's next result: after a
 * failure, a throwaway query takes it before anyone else can.
 */
export function directAnalystRunner(client: ClickHouseClient, options: { exclusive?: boolean } = {}): AnalystQueryRunner {
  if (!options.exclusive) return { run: (request, limits) => runAnalystQuery(client, request, limits) };
  let previous: Promise<unknown> = Promise.resolve();
  const runAlone = async (request: AnalystQueryRequest, limits: AnalystLimits): Promise<AnalystQueryOutcome> => {
    const outcome = await runAnalystQuery(client, request, limits).catch(async (error: unknown) => {
      await drainLeftovers(client);
      throw error;
    });
    if (outcome.type === 'exception') await drainLeftovers(client);
    return outcome;
  };
  return {
    run(request, limits) {
      const run = previous.then(() => runAlone(request, limits));
      previous = run.catch(() => undefined);
      return run;
    },
  };
}

async function drainLeftovers(client: ClickHouseClient): Promise<void> {
  try {
    await readAll((await client.exec({ query: 'SELECT 1' })).stream);
  } catch {
    // Nothing to drain, or the store is closing.
  }
}

/** How long a relayed result waits in Redis for the API to collect it. */
export const RELAYED_RESULT_TTL_MS = 120_000;

/**
 * For an API-only process on the embedded default: the query runs as a
 * control job on the worker that owns the store. The result's bytes go
 * through a Redis key of their own, read once and deleted, rather than in
 * the job's return value, which BullMQ also copies into its events stream.
 */
export class RelayedAnalystRunner implements AnalystQueryRunner {
  private events?: Promise<QueueEvents>;
  /** QueueEvents' own connection: BullMQ never closes a connection it was handed, so close() does. */
  private connection?: Redis;

  constructor(
    private readonly controlQueue: Queue<ControlJob>,
    /** Commands, and a connection QueueEvents may duplicate to block on. */
    private readonly redis: Redis,
  ) {}

  async run(request: AnalystQueryRequest, limits: AnalystLimits): Promise<AnalystQueryOutcome> {
    // One QueueEvents for every request, also when the first ones arrive together.
    this.events ??= (async () => {
      this.connection = this.redis.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true });
      const events = new QueueEvents(this.controlQueue.name, { connection: this.connection, prefix: this.controlQueue.opts.prefix });
      await events.waitUntilReady();
      return events;
    })();
    const events = await this.events;
    const resultKey = `${this.controlQueue.opts.prefix ?? 'bull'}:analyst-result:${randomUUID()}`;
    const waitMs = limits.maxExecutionTimeSeconds * 1000 + 15_000;
    let answer: ControlResult;
    try {
      answer = await addAndWait(this.controlQueue, events, { type: 'analyst-query', request, limits, resultKey }, waitMs);
    } catch (error) {
      if (/timed out/i.test(String(error))) {
        return exception(clickHouseException('TIMEOUT_EXCEEDED', `No worker answered within ${waitMs / 1000} s; is the worker that owns the embedded store running?`));
      }
      throw error;
    }
    if (answer.type !== 'analyst-query') throw new Error(`control job analyst-query answered ${answer.type}`);
    if (answer.outcome.type === 'exception') return answer.outcome;
    const body = await this.redis.getdelBuffer(resultKey);
    if (!body) throw new Error('the relayed result expired before it was read');
    return { type: 'result', result: { body, format: answer.outcome.format, summary: answer.outcome.summary } };
  }

  async close(): Promise<void> {
    await (await this.events)?.close();
    this.connection?.disconnect();
  }
}

import { gzipSync } from 'node:zlib';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ExportLogsServiceRequest, ExportLogsServiceResponse } from '../../src/features/ingest/formats/otlp-proto';
import { createApiKey, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

// OTLP/HTTP logs sent by the OpenTelemetry JS SDK's own exporters, unmodified.
const ns = createNamespace('ingestotlp');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;

beforeAll(async () => {
  key = await createApiKey(ns, 'otel-app', ['ingest']);
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

/** Runs test/fixtures/otel-log-app.js: the SDK and a real exporter, sending the same export twice. */
async function runOtelApp(exporter: 'proto' | 'http', compression: 'gzip' | 'none', user: string): Promise<{ code: number; error?: string }[]> {
  const options = JSON.stringify({ url: stack.url, key, exporter, compression, user });
  const { stdout } = await promisify(execFile)(process.execPath, [path.join(__dirname, '..', 'fixtures', 'otel-log-app.js'), options]);
  return JSON.parse(stdout);
}

async function rowsWhere(table: string, column: string, value: string, expected: number) {
  await stack.writer!.flushAll();
  return eventually(async () => {
    const rows = await queryRows<Record<string, unknown>>(stack.clickhouse!, `SELECT * FROM ${table} WHERE ${column} = {v:String} ORDER BY occurred_at`, { v: value });
    return rows.length >= expected && rows;
  });
}

/** An OTLP/HTTP ExportLogsServiceResponse, as JSON; `partialSuccess` only when some records were refused. */
interface ExportLogsResponse {
  partialSuccess?: { rejectedLogRecords: number; errorMessage: string };
}

async function postLogs(body: Buffer | string, contentType: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${stack.url}/v1/logs`, { method: 'POST', headers: { 'content-type': contentType, authorization: `Bearer ${key}`, ...headers }, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* protobuf or text */
  }
  return { status: response.status, body: parsed as ExportLogsResponse };
}

describe.each([
  ['protobuf, gzip', 'proto', 'gzip'],
  ['protobuf', 'proto', 'none'],
  ['JSON, gzip', 'http', 'gzip'],
  ['JSON', 'http', 'none'],
] as const)('POST /v1/logs from the OpenTelemetry exporter (%s)', (_name, exporter, compression) => {
  it('maps event names and semantic-convention attributes to events that land once, even when the export is sent twice', async () => {
    const user = `otel-${exporter}-${compression}`;
    expect(await runOtelApp(exporter, compression, user)).toEqual([{ code: 0 }, { code: 0 }]);

    const auth = await rowsWhere('auth_audit_log', 'user_id', user, 1);
    expect(auth).toHaveLength(1);
    expect(auth[0]).toMatchObject({
      event_type: 'login_failed',
      event_status: 'FAILURE',
      ip_address: '198.51.100.7',
      user_agent: 'Mozilla/5.0',
      session_id: `s-${user}`,
      device_fingerprint: 'fp-1',
      occurred_at: '2026-03-02 08:00:00.000',
      source_app: 'otel-app',
    });
    // An unmapped attribute is kept under otel.attributes; ClickHouse's JSON type reads its dotted name back as a path.
    expect(auth[0]!.details).toEqual({ otel: { service_name: 'shop-api', scope: 'shop-auth', attributes: { http: { route: '/login' } } } });

    const audit = await rowsWhere('audit_logs', 'user_id', user, 1);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ event_type: 'todo.created', entity_type: 'todo', entity_id: 't-1', new_value: { title: 'x' } });

    const errors = await rowsWhere('error_logs', 'error_message', `payment failed for ${user}`, 1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ error_code: 'PaymentError', severity_level: 'high', request_path: '/pay' });
    expect((errors[0]!.technical_details as { otel: { service_name: string } }).otel.service_name).toBe('shop-api');
  });
});

/**
 * A valid-looking ExportLogsServiceRequest whose one attribute nests `depth`
 * key-value lists deep, built from the inside out (each level only prefixes
 * a tag and a length), for a decoder that recurses per level.
 */
function deepProtobuf(depth: number): Buffer {
  const varint = (n: number) => {
    const out = [];
    for (; n > 127; n >>>= 7) out.push((n & 127) | 128);
    out.push(n);
    return out;
  };
  const prefixes: number[][] = [];
  let length = 2; // AnyValue { string_value: "" }
  const wrap = (tag: number) => {
    const prefix = [tag, ...varint(length)];
    prefixes.push(prefix);
    length += prefix.length;
  };
  for (let i = 0; i < depth; i++) {
    wrap(0x12); // KeyValue.value
    wrap(0x0a); // KeyValueList.values
    wrap(0x32); // AnyValue.kvlist_value
  }
  wrap(0x12); // KeyValue.value (key "deep" omitted: proto3 default)
  wrap(0x32); // LogRecord.attributes
  wrap(0x12); // ScopeLogs.log_records
  wrap(0x12); // ResourceLogs.scope_logs
  wrap(0x0a); // ExportLogsServiceRequest.resource_logs
  return Buffer.concat([Buffer.from(prefixes.reverse().flat()), Buffer.from([0x0a, 0x00])]);
}

describe('POST /v1/logs: the ExportLogsServiceResponse', () => {
  const record = (attrs: Record<string, string>, extra: Record<string, unknown> = {}) => ({
    timeUnixNano: '1772438400000000000',
    attributes: Object.entries(attrs).map(([k, v]) => ({ key: k, value: { stringValue: v } })),
    ...extra,
  });
  const request = (...logRecords: unknown[]) => JSON.stringify({ resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ scope: { name: 't' }, logRecords }] }] });

  it('counts refused records in partialSuccess, with a message; the others land', async () => {
    const res = await postLogs(
      request(
        record({ 'user.id': 'partial-1' }, { eventName: 'auth.login' }),
        record({ 'user.id': 'partial-1' }, { severityNumber: 9, body: { stringValue: 'no name' } }),
        record({ 'client.address': 'not-an-ip' }, { eventName: 'auth.login' }),
        record({}, { eventName: 'shop.checkout' }),
      ),
      'application/json',
    );
    expect(res.status).toBe(200);
    expect(res.body.partialSuccess!.rejectedLogRecords).toBe(3);
    expect(res.body.partialSuccess!.errorMessage).toMatch(/record 1: event_name .*below ERROR/);
    expect(res.body.partialSuccess!.errorMessage).toMatch(/record 2: ip_address/);
    expect(res.body.partialSuccess!.errorMessage).toMatch(/record 3: event_name must end in <kind>.<event_type>/);
    expect(await rowsWhere('auth_audit_log', 'user_id', 'partial-1', 1)).toHaveLength(1);
  });

  it('a fully accepted export leaves partialSuccess unset; an empty one is fine', async () => {
    expect(await postLogs(request(record({ 'user.id': 'full-1' }, { eventName: 'auth.logout' })), 'application/json')).toEqual({ status: 200, body: {} });
    expect(await postLogs(JSON.stringify({ resourceLogs: [] }), 'application/json')).toEqual({ status: 200, body: {} });
  });

  it('answers a protobuf request with a protobuf ExportLogsServiceResponse', async () => {
    const body = ExportLogsServiceRequest.encode(
      ExportLogsServiceRequest.fromObject(JSON.parse(request(record({}, { eventName: 'auth.login', attributes: [{ key: 'client.address', value: { stringValue: 'x' } }] })))),
    ).finish();
    const response = await fetch(`${stack.url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${key}` }, body: Buffer.from(body) });
    expect([response.status, response.headers.get('content-type')]).toEqual([200, 'application/x-protobuf']);
    const decoded = ExportLogsServiceResponse.toObject(ExportLogsServiceResponse.decode(Buffer.from(await response.arrayBuffer())), { longs: Number });
    expect(decoded).toEqual({ partialSuccess: { rejectedLogRecords: 1, errorMessage: expect.stringMatching(/^record 0: ip_address /) } });
  });

  it('a protobuf string field that is not UTF-8 is a 400, not a record stored with U+FFFD; bytes values may hold any bytes', async () => {
    const encode = (user: string, extra: unknown[] = []) =>
      Buffer.from(
        ExportLogsServiceRequest.encode(
          ExportLogsServiceRequest.fromObject(JSON.parse(request(record({ 'user.id': user }, { eventName: 'auth.logout', attributes: [{ key: 'user.id', value: { stringValue: user } }, ...extra] })))),
        ).finish(),
      );
    // The same bytes with the marker's first two bytes made into a lone continuation byte and an invalid lead byte.
    const body = encode('badutf8-XXuser');
    const at = body.indexOf('XX');
    body[at] = 0x80;
    body[at + 1] = 0xff;
    expect((await postLogs(body, 'application/x-protobuf')).status).toBe(400);
    const answer = await fetch(`${stack.url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${key}` }, body });
    expect(((await answer.json()) as { error: { message: string } }).error.message).toMatch(/string field .* not valid UTF-8/);
    // A valid one with a bytes attribute holding the same bytes lands, byte for byte.
    const good = encode('goodutf8-user', [{ key: 'blob', value: { bytesValue: Buffer.from([0x80, 0xff]).toString('base64') } }]);
    expect((await postLogs(good, 'application/x-protobuf')).status).toBe(200);
    expect(await rowsWhere('auth_audit_log', 'user_id', 'goodutf8-user', 1)).toHaveLength(1);
    await stack.writer!.flushAll();
    const stored = await queryRows<{ n: string }>(stack.clickhouse!, `SELECT count() AS n FROM auth_audit_log WHERE user_id LIKE 'badutf8-%'`);
    expect(Number(stored[0]!.n)).toBe(0);
  });

  it('wants the ingest key exporters send as a bearer header', async () => {
    expect((await postLogs(request(), 'application/json', { authorization: '' })).status).toBe(401);
    expect((await postLogs(request(), 'application/json', { authorization: 'Bearer nope' })).status).toBe(401);
  });

  it('hostile bodies get 4xx, never 5xx', async () => {
    // Nested deeper than JSON.stringify can write; the server must not recurse into all of it.
    const deep = `${'{"kvlistValue":{"values":[{"key":"k","value":'.repeat(5000)}{"stringValue":"x"}${'}]}}'.repeat(5000)}`;
    const deepJson = request(record({}, { eventName: 'auth.login' })).replace('"attributes":[]', `"attributes":[{"key":"deep","value":${deep}}]`);
    const cases: [string, Buffer | string, Record<string, string>?][] = [
      ['application/x-protobuf', deepProtobuf(200_000)],
      ['application/x-protobuf', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])],
      ['application/x-protobuf', Buffer.from('not protobuf at all, just text')],
      ['application/json', '{"resourceLogs":'],
      ['application/json', '"a string"'],
      ['application/json', request(record({}, { eventName: 'auth.login', timeUnixNano: 'soon' }))],
      ['application/json', JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [null, 1, 'x', { eventName: 5 }] }] }] })],
      ['application/json', deepJson],
      ['application/json', Buffer.from('definitely not gzip'), { 'content-encoding': 'gzip' }],
      ['application/json', gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20)), { 'content-encoding': 'gzip' }],
      ['application/json', request(...Array.from({ length: 1001 }, () => record({}, { eventName: 'auth.login' })))],
      ['text/plain', 'hello'],
    ];
    const statuses = [];
    for (const [contentType, body, headers] of cases) statuses.push((await postLogs(body, contentType, headers)).status);
    expect(statuses).toEqual([400, 400, 400, 400, 400, 200, 200, 200, 400, 413, 413, 415]);
  });
});

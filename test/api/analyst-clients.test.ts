import { randomUUID } from 'node:crypto';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

/**
 * Analysts' clients as they connect to /clickhouse (docs/analytics.md,
 * "Clients"). Python's clickhouse-connect and Go's clickhouse-go (which
 * Grafana's ClickHouse data source uses) cannot be installed here, so their
 * first requests are sent as their sources send them (clickhouse-connect
 * 0.8-0.9: driver/client.py _init_common_settings and driver/httpclient.py;
 * clickhouse-go v2: conn_http.go), and their answers are read as they read
 * them (Native format). @clickhouse/client runs for real.
 */

const ns = createNamespace('analystclients');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;
let restrictedKey: string;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  key = await createApiKey(ns, 'analyst', ['query']);
  restrictedKey = await createApiKey(ns, 'billing-analyst', ['query'], 'billing-analyst', { apps: ['billing'] });
  const ingest = await createApiKey(ns, 'billing', ['ingest']);
  expect(
    (
      await postEvents(
        stack.url,
        ingest,
        ['u-1', 'u-2'].map((user_id) => ({ kind: 'audit', event_type: 'invoice_paid', user_id })),
      )
    ).status,
  ).toBe(202);
  await eventually(async () => Number((await queryRows<{ n: number }>(stack.clickhouse!, "SELECT count() AS n FROM audit_logs WHERE source_app = 'billing'"))[0]!.n) === 2);
});

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

/** ClickHouse's Native format, the columns these tests read (String, UInt8, UInt64), every block. */
function readNative(buffer: Buffer): Record<string, (string | number)[]> {
  let at = 0;
  const varUInt = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = buffer[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  const string = (): string => {
    const length = varUInt();
    at += length;
    return buffer.subarray(at - length, at).toString('utf8');
  };
  const columns: Record<string, (string | number)[]> = {};
  while (at < buffer.length) {
    const [count, rows] = [varUInt(), varUInt()];
    for (let c = 0; c < count; c++) {
      const [name, type] = [string(), string()];
      const values = columns[name] ?? [];
      columns[name] = values;
      for (let r = 0; r < rows; r++) {
        if (type === 'String') values.push(string());
        else if (type === 'UInt8') values.push(buffer[at++]!);
        else if (type === 'UInt64') {
          values.push(Number(buffer.readBigUInt64LE(at)));
          at += 8;
        } else throw new Error(`type ${type} is not read by this test`);
      }
    }
  }
  return columns;
}

/** A request as the clients under test send it: Basic auth with a user name, their User-Agent, parameters in the URL, the query in the body. */
async function send(path: string, params: Record<string, string>, body: string, options: { key?: string; headers?: Record<string, string>; method?: string } = {}) {
  const url = `${stack.url}${path}${Object.keys(params).length ? `?${new URLSearchParams(params)}` : ''}`;
  const response = await fetch(url, {
    method: options.method ?? 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`analyst:${options.key ?? key}`).toString('base64')}`,
      'user-agent': 'clickhouse-connect/0.9.2 (lv:py/3.12.3; mode:sync; os:linux)',
      ...options.headers,
    },
    body: options.method === 'GET' ? undefined : body,
  });
  // fetch undoes the Content-Encoding itself; the header still says which one was sent.
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

/**
 * clickhouse-connect's connection: the server's version and time zone, the
 * settings and whether each is readonly (it sends only those that are not),
 * a protocol probe, then a query with the settings it chose.
 */
async function connectLikeClickHouseConnect(base: string, database: Record<string, string>, apiKey = key) {
  const id = () => ({ query_id: randomUUID() });
  // command('SELECT version(), timezone()', use_database=False): no database, TabSeparated back.
  const version = await send(base, id(), 'SELECT version(), timezone()', { key: apiKey });
  expect([version.status, version.body.toString()]).toEqual([200, expect.stringMatching(/^\d+\.\d+[\d.]*\t[\w/+-]+\n$/)]);
  // query('SELECT name, value, readonly as readonly FROM system.settings LIMIT 10000'), read as Native.
  const settings = await send(base, { ...database, wait_end_of_query: '1', ...id() }, 'SELECT name, value, readonly as readonly FROM system.settings LIMIT 10000\n FORMAT Native', {
    key: apiKey,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
  });
  expect(settings.status).toBe(200);
  const table = readNative(settings.body);
  const byName = new Map(table.name!.map((name, i) => [name as string, { value: table.value![i], readonly: table.readonly![i] }]));
  // raw_query('SELECT 1 AS check', fmt='Native', settings={'client_protocol_version': 54405}): the protocol probe.
  const probe = await send(base, { ...database, client_protocol_version: '54405', wait_end_of_query: '1', ...id() }, 'SELECT 1 AS check\n FORMAT Native', { key: apiKey });
  expect(probe.status).toBe(200);
  return byName;
}

/** A query as clickhouse-connect sends it once connected, with the settings it found writable and one the caller passes. */
async function queryLikeClickHouseConnect(base: string, database: Record<string, string>, sql: string, apiKey = key) {
  const params = {
    ...database,
    session_id: randomUUID(),
    date_time_input_format: 'best_effort',
    enable_http_compression: '1',
    send_progress_in_http_headers: '1',
    http_headers_progress_interval_ms: '120000',
    output_format_json_quote_64bit_integers: '0',
    wait_end_of_query: '1',
    query_id: randomUUID(),
  };
  return send(base, params, `${sql}\n FORMAT Native`, { key: apiKey, headers: { 'accept-encoding': 'lz4,zstd,br,gzip', 'content-type': 'text/plain; charset=utf-8' } });
}

describe("Python's clickhouse-connect, by the requests it sends", () => {
  it.each([
    ['proxy_path=/clickhouse', '/clickhouse', {}],
    // dsn='http://analyst:KEY@host:3000/clickhouse': the path is the database, and the first request names none.
    ['the DSN http://analyst:KEY@host:3000/clickhouse', '/', { database: 'clickhouse' }],
  ])('connects with %s: output settings are not readonly, limits are', async (_label, base, database) => {
    expect((await send(`${base === '/' ? '' : base}/ping`, {}, '', { method: 'GET' })).body.toString()).toBe('Ok.\n');
    const settings = await connectLikeClickHouseConnect(base, database);
    // What the client may send, and does: output settings, date_time_input_format, the HTTP-layer ones.
    for (const name of ['output_format_json_quote_64bit_integers', 'date_time_input_format', 'enable_http_compression', 'send_progress_in_http_headers', 'http_headers_progress_interval_ms']) {
      expect([name, settings.get(name)?.readonly]).toEqual([name, 0]);
    }
    // Compression is off until asked for, as /clickhouse answers: the client asks (enable_http_compression=1).
    expect(settings.get('enable_http_compression')?.value).toBe('0');
    expect(settings.get('output_format_json_quote_64bit_integers')?.value).toBe('1');
    // What it must not send: the limits (with their values), and a setting it would otherwise turn on.
    expect(settings.get('max_result_rows')).toEqual({ value: '100000', readonly: 1 });
    expect(settings.get('readonly')).toEqual({ value: '1', readonly: 1 });
    expect(settings.get('cast_string_to_dynamic_use_inference')?.readonly).toBe(1);

    const result = await queryLikeClickHouseConnect(base, database, "SELECT count() AS n FROM audit_logs WHERE source_app = 'billing'");
    expect([result.status, result.headers.get('content-encoding')]).toEqual([200, 'br']);
    expect(readNative(result.body)).toEqual({ n: [2] });
  });

  it('connects with a key restricted to apps: system.settings is readable, less the filters, and reads stay filtered', async () => {
    const settings = await connectLikeClickHouseConnect('/clickhouse', {}, restrictedKey);
    expect(settings.get('output_format_json_quote_64bit_integers')?.readonly).toBe(0);
    expect(settings.has('additional_table_filters')).toBe(false);
    // Enforced for such a key: not changeable.
    expect(settings.get('output_format_write_statistics')).toEqual({ value: '0', readonly: 1 });
    const result = await queryLikeClickHouseConnect('/clickhouse', {}, 'SELECT count() AS n FROM audit_logs', restrictedKey);
    expect(readNative(result.body)).toEqual({ n: [2] });
    const other = await send('/clickhouse', {}, 'SELECT name FROM system.parts', { key: restrictedKey });
    expect([other.status, other.body.toString()]).toEqual([403, expect.stringContaining('system.parts has no source_app column')]);
  });
});

describe('the DSN form and the other clients', () => {
  it('takes http://user:key@host:3000/clickhouse as @clickhouse/client is given it', async () => {
    const url = new URL(`${stack.url}/clickhouse`);
    url.username = 'analyst';
    url.password = key;
    const client = createClient({ url: url.toString(), log: { level: ClickHouseLogLevel.OFF } });
    try {
      expect((await client.ping()).success).toBe(true);
      const rows = await (await client.query({ query: "SELECT user_id FROM audit_logs WHERE source_app = 'billing' ORDER BY user_id", format: 'JSONEachRow' })).json();
      expect(rows).toEqual([{ user_id: 'u-1' }, { user_id: 'u-2' }]);
    } finally {
      await client.close();
    }
  });

  it("answers clickhouse-go's HTTP connection (Grafana's data source, path /clickhouse)", async () => {
    // dialHttp: SELECT timeZone() with default_format=Native and the data source's settings; ping: SELECT 1.
    const headers = { 'user-agent': 'clickhouse-go/2.30.0 (lv:go/1.23.2; os:linux) grafana/11.3.0 clickhouse-datasource/4.5.0' };
    const zone = await send('/clickhouse', { default_format: 'Native', database: 'auditflow' }, 'SELECT timeZone()', { headers });
    expect(readNative(zone.body)).toEqual({ 'timeZone()': [expect.any(String)] });
    const ping = await send('/clickhouse', { default_format: 'Native', enable_http_compression: '1' }, 'SELECT 1', { headers: { ...headers, 'accept-encoding': 'gzip' } });
    expect([ping.status, ping.headers.get('content-encoding')]).toEqual([200, 'gzip']);
    expect(readNative(ping.body)).toEqual({ '1': [1] });
  });

  it('sends to a root GET without a query the landing page, as before', async () => {
    const landing = await fetch(`${stack.url}/`);
    expect(await landing.json()).toMatchObject({ dashboard: '/dashboard' });
    const query = await send('/', { query: 'SELECT 7' }, '', { method: 'GET' });
    expect([query.status, query.body.toString()]).toEqual([200, '7\n']);
  });
});

describe('error texts', () => {
  const LIMIT_NAMES =
    /readonly|max_execution_time|max_result_rows|max_result_bytes|max_memory_usage|overflow_mode|output_format_json_quote_64bit_integers|additional_table_filters|optimize_move_to_prewhere|short_circuit/;

  it('quote the query as the analyst wrote it, without the settings auditflow appended', async () => {
    const unknown = await send('/clickhouse', {}, 'SELECT nosuchcolumn FROM audit_logs');
    expect([unknown.status, unknown.body.toString()]).toEqual([
      404,
      'Code: 47. DB::Exception: Unknown expression identifier `nosuchcolumn` in scope SELECT nosuchcolumn FROM audit_logs. (UNKNOWN_IDENTIFIER)\n',
    ]);
    const table = await send('/clickhouse', {}, 'SELECT * FROM nosuchtable');
    expect(table.body.toString()).toBe("Code: 60. DB::Exception: Unknown table expression identifier 'nosuchtable' in scope SELECT * FROM nosuchtable. (UNKNOWN_TABLE)\n");
    // The analyst's own settings stay in the quote; the limits never appear.
    const own = (await send('/clickhouse', {}, 'SELECT nosuchcolumn FROM audit_logs SETTINGS extremes = 1')).body.toString();
    expect(own).toContain('in scope SELECT nosuchcolumn FROM audit_logs SETTINGS extremes = 1. (UNKNOWN_IDENTIFIER)');
    expect(own.replace('extremes = 1', '')).not.toMatch(LIMIT_NAMES);
    const settings = (await send('/clickhouse', {}, 'SELECT nope FROM system.settings')).body.toString();
    expect(settings).toContain('in scope SELECT nope FROM system.settings');
    expect(settings).not.toMatch(LIMIT_NAMES);
  });

  it("quote a restricted key's query without its app filters", async () => {
    const text = (await send('/clickhouse', {}, 'SELECT nosuchcolumn FROM audit_logs', { key: restrictedKey })).body.toString();
    expect(text).toBe('Code: 47. DB::Exception: Unknown expression identifier `nosuchcolumn` in scope SELECT nosuchcolumn FROM audit_logs. (UNKNOWN_IDENTIFIER)\n');
  });
});

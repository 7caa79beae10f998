import { gunzipSync } from 'node:zlib';
import { ClickHouseLogLevel, createClient as createClickHouseClient, type ClickHouseClient } from '@clickhouse/client';
import { createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

/**
 * /clickhouse speaks ClickHouse's HTTP interface, read-only, on the embedded
 * store: the same client, curl and BI tools work, writes and escapes are
 * refused with ClickHouse's error text, and the writer that shares the
 * chDB session keeps working.
 */

const ns = createNamespace('clickhousehttp');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;
let ingestKey: string;
let client: ClickHouseClient;

const USERS = ['u-1', 'u-2', 'u-3'];

/** @clickhouse/client, quiet: the errors it would log are what these tests expect. */
const createClient: typeof createClickHouseClient = (config) => createClickHouseClient({ log: { level: ClickHouseLogLevel.OFF }, ...config });

/** The app's rows: each analyst query is itself audited into audit_logs (source_app auditflow), so the table grows as the tests query it. */
async function auditCount(): Promise<number> {
  const [row] = await queryRows<{ n: number }>(stack.clickhouse!, "SELECT count() AS n FROM audit_logs WHERE source_app = 'billing'");
  return Number(row!.n);
}

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100', ANALYST_MAX_RESULT_ROWS: '1000', ANALYST_MAX_EXECUTION_TIME: '2' });
  key = await createApiKey(ns, 'analyst', ['query']);
  ingestKey = await createApiKey(ns, 'billing', ['ingest']);
  const posted = await postEvents(
    stack.url,
    ingestKey,
    USERS.map((user_id) => ({ kind: 'audit', event_type: 'invoice_paid', user_id })),
  );
  expect(posted.status).toBe(202);
  await eventually(async () => (await auditCount()) === USERS.length);
  client = createClient({ url: `${stack.url}/clickhouse`, username: 'anyone', password: key });
});

afterAll(async () => {
  await client?.close();
  await stack?.stop();
  await ns.cleanup();
});

/** A raw request to /clickhouse, as curl would send it. */
async function curl(pathAndQuery: string, options: { method?: string; body?: string; key?: string | null; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...options.headers };
  const credential = options.key === undefined ? key : options.key;
  if (credential !== null) headers.authorization = `Basic ${Buffer.from(`analyst:${credential}`).toString('base64')}`;
  const response = await fetch(`${stack.url}${pathAndQuery}`, { method: options.method ?? (options.body === undefined ? 'GET' : 'POST'), headers, body: options.body });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

const q = (sql: string) => encodeURIComponent(sql);

describe('@clickhouse/client against /clickhouse', () => {
  it('pings, and reads rows as JSONEachRow and JSON', async () => {
    expect((await client.ping()).success).toBe(true);
    const rows = await (await client.query({ query: "SELECT user_id FROM audit_logs WHERE source_app = 'billing' ORDER BY user_id", format: 'JSONEachRow' })).json<{ user_id: string }>();
    expect(rows.map((r) => r.user_id)).toEqual(USERS);
    const json = await (await client.query({ query: "SELECT count() AS n, min(source_app) AS app FROM audit_logs WHERE source_app = 'billing'", format: 'JSON' })).json<{ n: string; app: string }>();
    // 64-bit integers quoted, as a ClickHouse server sends them by default.
    expect(json.data).toEqual([{ n: '3', app: 'billing' }]);
    expect(json.meta?.[0]).toEqual({ name: 'n', type: 'UInt64' });
  });

  it("works with the pathname option too (the client's way to address a path)", async () => {
    const viaPathname = createClient({ url: stack.url, pathname: '/clickhouse', username: 'anyone', password: key });
    try {
      expect((await viaPathname.ping()).success).toBe(true);
      expect(await (await viaPathname.query({ query: "SELECT count() AS n FROM audit_logs WHERE source_app = 'billing'", format: 'JSONEachRow' })).json()).toEqual([{ n: '3' }]);
    } finally {
      await viaPathname.close();
    }
  });

  it('binds query_params as {name:Type}, and passes harmless settings', async () => {
    const rows = await (
      await client.query({
        query: 'SELECT user_id, count() AS n FROM audit_logs WHERE user_id = {user:String} GROUP BY user_id',
        query_params: { user: 'u-2' },
        format: 'JSONEachRow',
        clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
      })
    ).json();
    expect(rows).toEqual([{ user_id: 'u-2', n: 1 }]);
  });

  it('asks for and reads compressed responses', async () => {
    const compressed = createClient({ url: `${stack.url}/clickhouse`, username: 'x', password: key, compression: { response: true } });
    try {
      const rows = await (await compressed.query({ query: 'SELECT number FROM numbers(3)', format: 'JSONCompactEachRow' })).json();
      expect(rows).toEqual([['0'], ['1'], ['2']]);
    } finally {
      await compressed.close();
    }
  });

  it('refuses command, insert and exec writes with ClickHouse errors, and the data is untouched', async () => {
    await expect(client.command({ query: 'DROP TABLE audit_logs' })).rejects.toMatchObject({ code: '164', type: 'READONLY' });
    await expect(client.insert({ table: 'audit_logs', values: [{ event_type: 'x' }], format: 'JSONEachRow' })).rejects.toMatchObject({ type: 'READONLY' });
    await expect(client.exec({ query: 'TRUNCATE TABLE audit_logs' })).rejects.toMatchObject({ type: 'READONLY' });
    expect(await auditCount()).toBe(USERS.length);
  });
});

describe('curl-style requests', () => {
  it('takes the query from the URL (GET) or the body (POST), joined like ClickHouse when both are sent', async () => {
    const get = await curl(`/clickhouse?query=${q('SELECT 1 + 1')}`);
    expect(get).toMatchObject({ status: 200, text: '2\n' });
    expect(get.headers.get('x-clickhouse-format')).toBe('TabSeparated');
    expect(get.headers.get('content-type')).toMatch(/^text\/tab-separated-values/);
    expect(JSON.parse(get.headers.get('x-clickhouse-summary')!)).toHaveProperty('read_rows');
    expect(get.headers.get('x-clickhouse-query-id')).toMatch(/^[0-9a-f-]{36}$/);

    expect(await curl('/clickhouse', { body: "SELECT count() FROM audit_logs WHERE source_app = 'billing'" })).toMatchObject({ status: 200, text: '3\n' });
    // "query" parameter, a line break, then the body.
    expect(await curl(`/clickhouse?query=${q("SELECT user_id FROM audit_logs WHERE source_app = 'billing' ORDER BY user_id")}`, { body: 'LIMIT 1 FORMAT CSV' })).toMatchObject({
      status: 200,
      text: '"u-1"\n',
    });
  });

  it('honours FORMAT in the query over default_format, and default_format otherwise', async () => {
    const cases: [string, string, string][] = [
      ["SELECT 1 AS a, 'x' AS b", 'JSONEachRow', '{"a":1,"b":"x"}\n'],
      ["SELECT 1 AS a, 'x' AS b", 'JSONCompactEachRow', '[1, "x"]\n'],
      ["SELECT 1 AS a, 'x' AS b", 'TSVWithNames', 'a\tb\n1\tx\n'],
      ["SELECT 1 AS a, 'x' AS b", 'CSVWithNames', '"a","b"\n1,"x"\n'],
      ["SELECT 1 AS a, 'x' AS b FORMAT CSV", 'JSONEachRow', '1,"x"\n'],
    ];
    for (const [sql, format, expected] of cases) {
      const res = await curl(`/clickhouse?default_format=${format}`, { body: sql });
      expect({ sql, format, status: res.status, text: res.text }).toEqual({ sql, format, status: 200, text: expected });
    }
    const json = await curl('/clickhouse', { body: 'SELECT 1 AS a FORMAT JSONCompact' });
    expect(JSON.parse(json.text)).toMatchObject({ meta: [{ name: 'a', type: 'UInt8' }], data: [[1]], rows: 1 });
    expect(json.headers.get('x-clickhouse-format')).toBe('JSONCompact');
    expect((await curl('/clickhouse', { body: 'SELECT 1 AS a FORMAT PrettyCompactMonoBlock' })).text).toContain('┌─a─┐');
    expect((await curl('/clickhouse', { body: 'SELECT 1', headers: { 'x-clickhouse-format': 'JSONEachRow' } })).text).toBe('{"1":1}\n');
  });

  it("binds param_* values in ClickHouse's escaped format", async () => {
    const res = await curl(`/clickhouse?param_user=u-3&param_s=${q('a\\tb')}&param_n=41`, {
      body: 'SELECT user_id, {s:String} AS s, {n:UInt8} + 1 AS n FROM audit_logs WHERE user_id = {user:String} FORMAT JSONEachRow',
    });
    expect(res).toMatchObject({ status: 200, text: '{"user_id":"u-3","s":"a\\tb","n":42}\n' });
  });

  it('accepts X-ClickHouse-User/X-ClickHouse-Key and user/password parameters', async () => {
    expect(await curl('/clickhouse', { key: null, body: 'SELECT 7', headers: { 'x-clickhouse-user': 'bi', 'x-clickhouse-key': key } })).toMatchObject({ status: 200, text: '7\n' });
    expect(await curl(`/clickhouse?user=bi&password=${q(key)}&query=${q('SELECT 8')}`, { key: null })).toMatchObject({ status: 200, text: '8\n' });
  });

  it('answers ping and a bare GET like ClickHouse, without credentials', async () => {
    expect(await curl('/clickhouse/ping', { key: null })).toMatchObject({ status: 200, text: 'Ok.\n' });
    expect(await curl('/clickhouse', { key: null })).toMatchObject({ status: 200, text: 'Ok.\n' });
  });

  it('reads gzip request bodies and gzips responses when enable_http_compression=1', async () => {
    const res = await fetch(`${stack.url}/clickhouse?enable_http_compression=1`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`a:${key}`).toString('base64')}`, 'accept-encoding': 'gzip' },
      body: 'SELECT 42',
    });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    // fetch decompresses on its own.
    expect(await res.text()).toBe('42\n');
    const raw = await new Promise<Buffer>((resolve, reject) => {
      // node:http does not decompress: the bytes on the wire are gzip.
      void import('node:http').then(({ request }) => {
        const req = request(
          `${stack.url}/clickhouse?enable_http_compression=1`,
          { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`a:${key}`).toString('base64')}`, 'accept-encoding': 'gzip' } },
          (r) => {
            const chunks: Buffer[] = [];
            r.on('data', (c: Buffer) => chunks.push(c))
              .on('end', () => resolve(Buffer.concat(chunks)))
              .on('error', reject);
          },
        );
        req.end('SELECT 43');
      });
    });
    expect(gunzipSync(raw).toString()).toBe('43\n');
  });
});

describe('authentication', () => {
  it('answers 401 AUTHENTICATION_FAILED without a key or with a wrong one', async () => {
    for (const credential of [null, `${key}x`, 'af_not-a-key']) {
      const res = await curl('/clickhouse', { key: credential, body: 'SELECT 1' });
      expect(res.status).toBe(401);
      expect(res.text).toMatch(/^Code: 516\. DB::Exception: .*Authentication failed.*\(AUTHENTICATION_FAILED\)\n$/);
      expect(res.headers.get('x-clickhouse-exception-code')).toBe('516');
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    }
    const bad = createClient({ url: `${stack.url}/clickhouse`, username: 'anyone', password: 'wrong' });
    try {
      // The error names the user the client gave, as ClickHouse does, not a fixed one.
      await expect(bad.query({ query: 'SELECT 1' })).rejects.toMatchObject({ code: '516', type: 'AUTHENTICATION_FAILED', message: expect.stringMatching(/^anyone: Authentication failed/) });
    } finally {
      await bad.close();
    }
  });

  it('answers 403 ACCESS_DENIED to a key without the query scope', async () => {
    const res = await curl('/clickhouse', { key: ingestKey, body: 'SELECT 1' });
    expect(res.status).toBe(403);
    expect(res.text).toMatch(/^Code: 497\. DB::Exception: billing: Not enough privileges: this API key lacks the query scope\. \(ACCESS_DENIED\)\n$/);
  });
});

describe('what is refused', () => {
  /** Every query here must be refused with `code`, whatever it tries. */
  async function refused(sql: string, code: number, name: string, url = '/clickhouse') {
    const res = await curl(url, { body: sql });
    expect({ sql, status: res.status, text: res.text }).toEqual({ sql, status: expect.any(Number), text: expect.stringMatching(new RegExp(`^Code: ${code}\\. DB::Exception: .+ \\(${name}\\)\\n$`)) });
    expect(res.status).toBeGreaterThanOrEqual(400);
    // An analyst's refused query is the client's error, never the server's.
    expect(res.status).toBeLessThan(500);
    return res;
  }

  it('refuses writes, DDL and session changes as READONLY (HTTP 403, where ClickHouse says 500)', async () => {
    const writes = [
      "INSERT INTO audit_logs (event_type) VALUES ('x')",
      'insert into audit_logs (event_type) format JSONEachRow {"event_type":"x"}',
      'ALTER TABLE audit_logs DELETE WHERE 1',
      'DELETE FROM audit_logs WHERE 1',
      "ALTER TABLE audit_logs UPDATE event_type = 'x' WHERE 1",
      "UPDATE audit_logs SET event_type = 'x' WHERE 1",
      'OPTIMIZE TABLE audit_logs FINAL',
      'TRUNCATE TABLE audit_logs',
      'DROP TABLE audit_logs',
      'DROP DATABASE auditflow',
      'CREATE TABLE evil (a UInt8) ENGINE = Memory',
      'CREATE TABLE evil ENGINE = Memory AS SELECT * FROM audit_logs',
      'RENAME TABLE audit_logs TO gone',
      'DETACH TABLE audit_logs',
      'ATTACH TABLE audit_logs',
      'SYSTEM STOP MERGES',
      'SYSTEM FLUSH LOGS',
      'KILL QUERY WHERE 1',
      'GRANT SELECT ON *.* TO default',
      'SET readonly = 0',
      'SET max_result_rows = 0',
      'USE system',
      '/* comment */ DrOp /* x */ TABLE audit_logs',
      'SELECT 1; DROP TABLE audit_logs',
      'EXPLAIN AST DROP TABLE audit_logs',
      'EXPLAIN PIPELINE INSERT INTO audit_logs SELECT * FROM audit_logs',
    ];
    for (const sql of writes) {
      const res = await curl('/clickhouse', { body: sql });
      expect({ sql, status: res.status, text: res.text }).toEqual({
        sql,
        status: expect.any(Number),
        text: expect.stringMatching(/^Code: (164|62)\. DB::Exception: .+ \((READONLY|SYNTAX_ERROR)\)\n$/),
      });
      expect([400, 403]).toContain(res.status);
    }
    const drop = await refused('DROP TABLE audit_logs', 164, 'READONLY');
    expect(drop.status).toBe(403);
    expect(drop.text).toContain('Cannot execute query in readonly mode');
    expect(drop.headers.get('x-clickhouse-exception-code')).toBe('164');
  });

  it('refuses settings that lift the limits, in the URL and in the query, at any depth', async () => {
    const inUrl = [
      'readonly=0',
      'readonly=2',
      'max_result_rows=0',
      'result_overflow_mode=break',
      'max_execution_time=0',
      'max_memory_usage=0',
      'max_result_bytes=0',
      'allow_ddl=1',
      'log_queries=0',
      'output_format_schema=/tmp/x',
    ];
    for (const setting of inUrl) {
      const res = await refused('SELECT 1', 164, 'READONLY', `/clickhouse?${setting}`);
      expect(res.text).toContain(`Cannot modify '${setting.split('=')[0]}' setting in readonly mode`);
    }
    const inQuery = [
      'SELECT 1 SETTINGS readonly = 0',
      'SELECT 1 SETTINGS max_result_rows = 0',
      "SELECT number FROM numbers(10) SETTINGS result_overflow_mode = 'break'",
      'SELECT 1 FORMAT JSON SETTINGS max_execution_time = 0',
      'select 1 /* SETTINGS */ SeTtInGs `max_result_rows` = 0',
      'SELECT 1 SETTINGS output_format_json_quote_64bit_integers = 0, "readonly" = 0',
      // A subquery's SETTINGS escape an outer readonly=1 in ClickHouse itself: this check is the one that holds.
      'SELECT * FROM (SELECT number FROM numbers(5000) SETTINGS max_result_rows = 0)',
      'SELECT count() FROM (SELECT 1 SETTINGS readonly = 0) AS a JOIN (SELECT 1) AS b ON 1',
      'WITH x AS (SELECT 1 SETTINGS readonly = 0) SELECT * FROM x',
      'SELECT 1 UNION ALL SELECT 2 SETTINGS max_result_rows = {n:UInt64}',
    ];
    for (const sql of inQuery) await refused(sql, 164, 'READONLY');
  });

  it('refuses table functions that reach files, URLs or other servers, however written', async () => {
    const escapes = [
      "SELECT * FROM file('/etc/passwd', 'LineAsString')",
      "SELECT * FROM FiLe('/etc/passwd', 'LineAsString')",
      "SELECT * FROM `file`('/etc/passwd', 'LineAsString')",
      "SELECT * FROM \"file\"('/etc/passwd', 'LineAsString')",
      "SELECT * FROM file/* x */('/etc/passwd', 'LineAsString')",
      "SELECT * FROM file\n  ('/etc/passwd', 'LineAsString')",
      "SELECT file('/etc/passwd')",
      "SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')",
      "SELECT * FROM URL('http://127.0.0.1:1/', 'LineAsString')",
      "SELECT * FROM remote('127.0.0.1', system.one)",
      "SELECT * FROM remoteSecure('127.0.0.1', system.one)",
      "SELECT * FROM cluster('default', system.one)",
      "SELECT * FROM s3('http://127.0.0.1:1/b/k.csv', 'CSV')",
      "SELECT * FROM hdfs('hdfs://127.0.0.1:1/x', 'CSV')",
      "SELECT * FROM mysql('127.0.0.1:1', 'db', 't', 'u', 'p')",
      "SELECT * FROM postgresql('127.0.0.1:1', 'db', 't', 'u', 'p')",
      "SELECT * FROM sqlite('/tmp/x.db', 't')",
      "SELECT * FROM executable('x.sh', 'CSV', 'a String')",
      "SELECT * FROM azureBlobStorage('http://127.0.0.1:1', 'c', 'b')",
      "SELECT * FROM input('a String')",
      "SELECT * FROM audit_logs WHERE user_id IN (SELECT * FROM file('/etc/passwd', 'LineAsString'))",
      "SELECT a.user_id FROM audit_logs AS a JOIN (SELECT line FROM file('/etc/passwd', 'LineAsString')) AS f ON a.user_id = f.line",
      "WITH (SELECT any(line) FROM file('/etc/hostname', 'LineAsString')) AS h SELECT h",
      "SELECT * FROM view(SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString'))",
      "DESCRIBE TABLE file('/etc/passwd', 'LineAsString')",
      "SELECT * FROM numbers(1) UNION ALL SELECT count() FROM s3('http://127.0.0.1:1/b/k.csv', 'CSV')",
      "SELECT * FROM dictionary('d')",
    ];
    for (const sql of escapes) await refused(sql, 497, 'ACCESS_DENIED');
    const res = await curl('/clickhouse', { body: "SELECT * FROM file('/etc/passwd', 'LineAsString')" });
    expect(res.status).toBe(403);
    expect(res.text).not.toContain('root:');
    // A bound parameter is a value, never a function.
    await refused('SELECT * FROM {t:Identifier}', 60, 'UNKNOWN_TABLE', `/clickhouse?param_t=${q("file('/etc/passwd')")}`);
    // Values are written into the query (chDB binds one query at a time): a NUL could end the text early for a C reader.
    await refused('SELECT {s:String}', 62, 'SYNTAX_ERROR', '/clickhouse?param_s=a%00b');
  });

  it('refuses INTO OUTFILE', async () => {
    await refused("SELECT * FROM audit_logs INTO OUTFILE '/tmp/auditflow-leak.csv'", 358, 'INTO_OUTFILE_NOT_ALLOWED');
  });

  it('leaves the data untouched after all of it', async () => {
    expect(await auditCount()).toBe(USERS.length);
    const rows = await queryRows<{ name: string }>(stack.clickhouse!, "SELECT name FROM system.tables WHERE database = 'auditflow' AND name IN ('audit_logs', 'evil', 'gone')");
    expect(rows.map((r) => r.name)).toEqual(['audit_logs']);
  });
});

describe('limits', () => {
  it('errors past max_result_rows instead of truncating', async () => {
    expect(await curl('/clickhouse', { body: 'SELECT count() FROM (SELECT number FROM numbers(1000))' })).toMatchObject({ status: 200, text: '1000\n' });
    const res = await curl('/clickhouse', { body: 'SELECT number FROM numbers(1000000)' });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/^Code: 396\. DB::Exception: Limit for result exceeded, max rows: 1\.00 thousand.*\(TOO_MANY_ROWS_OR_BYTES\)\n$/);
    // Also across a UNION, whose first SELECT alone would not carry the limit.
    expect((await curl('/clickhouse', { body: 'SELECT number FROM numbers(600) UNION ALL SELECT number FROM numbers(600)' })).status).toBe(400);
    await expect(client.query({ query: 'SELECT number FROM numbers(5000)', format: 'JSONEachRow' })).rejects.toMatchObject({ type: 'TOO_MANY_ROWS_OR_BYTES' });
  });

  it('answers a query that ClickHouse fails for its own fault with a 4xx, and records it so', async () => {
    // ClickHouse itself answers each of these with HTTP 500; they are the analyst's to fix, not the server's.
    const faults: [string, string][] = [
      ["SELECT plus('a', 1)", 'ILLEGAL_TYPE_OF_ARGUMENT'],
      ['SELECT * FROM audit_logs SAMPLE 1', 'SAMPLING_NOT_SUPPORTED'],
      ['SELECT throwIf(1)', 'FUNCTION_THROW_IF_VALUE_IS_NON_ZERO'],
      ['SELECT arrayElement([1], 1, 2)', 'NUMBER_OF_ARGUMENTS_DOESNT_MATCH'],
    ];
    const ids: string[] = [];
    for (const [index, [sql, name]] of faults.entries()) {
      const requestId = `query-fault-${index}-${Date.now()}`;
      ids.push(requestId);
      const res = await curl('/clickhouse', { body: sql, headers: { 'x-request-id': requestId } });
      expect({ sql, status: res.status, text: res.text }).toEqual({ sql, status: 400, text: expect.stringMatching(new RegExp(`^Code: \\d+\\. DB::Exception: .+\\(${name}\\)\\n$`)) });
    }
    // The API's own records of those requests count none of them as a server error.
    const statuses = await eventually(async () => {
      const rows = await queryRows<{ response_status: number }>(
        stack.clickhouse!,
        "SELECT response_status FROM api_access_log WHERE endpoint = '/clickhouse' AND JSONExtractString(toString(request_headers), 'x-request-id') IN {ids:Array(String)}",
        { ids },
      );
      return rows.length === faults.length ? rows.map((r) => Number(r.response_status)) : null;
    });
    expect(statuses).toEqual(faults.map(() => 400));
  });

  it('answers cleanly after a query that failed halfway through its output', async () => {
    // chDB hands a failed query's partial output (here JSON's header) to its connection's next result.
    const failed = await curl('/clickhouse', { body: 'SELECT number FROM numbers(100000) FORMAT JSON' });
    expect(failed.text).toMatch(/TOO_MANY_ROWS_OR_BYTES/);
    expect(await curl('/clickhouse', { body: 'SELECT 5 AS n FORMAT JSONEachRow' })).toMatchObject({ status: 200, text: '{"n":5}\n' });
    expect(await queryRows(stack.clickhouse!, 'SELECT 6 AS n')).toEqual([{ n: 6 }]);
  });

  it('stops a query past max_execution_time', async () => {
    const started = Date.now();
    const res = await curl('/clickhouse', { body: 'SELECT count() FROM numbers(100000000000) WHERE NOT ignore(sipHash64(number))' });
    expect(res.status).toBe(408);
    expect(res.text).toMatch(/^Code: 159\. DB::Exception: .*Timeout exceeded.*\(TIMEOUT_EXCEEDED\)\n$/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe('an API-only process on the embedded store', () => {
  it('relays queries to the worker that owns the store: results, headers and refusals alike', async () => {
    const apiOnly = await startStack(ns, { ROLE: 'api', ANALYST_MAX_RESULT_ROWS: '1000' });
    const relayed = createClient({ url: `${apiOnly.url}/clickhouse`, username: 'anyone', password: key });
    try {
      expect(apiOnly.clickhouse).toBeUndefined();
      expect((await relayed.ping()).success).toBe(true);
      const rows = await (
        await relayed.query({ query: 'SELECT user_id FROM audit_logs WHERE user_id IN {users:Array(String)} ORDER BY user_id', query_params: { users: ['u-1', 'u-3'] }, format: 'JSONEachRow' })
      ).json();
      expect(rows).toEqual([{ user_id: 'u-1' }, { user_id: 'u-3' }]);

      const csv = await fetch(`${apiOnly.url}/clickhouse?default_format=CSVWithNames`, { method: 'POST', headers: { 'x-clickhouse-key': key }, body: "SELECT 'a\nb' AS s, number FROM numbers(2)" });
      expect(csv.status).toBe(200);
      expect(csv.headers.get('x-clickhouse-format')).toBe('CSVWithNames');
      expect(await csv.text()).toBe('"s","number"\n"a\nb",0\n"a\nb",1\n');

      await expect(relayed.command({ query: 'DROP TABLE audit_logs' })).rejects.toMatchObject({ code: '164', type: 'READONLY' });
      await expect(relayed.query({ query: "SELECT * FROM file('/etc/passwd', 'LineAsString')" })).rejects.toMatchObject({ type: 'ACCESS_DENIED' });
      await expect(relayed.query({ query: 'SELECT number FROM numbers(1000000)' })).rejects.toMatchObject({ type: 'TOO_MANY_ROWS_OR_BYTES' });
      expect(await auditCount()).toBe(USERS.length);
    } finally {
      await relayed.close();
      await apiOnly.stop();
    }
  });
});

describe('the shared chDB session', () => {
  it('keeps no analyst setting: the writer still writes, and unlimited queries still run', async () => {
    // Everything above ran on the session the writer uses.
    const [settings] = await queryRows<Record<string, unknown>>(
      stack.clickhouse!,
      "SELECT getSetting('readonly') AS readonly, getSetting('max_result_rows') AS max_result_rows, getSetting('max_execution_time') AS max_execution_time, getSetting('result_overflow_mode') AS result_overflow_mode",
    );
    expect(settings).toEqual({ readonly: 0, max_result_rows: 0, max_execution_time: 0, result_overflow_mode: 'throw' });
    const [big] = await queryRows<{ n: number }>(stack.clickhouse!, 'SELECT count() AS n FROM (SELECT number FROM numbers(5000))');
    expect(Number(big!.n)).toBe(5000);
    const posted = await postEvents(stack.url, ingestKey, [{ kind: 'audit', event_type: 'invoice_paid', user_id: 'u-4' }]);
    expect(posted.status).toBe(202);
    await eventually(async () => (await auditCount()) === USERS.length + 1);
    const rows = await (await client.query({ query: "SELECT user_id FROM audit_logs WHERE user_id = 'u-4'", format: 'JSONEachRow' })).json();
    expect(rows).toEqual([{ user_id: 'u-4' }]);
  });

  it('records each request as api_access with the key, never the key itself', async () => {
    const keyId = await eventually(async () => {
      const rows = await queryRows<{ api_key_id: string }>(
        stack.clickhouse!,
        "SELECT api_key_id FROM api_access_log WHERE endpoint = '/clickhouse' AND response_status = 200 AND api_key_id IS NOT NULL LIMIT 1",
      );
      return rows[0]?.api_key_id;
    });
    expect(keyId).toMatch(/^[0-9a-f-]{36}$/);
    const leaked = await queryRows(stack.clickhouse!, 'SELECT * FROM api_access_log WHERE position(toString(request_headers), {k:String}) > 0', { k: key });
    expect(leaked).toEqual([]);
  });
});

import { randomUUID } from 'node:crypto';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { SEED_EVENTS } from '../fixtures/seed-events';
import { createApiKey, drainIngest, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

/**
 * A query key restricted to app A, on /clickhouse with two apps' data in
 * every table: whatever the SQL, ClickHouse hands it A's rows only, and what
 * would read around the filter is refused with a 4xx naming why. Each test
 * checks the unrestricted key sees B's rows the same way, so that "no B row"
 * means filtered, not absent.
 */

const ns = createNamespace('apprestricted');
const A = 'app-a';
const B = 'app-b';
/** What B writes where A writes its own user ids: found in a response, it is B's data. */
const B_SECRET = 'secret-of-b';
let stack: Awaited<ReturnType<typeof startStack>>;
let keyA: string;
let keyAll: string;
let asA: ClickHouseClient;
let asAll: ClickHouseClient;

const client = (url: string, key: string) => createClient({ url: `${url}/clickhouse`, username: 'analyst', password: key, log: { level: ClickHouseLogLevel.OFF } });

/** A seed event as app B sends it: its own ids, and B_SECRET wherever a user is named. */
function asB(event: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...event };
  for (const field of ['user_id', 'actor_id', 'userId']) if (typeof copy[field] === 'string') copy[field] = B_SECRET;
  if (typeof copy.email_address === 'string') copy.email_address = `${B_SECRET}@b.example`;
  return copy;
}

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100', ANALYST_MAX_RESULT_ROWS: '10000' });
  const ingestA = await createApiKey(ns, 'ingest-a', ['ingest'], A);
  const ingestB = await createApiKey(ns, 'ingest-b', ['ingest'], B);
  keyA = await createApiKey(ns, 'analyst-a', ['query'], 'analyst-a', { apps: [A] });
  keyAll = await createApiKey(ns, 'analyst-all', ['query']);
  const seeds = Object.values(SEED_EVENTS) as Record<string, unknown>[];
  expect((await postEvents(stack.url, ingestA, seeds)).status).toBe(202);
  expect((await postEvents(stack.url, ingestB, seeds.map(asB))).status).toBe(202);
  await drainIngest(stack, ns);
  // Dead letters of both apps, and a replay of each.
  const deadLetter = (app: string) => ({
    dead_letter_id: randomUUID(),
    event_id: randomUUID(),
    source_app: app,
    kind: 'audit',
    event_type: 'broken',
    occurred_at: null,
    received_at: '2026-01-01 00:00:00.000',
    failed_at: '2026-01-01 00:00:01.000',
    error: `bad row of ${app}`,
    attempts: 5,
    raw_payload: JSON.stringify({ user_id: app === B ? B_SECRET : 'a-user' }),
  });
  const letters = [deadLetter(A), deadLetter(B)];
  await stack.clickhouse!.insert({ table: 'dead_letter_events', values: letters, format: 'JSONEachRow' });
  await stack.clickhouse!.insert({
    table: 'dead_letter_replays',
    values: letters.map((l) => ({ dead_letter_id: l.dead_letter_id, source_app: l.source_app, replayed_at: '2026-01-02 00:00:00.000' })),
    format: 'JSONEachRow',
  });
  asA = client(stack.url, keyA);
  asAll = client(stack.url, keyAll);
}, 120_000);

afterAll(async () => {
  await asA?.close();
  await asAll?.close();
  await stack?.stop();
  await ns.cleanup();
});

async function rows(as: ClickHouseClient, query: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>[]> {
  return (await as.query({ query, query_params: params, format: 'JSONEachRow' })).json<Record<string, unknown>>();
}

/** The apps in a result's `app` column, sorted and deduplicated. */
async function appsIn(as: ClickHouseClient, query: string): Promise<string[]> {
  return [...new Set((await rows(as, query)).map((r) => String(r.app)))].sort();
}

/** A raw request to /clickhouse, as curl sends one. */
async function curl(sql: string, options: { key?: string; search?: string } = {}) {
  const response = await fetch(`${stack.url}/clickhouse${options.search ?? ''}`, { method: 'POST', headers: { 'x-clickhouse-key': options.key ?? keyA }, body: sql });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The query is refused to A with a 4xx and ClickHouse's error text; the text says why. */
async function refused(sql: string, why: RegExp, options: { search?: string; type?: string; status?: number } = {}) {
  const res = await curl(sql, options);
  expect({ sql, status: res.status }).toEqual({ sql, status: options.status ?? 403 });
  expect(res.text).toMatch(new RegExp(`^Code: \\d+\\. DB::Exception: [\\s\\S]*\\(${options.type ?? 'ACCESS_DENIED'}\\)\\n$`));
  expect(res.text).toMatch(why);
  expect(res.text).not.toContain(B_SECRET);
  return res;
}

describe('a query key restricted to app A', () => {
  it('reads A’s rows of every table and materialized view that has source_app, dead letters included, and none of B’s', async () => {
    const tables = (
      await queryRows<{ name: string }>(
        stack.clickhouse!,
        `SELECT name FROM system.tables WHERE database = currentDatabase() AND name IN (SELECT table FROM system.columns WHERE database = currentDatabase() AND name = 'source_app') ORDER BY name`,
      )
    ).map((t) => t.name);
    // The views of failed logins and the dead-letter replays got source_app (clickhouse/009).
    for (const t of [
      'audit_logs',
      'auth_audit_log',
      'security_events',
      'failed_login_attempts',
      'error_logs',
      'api_access_log',
      'rate_limit_violations',
      'user_sessions',
      'events_per_hour',
      'failed_logins_per_ip_hour',
      'failed_logins_per_account_hour',
      'auth_risk_daily',
      'dead_letter_events',
      'dead_letter_replays',
      'events_per_hour_audit_logs_mv',
      'failed_logins_per_ip_hour_mv',
    ]) {
      expect(tables).toContain(t);
    }
    for (const table of tables) {
      const count = async (app: string) => Number((await queryRows<{ n: number }>(stack.clickhouse!, `SELECT count() AS n FROM ${table} WHERE source_app = {app:String}`, { app }))[0]!.n);
      const [ownRows, otherRows] = [await count(A), await count(B)];
      // Every one holds both apps' rows: A's are there to read, B's to be hidden.
      expect({ table, a: ownRows > 0, b: otherRows > 0 }).toEqual({ table, a: true, b: true });
      expect({ table, apps: await appsIn(asAll, `SELECT DISTINCT source_app AS app FROM ${table}`) }).toEqual({ table, apps: expect.arrayContaining([A, B]) });
      expect({ table, apps: await appsIn(asA, `SELECT DISTINCT source_app AS app FROM ${table}`) }).toEqual({ table, apps: [A] });
      // Counting too: no count() from part metadata past the filter.
      expect({ table, n: Number((await rows(asA, `SELECT count() AS n FROM ${table}`))[0]!.n) }).toEqual({ table, n: ownRows });
    }
    const dump = await curl('SELECT * FROM dead_letter_events FORMAT TSV');
    expect(dump.status).toBe(200);
    expect(dump.text).toContain(`bad row of ${A}`);
    expect(dump.text).not.toContain(B_SECRET);
  });

  it('reads only A’s rows through subqueries, JOINs, UNION, CTEs, IN, scalar subqueries and view()', async () => {
    const bypasses = [
      'SELECT app FROM (SELECT source_app AS app FROM audit_logs)',
      'SELECT b.source_app AS app FROM audit_logs AS a JOIN auth_audit_log AS b ON 1 = 1',
      'SELECT b.source_app AS app FROM audit_logs AS a RIGHT JOIN auth_audit_log AS b ON a.user_id = b.user_id',
      'SELECT b.source_app AS app FROM (SELECT 1 AS one) AS a CROSS JOIN user_sessions AS b',
      `SELECT source_app AS app FROM audit_logs WHERE source_app = '${A}' UNION ALL SELECT source_app FROM auth_audit_log UNION DISTINCT SELECT source_app FROM error_logs`,
      "SELECT source_app AS app FROM audit_logs EXCEPT SELECT 'nothing'",
      'WITH t AS (SELECT source_app FROM security_events) SELECT source_app AS app FROM t',
      'SELECT source_app AS app FROM (SELECT * FROM failed_login_attempts) WHERE source_app IN (SELECT source_app FROM rate_limit_violations)',
      'SELECT arrayJoin((SELECT groupUniqArray(source_app) FROM api_access_log)) AS app',
      'SELECT source_app AS app FROM view(SELECT source_app FROM user_sessions)',
      "SELECT 'x' AS source_app, app FROM (SELECT source_app AS app FROM audit_logs) WHERE source_app = 'x'",
      'SELECT source_app.source_app AS app FROM audit_logs AS source_app',
      'SELECT source_app AS app FROM audit_logs GLOBAL INNER JOIN (SELECT source_app FROM audit_logs) AS x USING (source_app)',
      'SELECT source_app AS app FROM events_per_hour FINAL',
      'SELECT source_app AS app FROM events_per_hour_failed_login_attempts_mv',
      'SELECT source_app AS app FROM {table:Identifier}',
      'SELECT source_app AS app FROM `audit_logs`',
      `SELECT source_app AS app FROM ${ns.config().clickhouse.database}.audit_logs`,
      'SELECT source_app AS app FROM (SELECT * FROM (SELECT * FROM (SELECT * FROM audit_logs)))',
      'SELECT source_app AS app FROM audit_logs ORDER BY occurred_at LIMIT 1 BY source_app',
      'SELECT source_app AS app, count() OVER (PARTITION BY user_id) AS n FROM auth_audit_log',
    ];
    for (const sql of bypasses) {
      const params = { table: 'audit_logs' };
      const all = [...new Set((await rows(asAll, sql, params)).map((r) => String(r.app)))];
      expect({ sql, all: all.includes(B) }).toEqual({ sql, all: true });
      const own = [...new Set((await rows(asA, sql, params)).map((r) => String(r.app)))];
      expect({ sql, own }).toEqual({ sql, own: [A] });
    }
    // B's user ids, which A's rows never hold, through a self-join of every table's users.
    const users = await rows(
      asA,
      'SELECT groupUniqArray(user_id) AS u FROM (SELECT user_id FROM audit_logs UNION ALL SELECT user_id FROM auth_audit_log UNION ALL SELECT user_id FROM failed_login_attempts)',
    );
    expect(JSON.stringify(users)).not.toContain(B_SECRET);
    expect(JSON.stringify(await rows(asAll, 'SELECT groupUniqArray(user_id) AS u FROM audit_logs'))).toContain(B_SECRET);
  });

  it('refuses merge(), whose reads ClickHouse does not filter, and every table function that reaches files, URLs or servers', async () => {
    await refused("SELECT source_app FROM merge(currentDatabase(), '^audit_logs$')", /merge\(\) reads its tables without the app filter/);
    await refused("SELECT source_app FROM merge('^audit')", /merge\(\) reads its tables without the app filter/);
    for (const sql of [
      "SELECT * FROM file('/etc/passwd', 'LineAsString')",
      "SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')",
      "SELECT * FROM remote('127.0.0.1', currentDatabase(), 'audit_logs')",
      "SELECT * FROM cluster('default', currentDatabase(), 'audit_logs')",
      "SELECT * FROM clusterAllReplicas('default', currentDatabase(), 'audit_logs')",
      "SELECT * FROM loop(currentDatabase(), 'audit_logs') LIMIT 1",
      "SELECT * FROM mergeTreeIndex(currentDatabase(), 'audit_logs')",
      "SELECT * FROM dictionary('whatever')",
      "SELECT * FROM s3('http://127.0.0.1:1/x.csv')",
    ]) {
      await refused(sql, /Not enough privileges/);
    }
  });

  it('refuses system tables, whose rows describe every app (parts, tables, queries), with the table named', async () => {
    const system = [
      ['SELECT sum(rows) FROM system.parts', 'system.parts'],
      ['SELECT * FROM system.parts_columns', 'system.parts_columns'],
      ['SELECT name, total_rows FROM system.tables', 'system.tables'],
      ['SELECT * FROM system.columns', 'system.columns'],
      ['SELECT query FROM system.processes', 'system.processes'],
      ['SHOW TABLES', 'system.tables'],
      ['SHOW PROCESSLIST', 'system.processes'],
      ['SELECT * FROM INFORMATION_SCHEMA.TABLES', '(INFORMATION_SCHEMA\\.TABLES|system\\.tables)'],
      ['SELECT * FROM (SELECT 1) WHERE 1 IN (SELECT rows FROM system.parts)', 'system.parts'],
    ];
    for (const [sql, table] of system) await refused(sql!, new RegExp(`${table!.replace(/^system\./, 'system\\.')} has no source_app column, and this API key is restricted to the apps ${A}`));
    // What describes no data stays open: SELECT without FROM (system.one), numbers(), the function list; and the schema by DESCRIBE.
    expect(await rows(asA, 'SELECT 1 AS one, (SELECT count() FROM numbers(3)) AS three')).toEqual([{ one: 1, three: '3' }]);
    expect((await rows(asA, "SELECT name FROM system.functions WHERE name = 'sum'")).length).toBe(1);
    expect((await rows(asA, 'DESCRIBE TABLE audit_logs')).map((r) => r.name)).toContain('source_app');
  });

  it('refuses auditflow’s tables that have no app (integrity seals, migrations): they span every app', async () => {
    expect(Number((await queryRows<{ n: number }>(stack.clickhouse!, 'SELECT count() AS n FROM integrity_seals'))[0]!.n)).toBeGreaterThan(0);
    await refused('SELECT * FROM integrity_seals', /integrity_seals has no source_app column/);
    await refused('SELECT count() FROM schema_migrations', /schema_migrations has no source_app column/);
    await refused('SELECT source_app FROM audit_logs WHERE seal_seq IN (SELECT seq FROM integrity_seals)', /integrity_seals has no source_app column/);
    // The unrestricted key reads them as before.
    expect((await rows(asAll, 'SELECT count() AS n FROM integrity_seals'))[0]!.n).not.toBe('0');
  });

  it('cannot borrow another table’s filter by aliasing a table with that table’s name', async () => {
    // ClickHouse applies the first entry of additional_table_filters naming the table or its alias: aliased
    // "system.settings", system.tables was read under that table's filter and answered every app's row counts.
    const database = ns.config().clickhouse.database;
    expect((await curl('SELECT name, total_rows FROM system.tables AS "system.settings" WHERE database = currentDatabase() FORMAT TSV', { key: keyAll })).text).toContain('audit_logs');
    for (const sql of [
      'SELECT name, total_rows FROM system.tables AS "system.settings" WHERE database = currentDatabase()',
      'SELECT name, total_rows FROM system.tables `system.settings`',
      `SELECT * FROM system.parts AS "${database}.audit_logs"`,
      'SELECT source_app FROM audit_logs AS "system.settings"',
      'SELECT * FROM numbers(1) AS "system.settings" JOIN system.tables AS "INFORMATION_SCHEMA.TABLES" ON 1',
      'SELECT source_app FROM view(SELECT * FROM system.tables AS "system.settings")',
    ]) {
      await refused(sql, /has the alias [\w.]+: a table's alias may not contain a dot/);
    }
    // An alias without a dot, or a subquery's, is what analysts write, and keeps each table's own filter.
    expect(await appsIn(asA, 'SELECT t.source_app AS app FROM audit_logs AS t JOIN (SELECT 1 AS one) AS "x.y" ON 1')).toEqual([A]);
  });

  it('reads virtual columns of A’s rows only; those that number rows in a part (and so count B’s) are refused', async () => {
    const parts = await rows(asA, 'SELECT _part, _partition_id, _table, source_app AS app FROM audit_logs');
    expect(parts.length).toBeGreaterThan(0);
    expect(new Set(parts.map((p) => p.app))).toEqual(new Set([A]));
    for (const column of ['_part_offset', '_part_starting_offset', '_block_number', 'audit_logs._part_offset']) {
      await refused(`SELECT max(${column}) FROM audit_logs`, /counts the rows of every app in a part/);
    }
  });

  it('cannot change or lift the filter with SETTINGS, at any depth, in the URL, or with SET', async () => {
    const lift = "additional_table_filters = {'audit_logs': '1'}";
    for (const sql of [
      `SELECT source_app FROM audit_logs SETTINGS ${lift}`,
      `SELECT * FROM (SELECT source_app FROM audit_logs SETTINGS ${lift})`,
      `SELECT * FROM view(SELECT source_app FROM audit_logs SETTINGS ${lift})`,
      `WITH t AS (SELECT source_app FROM audit_logs SETTINGS ${lift}) SELECT * FROM t`,
      `SELECT count() FROM numbers(10) WHERE toString(number) IN (SELECT source_app FROM audit_logs SETTINGS ${lift})`,
      `SELECT source_app FROM audit_logs /* a comment */ SETTINGS /* another */ ${lift}`,
      `SELECT source_app FROM audit_logs -- a comment\nSETTINGS ${lift}`,
      'SELECT source_app FROM audit_logs SETTINGS readonly = 0',
      'SELECT source_app FROM audit_logs SETTINGS optimize_move_to_prewhere = 1',
      "SELECT source_app FROM audit_logs SETTINGS additional_result_filter = '1'",
      'SELECT source_app FROM audit_logs SETTINGS allow_experimental_analyzer = 0',
    ]) {
      await refused(sql, /Not enough privileges \(this API key is restricted to the apps app-a\): Cannot modify '\w+' setting in readonly mode/);
    }
    await refused('SELECT source_app FROM audit_logs', /Cannot modify 'additional_table_filters' setting/, { search: `?additional_table_filters=${encodeURIComponent("{'audit_logs':'1'}")}` });
    await refused("SET additional_table_filters = {'audit_logs': '1'}", /Cannot execute query in readonly mode/);
    await refused('SET readonly = 0', /Cannot execute query in readonly mode/);
  });

  it('refuses several statements at once, however they are hidden', async () => {
    for (const sql of [
      "SELECT 1; SET additional_table_filters = {'audit_logs': '1'}; SELECT source_app FROM audit_logs",
      "SELECT 1 /* ; */; SELECT source_app FROM audit_logs SETTINGS additional_table_filters = {'audit_logs': '1'}",
      "SELECT ';' AS s; SELECT source_app FROM audit_logs",
    ]) {
      await refused(sql, /Multi-statements are not allowed/, { type: 'SYNTAX_ERROR', status: 400 });
    }
  });

  it('refuses dictionaries and Join tables, which read without the filter', async () => {
    await refused("SELECT dictGet('any_dictionary', 'source_app', toUInt64(1))", /dictGet\(\) reads a dictionary or Join table without the app filter/);
    await refused("SELECT dictHas('any_dictionary', toUInt64(1))", /dictHas\(\) reads a dictionary/);
    await refused("SELECT joinGet('any_join', 'source_app', 1)", /joinGet\(\) reads a dictionary or Join table/);
  });

  it('learns nothing of B’s rows from errors: conditions run after the filter, PREWHERE is refused', async () => {
    // Each would throw on a row of B, were B's rows ever evaluated (measured: without the settings, the JOIN's ON throws).
    for (const sql of [
      `SELECT count() AS n FROM audit_logs WHERE throwIf(source_app = '${B}') = 0`,
      `SELECT count() AS n FROM audit_logs WHERE user_id = '${B_SECRET}' AND throwIf(source_app = '${B}') = 0`,
      `SELECT count() AS n FROM audit_logs WHERE intDiv(1, if(source_app = '${B}', 0, 1)) = 1`,
      `SELECT count() AS n FROM audit_logs AS x JOIN audit_logs AS y ON x.event_id = y.event_id AND throwIf(y.source_app = '${B}') = 0`,
      `SELECT count() AS n FROM (SELECT * FROM auth_audit_log) WHERE throwIf(source_app = '${B}') = 0`,
      `SELECT source_app, count() AS n FROM failed_login_attempts GROUP BY source_app HAVING throwIf(source_app = '${B}') = 0`,
    ]) {
      const res = await curl(`${sql} FORMAT JSONEachRow`);
      expect({ sql, status: res.status }).toEqual({ sql, status: 200 });
      const unrestricted = await curl(`${sql} FORMAT JSONEachRow`, { key: keyAll });
      expect({ sql, unrestricted: unrestricted.status }).not.toEqual({ sql, unrestricted: 200 });
    }
    await refused(`SELECT count() FROM audit_logs PREWHERE throwIf(source_app = '${B}') = 0`, /PREWHERE is evaluated before the app filter/);
  });

  it('is not told how many rows were read (which counts B’s), in statistics, headers or EXPLAIN', async () => {
    const json = await curl('SELECT count() AS n FROM audit_logs FORMAT JSON');
    expect(json.status).toBe(200);
    expect(JSON.parse(json.text)).not.toHaveProperty('statistics');
    const summary = JSON.parse(json.headers.get('x-clickhouse-summary')!) as Record<string, string>;
    expect(summary).not.toHaveProperty('read_rows');
    expect(summary).not.toHaveProperty('read_bytes');
    const unrestricted = await curl('SELECT count() AS n FROM audit_logs FORMAT JSON', { key: keyAll });
    expect(JSON.parse(unrestricted.text).statistics).toHaveProperty('rows_read');
    expect(JSON.parse(unrestricted.headers.get('x-clickhouse-summary')!)).toHaveProperty('read_rows');

    await refused('SELECT count() FROM audit_logs FORMAT JSON', /output_format_write_statistics/, { search: '?output_format_write_statistics=1' });
    await refused('EXPLAIN ESTIMATE SELECT * FROM audit_logs', /EXPLAIN PLAN, PIPELINE and ESTIMATE count the rows and parts of every app/);
    await refused('EXPLAIN SELECT * FROM audit_logs', /EXPLAIN PLAN, PIPELINE and ESTIMATE/);
    await refused('EXPLAIN PIPELINE SELECT * FROM audit_logs', /EXPLAIN PLAN, PIPELINE and ESTIMATE/);
    expect((await curl('EXPLAIN AST SELECT source_app FROM audit_logs')).status).toBe(200);
  });

  it('gets A’s rows only in every output format, and no format reads a file', async () => {
    for (const format of ['TSV', 'CSVWithNames', 'JSON', 'JSONCompact', 'Vertical', 'Pretty', 'XML', 'Markdown', 'Values', 'Native', 'Parquet']) {
      const res = await curl(`SELECT source_app, user_id FROM audit_logs FORMAT ${format}`);
      expect({ format, status: res.status }).toEqual({ format, status: 200 });
      expect(res.text).not.toContain(B);
      expect(res.text).not.toContain(B_SECRET);
    }
    for (const setting of ['format_template_resultset', 'format_schema', 'output_format_schema']) {
      await refused('SELECT source_app FROM audit_logs FORMAT CSV', new RegExp(setting), { search: `?${setting}=/etc/passwd` });
    }
  });

  it('an API-only process relays the restriction to the worker that runs the query', async () => {
    const apiOnly = await startStack(ns, { ROLE: 'api', ANALYST_MAX_RESULT_ROWS: '10000' });
    const relayed = client(apiOnly.url, keyA);
    try {
      expect(await appsIn(relayed, 'SELECT source_app AS app FROM (SELECT source_app FROM audit_logs UNION ALL SELECT source_app FROM failed_logins_per_ip_hour)')).toEqual([A]);
      await expect(relayed.query({ query: 'SELECT * FROM system.parts' })).rejects.toMatchObject({ type: 'ACCESS_DENIED' });
      await expect(relayed.query({ query: "SELECT * FROM merge('^audit')" })).rejects.toMatchObject({ type: 'ACCESS_DENIED' });
    } finally {
      await relayed.close();
      await apiOnly.stop();
    }
  });

  it('a key restricted to several apps reads each of them, and a key of an app with no rows reads nothing', async () => {
    const both = client(stack.url, await createApiKey(ns, 'analyst-ab', ['query'], 'analyst-ab', { apps: [A, B] }));
    const none = client(stack.url, await createApiKey(ns, 'analyst-c', ['query'], 'analyst-c', { apps: ['app-c'] }));
    try {
      expect(await appsIn(both, 'SELECT DISTINCT source_app AS app FROM audit_logs')).toEqual([A, B]);
      expect(await rows(none, 'SELECT source_app FROM audit_logs UNION ALL SELECT source_app FROM events_per_hour')).toEqual([]);
    } finally {
      await both.close();
      await none.close();
    }
  });
});

describe('an unrestricted query key', () => {
  it('still reads every app, system tables, merge(), seals and statistics as before', async () => {
    expect(await appsIn(asAll, "SELECT DISTINCT source_app AS app FROM merge(currentDatabase(), '^audit_logs$') WHERE source_app != 'auditflow'")).toEqual([A, B]);
    expect(Number((await rows(asAll, 'SELECT count() AS n FROM system.parts'))[0]!.n)).toBeGreaterThan(0);
    expect(Number((await rows(asAll, 'SELECT max(_part_offset) AS n FROM audit_logs'))[0]!.n)).toBeGreaterThanOrEqual(0);
    expect((await curl('EXPLAIN ESTIMATE SELECT * FROM audit_logs', { key: keyAll })).status).toBe(200);
  });
});

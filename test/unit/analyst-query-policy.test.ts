import type { AnalystLimits } from '../../src/config/env';
import { enforcedSettings, settingsClauseBody, settingVerdict } from '../../src/domain/analyst-settings';
import { executableSql, inspectAst, inspectTokens, urlSettingsToApply, type TokenFindings } from '../../src/features/analyst/analyst-query-policy';
import { tokenize } from './support/clickhouse-lexer';

const LIMITS: AnalystLimits = { maxExecutionTimeSeconds: 30, maxResultRows: 100_000, maxResultBytes: 50_000_000, maxMemoryUsage: 1_000_000_000 };
const ENFORCED =
  "readonly = '1', max_execution_time = '30', timeout_overflow_mode = 'throw', max_result_rows = '100000', max_result_bytes = '50000000', result_overflow_mode = 'throw', max_memory_usage = '1000000000'";

const inspect = (sql: string) => inspectTokens(Buffer.from(sql), tokenize(sql), LIMITS);
/** The findings of a query the policy lets through; fails the test when it refuses it. */
function allowed(sql: string): TokenFindings {
  const result = inspect(sql);
  if ('code' in result) throw new Error(`refused ${JSON.stringify(sql)}: ${result.message}`);
  return result;
}
const run = (sql: string, url: [string, string][] = []) => executableSql(Buffer.from(sql), allowed(sql), url, LIMITS);

describe('statements an analyst may run on /clickhouse', () => {
  it.each([
    'SELECT 1',
    "select count() from audit_logs where user_id = 'u1'",
    'WITH recent AS (SELECT * FROM auth_audit_log LIMIT 10) SELECT * FROM recent',
    '(SELECT 1) UNION ALL (SELECT 2)',
    'SHOW TABLES',
    'DESCRIBE TABLE audit_logs',
    'DESC audit_logs',
    'EXISTS TABLE audit_logs',
    'EXPLAIN SELECT 1',
    'EXPLAIN AST SELECT 1',
    'EXPLAIN QUERY TREE SELECT 1',
    'EXPLAIN PIPELINE (SELECT 1)',
    'SELECT 1;',
    'SELECT 1; -- done',
    '/* a note */ SELECT 1',
    'SELECT * FROM numbers(10)',
    'SELECT file, url FROM downloads',
    "SELECT 'file(x)', 'a;b'",
    'SELECT /* url( */ 1 -- ; DROP TABLE audit_logs',
  ])('%s', (sql) => expect(inspect(sql)).not.toHaveProperty('code'));
});

describe('statements that change something are refused as a readonly user would be', () => {
  it.each([
    'INSERT INTO audit_logs (event_id) VALUES (1)',
    'DROP TABLE audit_logs',
    'ALTER TABLE audit_logs DELETE WHERE 1',
    'TRUNCATE TABLE audit_logs',
    'CREATE TABLE t (a UInt8) ENGINE = Memory',
    'SET readonly = 0',
    'KILL QUERY WHERE 1',
    'SYSTEM FLUSH LOGS',
    'OPTIMIZE TABLE audit_logs FINAL',
    'GRANT ALL ON *.* TO analyst',
    '-- SELECT\nDELETE FROM audit_logs WHERE 1',
  ])('%s', (sql) => {
    expect(inspect(sql)).toEqual({ code: 164, name: 'READONLY', message: 'Cannot execute query in readonly mode: /clickhouse runs SELECT, SHOW, DESCRIBE, EXISTS and EXPLAIN queries only' });
  });

  it.each(['EXPLAIN PLAN header = 1 SELECT 1', 'EXPLAIN INSERT INTO t SELECT 1', 'EXPLAIN DROP TABLE audit_logs'])('%s: EXPLAIN only of a SELECT, without options', (sql) => {
    expect(inspect(sql)).toMatchObject({ name: 'READONLY', message: 'Cannot execute query in readonly mode: EXPLAIN is allowed for a SELECT, without options' });
  });

  it('refuses a second statement, even a harmless one', () => {
    for (const sql of ['SELECT 1; DROP TABLE audit_logs', 'SELECT 1; SELECT 2', 'SELECT 1;;']) {
      expect(inspect(sql)).toEqual({ code: 62, name: 'SYNTAX_ERROR', message: 'Syntax error (Multi-statements are not allowed)' });
    }
  });

  it('refuses a query with nothing in it', () => {
    for (const sql of ['', '   ', '-- nothing', ';']) expect(inspect(sql)).toEqual({ code: 62, name: 'SYNTAX_ERROR', message: 'Empty query' });
  });

  it('refuses a query the lexer could not read whole', () => {
    expect(inspect("SELECT 'unclosed")).toEqual({ code: 62, name: 'SYNTAX_ERROR', message: 'Cannot read the query' });
    expect(inspect('SELECT 1 /* unclosed')).toMatchObject({ name: 'SYNTAX_ERROR', message: 'Cannot read the query' });
    // Tokens that leave bytes unaccounted for are not trusted either.
    const sql = 'SELECT 1 FROM t';
    expect(inspectTokens(Buffer.from(sql), tokenize(sql).slice(0, -1), LIMITS)).toMatchObject({ message: 'Cannot read the query' });
    expect(
      inspectTokens(
        Buffer.from(sql),
        tokenize(sql).filter((t) => t.type !== 'Whitespace'),
        LIMITS,
      ),
    ).toMatchObject({ message: 'Cannot read the query' });
  });

  it('refuses INTO OUTFILE: results come back in the response', () => {
    expect(inspect("SELECT * FROM audit_logs INTO OUTFILE '/tmp/all.csv'")).toEqual({
      code: 358,
      name: 'INTO_OUTFILE_NOT_ALLOWED',
      message: 'INTO OUTFILE is not allowed: /clickhouse returns results in the response',
    });
  });
});

describe('functions that reach files, URLs or other servers', () => {
  it.each([
    ["SELECT * FROM file('/etc/passwd')", 'file'],
    ["SELECT * FROM url('http://169.254.169.254/latest/meta-data')", 'url'],
    ["SELECT * FROM s3('https://bucket.s3.amazonaws.com/x.csv')", 's3'],
    ["SELECT * FROM remote('other:9000', system.one)", 'remote'],
    ["SELECT * FROM postgresql('db:5432', 'app', 'users', 'u', 'p')", 'postgresql'],
    ["SELECT length(file('/etc/passwd'))", 'file'],
    ["SELECT * FROM `file`('/etc/passwd')", 'file'],
    ['SELECT * FROM "URL"(\'http://x/\')', 'URL'],
    ["SELECT * FROM FILE ('/etc/passwd')", 'FILE'],
    ["SELECT * FROM (SELECT * FROM executable('cat /etc/passwd', 'TSV', 'x String'))", 'executable'],
    ["SELECT dictGet('d', 'a', 1) FROM dictionary('d')", 'dictionary'],
  ])('%s', (sql, name) => {
    expect(inspect(sql)).toEqual({ code: 497, name: 'ACCESS_DENIED', message: `Not enough privileges: ${name}() reaches files, URLs or other servers, which /clickhouse does not allow` });
  });
});

describe('SETTINGS written in the query', () => {
  it.each([
    ['SELECT 1 SETTINGS max_threads = 1', 'max_threads'],
    ['SELECT 1 SETTINGS readonly = 0', 'readonly'],
    ['SELECT 1 SETTINGS max_result_rows = 100001', 'max_result_rows'],
    ['SELECT 1 SETTINGS `max_execution_time` = 0', 'max_execution_time'],
    ["SELECT 1 SETTINGS log_comment = 'x', MAX_MEMORY_USAGE = 0", 'MAX_MEMORY_USAGE'],
    ["SELECT 1 SETTINGS output_format_schema = '/etc/passwd'", 'output_format_schema'],
    // ClickHouse does not hold a subquery's SETTINGS to the outer readonly=1: the tokens are the check that counts there.
    ['SELECT * FROM (SELECT 1 SETTINGS max_execution_time = 0)', 'max_execution_time'],
    ['SELECT 1 UNION ALL (SELECT 2 SETTINGS max_memory_usage = 0)', 'max_memory_usage'],
  ])('%s is refused', (sql, name) => {
    expect(inspect(sql)).toEqual({ code: 164, name: 'READONLY', message: `Cannot modify '${name}' setting in readonly mode` });
  });

  it('accepts output and meaning settings, and asking for what is enforced anyway', () => {
    const sql = "SELECT 1 SETTINGS output_format_json_quote_64bit_integers = 0, session_timezone = 'UTC', readonly = 1, max_result_rows = '100000'";
    expect(allowed(sql)).toEqual({
      statementEnd: sql.length,
      topLevelClauses: [{ start: 'SELECT 1 '.length, end: sql.length }],
      topLevelSettings: [
        ['output_format_json_quote_64bit_integers', '0'],
        ['session_timezone', "'UTC'"],
      ],
      clauseCount: 1,
      format: null,
    });
  });

  it('reads every form of value: numbers, signs, strings with commas, identifiers, parameters', () => {
    const sql = "SELECT 1 SETTINGS log_comment = 'a, b = c', extremes = -1, date_time_output_format = iso, session_timezone = {tz:String} FORMAT JSON";
    expect(allowed(sql).topLevelSettings).toEqual([
      ['log_comment', "'a, b = c'"],
      ['extremes', '-1'],
      ['date_time_output_format', 'iso'],
      ['session_timezone', '{tz:String}'],
    ]);
  });

  it('refuses a value it cannot read rather than skip a setting', () => {
    expect(inspect('SELECT 1 SETTINGS log_comment = 1 + 1')).toEqual({
      code: 164,
      name: 'READONLY',
      message: "Cannot execute query in readonly mode: cannot read the value of setting 'log_comment'; write it as a literal",
    });
    expect(inspect('SELECT 1 SETTINGS log_comment = ')).toMatchObject({ name: 'READONLY' });
  });

  it('counts clauses at every depth, and moves only the top-level ones', () => {
    const findings = allowed('SELECT * FROM (SELECT 1 SETTINGS join_use_nulls = 1) SETTINGS extremes = 1');
    expect(findings.clauseCount).toBe(2);
    expect(findings.topLevelSettings).toEqual([['extremes', '1']]);
  });

  it('is not fooled by SETTINGS in a comment, a string or a column name', () => {
    for (const sql of ['SELECT 1 /* SETTINGS readonly = 0 */', "SELECT 'SETTINGS readonly = 0'", 'SELECT settings FROM t']) expect(allowed(sql).clauseCount).toBe(0);
  });

  it('notes the FORMAT the query names at its top level', () => {
    expect(allowed('SELECT 1 FORMAT JSONEachRow').format).toBe('JSONEachRow');
    expect(allowed('SELECT 1 FORMAT `CSV`;').format).toBe('CSV');
    expect(allowed('SELECT 1 FORMAT JSON SETTINGS extremes = 1').format).toBe('JSON');
    expect(allowed('SELECT format FROM t').format).toBeNull();
  });
});

describe('the statement that runs', () => {
  it("ends with one SETTINGS clause: ClickHouse's defaults, the URL's, the query's, then the limits nothing can override", () => {
    expect(run('SELECT 1')).toBe(`SELECT 1\nSETTINGS output_format_json_quote_64bit_integers = '1', ${ENFORCED}`);
  });

  it("moves the query's top-level clause to the end, after its FORMAT, and drops a trailing semicolon and comment", () => {
    expect(run('SELECT 1 SETTINGS output_format_json_quote_64bit_integers = 0 FORMAT JSON; -- bye')).toBe(`SELECT 1   FORMAT JSON\nSETTINGS output_format_json_quote_64bit_integers = 0, ${ENFORCED}`);
  });

  it("lets the query's own setting win over the URL's, and the limits win over both", () => {
    const sql = 'SELECT 1 SETTINGS date_time_output_format = iso, readonly = 1';
    expect(run(sql, [['date_time_output_format', 'simple']])).toBe(`SELECT 1  \nSETTINGS output_format_json_quote_64bit_integers = '1', date_time_output_format = iso, ${ENFORCED}`);
  });

  it("leaves a subquery's own clause where it is", () => {
    expect(run('SELECT * FROM (SELECT 1 SETTINGS join_use_nulls = 1)')).toBe(
      `SELECT * FROM (SELECT 1 SETTINGS join_use_nulls = 1)\nSETTINGS output_format_json_quote_64bit_integers = '1', ${ENFORCED}`,
    );
  });

  it('writes each setting name once, so a clause with readonly=1 is not refused for a repeated name', () => {
    const statement = run('SELECT 1 SETTINGS OUTPUT_FORMAT_JSON_QUOTE_64BIT_INTEGERS = 0', [['output_format_json_quote_64bit_integers', '1']]);
    expect(statement.match(/output_format_json_quote_64bit_integers/gi)).toHaveLength(1);
    expect(statement).toContain('OUTPUT_FORMAT_JSON_QUOTE_64BIT_INTEGERS = 0');
  });
});

describe('settings in the URL', () => {
  it('applies the allowed ones in order, and drops the ones the HTTP layer handles', () => {
    expect(urlSettingsToApply({ enable_http_compression: '1', output_format_json_quote_64bit_integers: '0', wait_end_of_query: '1', readonly: '1', log_comment: "it's me" }, LIMITS)).toEqual([
      ['output_format_json_quote_64bit_integers', '0'],
      ['log_comment', "it's me"],
    ]);
  });

  it.each([
    [{ max_threads: '64' }, 'max_threads'],
    [{ readonly: '0' }, 'readonly'],
    [{ max_execution_time: '3600' }, 'max_execution_time'],
    [{ 'x = 1, readonly': '0' }, 'x = 1, readonly'],
    [{ log_comment: 'ok', allow_ddl: '1' }, 'allow_ddl'],
  ])('refuses %j', (settings, name) => {
    expect(urlSettingsToApply(settings, LIMITS)).toEqual({ code: 164, name: 'READONLY', message: `Cannot modify '${name}' setting in readonly mode` });
  });
});

describe('setting verdicts', () => {
  it.each<[string, string, 'apply' | 'ignore' | 'refuse']>([
    ['output_format_csv_crlf_end_of_line', '1', 'apply'],
    ['format_csv_delimiter', ';', 'apply'],
    ['session_timezone', 'Europe/Paris', 'apply'],
    ['Join_Use_Nulls', '1', 'apply'],
    ['enable_http_compression', '1', 'ignore'],
    ['readonly', '1', 'ignore'],
    ['readonly', " '1' ", 'ignore'],
    ['max_result_rows', '100000', 'ignore'],
    ['readonly', '2', 'refuse'],
    ['max_result_rows', '99999', 'refuse'],
    ['output_format_schema', 'x.proto', 'refuse'],
    ['max_threads', '1', 'refuse'],
    ['allow_experimental_anything', '1', 'refuse'],
  ])('%s = %j: %s', (name, value, verdict) => expect(settingVerdict(name, value, LIMITS)).toBe(verdict));

  it('enforces readonly and the configured limits, readonly first', () => {
    expect(enforcedSettings(LIMITS)[0]).toEqual(['readonly', '1']);
    expect(Object.fromEntries(enforcedSettings(LIMITS))).toMatchObject({ max_execution_time: '30', max_result_rows: '100000', max_result_bytes: '50000000', max_memory_usage: '1000000000' });
  });

  it('quotes every value as one string literal, whatever it holds', () => {
    const body = settingsClauseBody([
      ['log_comment', "x', readonly = '0"],
      ['format_csv_delimiter', '\\'],
    ]);
    expect(body).toBe("log_comment = 'x\\', readonly = \\'0', format_csv_delimiter = '\\\\'");
    expect(
      tokenize(body)
        .filter((t) => t.type !== 'Whitespace')
        .map((t) => t.type),
    ).toEqual(['BareWord', 'Equals', 'StringLiteral', 'Comma', 'BareWord', 'Equals', 'StringLiteral']);
  });
});

describe("the parser's view (EXPLAIN AST, as ClickHouse 26.7 prints it)", () => {
  const findings = (clauseCount = 0): TokenFindings => ({ statementEnd: 0, topLevelClauses: [], topLevelSettings: [], clauseCount, format: null });
  /** EXPLAIN AST of `SELECT * FROM <table expression>`. */
  const selectFrom = (...tableExpression: string[]) => [
    'SelectWithUnionQuery (children 1)',
    ' ExpressionList (children 1)',
    '  SelectQuery (children 2)',
    '   ExpressionList (children 1)',
    '    Asterisk',
    '   TablesInSelectQuery (children 1)',
    '    TablesInSelectQueryElement (children 1)',
    '     TableExpression (children 1)',
    ...tableExpression.map((line) => `      ${line}`),
  ];

  it('lets a read of a table, or of a table function that only computes, through', () => {
    expect(inspectAst(selectFrom('TableIdentifier audit_logs'), findings())).toBeNull();
    expect(inspectAst(selectFrom('Function numbers (children 1)', ' ExpressionList (children 1)', '  Literal UInt64_10'), findings())).toBeNull();
    expect(inspectAst(['ShowTables'], findings())).toBeNull();
    expect(inspectAst(['DescribeQuery (children 1)', ' TableExpression (children 1)', '  TableIdentifier audit_logs'], findings())).toBeNull();
  });

  it('refuses any other table function, by the allowlist', () => {
    const loop = selectFrom('Function loop (children 1)', ' ExpressionList (children 1)', '  Function numbers (children 1)', '   ExpressionList (children 1)', '    Literal UInt64_3');
    expect(inspectAst(loop, findings())).toEqual({
      code: 497,
      name: 'ACCESS_DENIED',
      message:
        'Not enough privileges: the table function loop() is not allowed on /clickhouse (allowed: numbers, numbers_mt, zeros, zeros_mt, generate_series, generateseries, generaterandom, values, view, merge, null, format)',
    });
  });

  it('refuses a function that reaches outside wherever it is, even inside an allowed view()', () => {
    const viaView = selectFrom(
      'Function view (children 1)',
      ' ExpressionList (children 1)',
      '  SelectWithUnionQuery (children 1)',
      '   ExpressionList (children 1)',
      '    SelectQuery (children 2)',
      '     ExpressionList (children 1)',
      '      Asterisk',
      '     TablesInSelectQuery (children 1)',
      '      TablesInSelectQueryElement (children 1)',
      '       TableExpression (children 1)',
      '        Function url (children 1)',
      '         ExpressionList (children 1)',
      "          Literal 'http://x/'",
    );
    expect(inspectAst(viaView, findings())).toMatchObject({ name: 'ACCESS_DENIED', message: expect.stringContaining('the table function url()') });
    const scalar = [
      'SelectWithUnionQuery (children 1)',
      ' ExpressionList (children 1)',
      '  SelectQuery (children 1)',
      '   ExpressionList (children 1)',
      '    Function length (children 1)',
      '     ExpressionList (children 1)',
      '      Function file (children 1)',
      '       ExpressionList (children 1)',
      "        Literal 'x'",
    ];
    expect(inspectAst(scalar, findings())).toMatchObject({ name: 'ACCESS_DENIED', message: expect.stringContaining('file()') });
  });

  it('refuses a statement that is not a read, and EXPLAIN of one', () => {
    expect(inspectAst(['InsertQuery   (children 2)', ' Identifier t', ' SelectWithUnionQuery (children 1)'], findings())).toMatchObject({ name: 'READONLY' });
    expect(inspectAst(['DropQuery  t (children 1)', ' Identifier t'], findings())).toMatchObject({ name: 'READONLY' });
    expect(inspectAst(['Explain EXPLAIN (children 1)', ' InsertQuery   (children 2)', '  Identifier t'], findings())).toEqual({
      code: 164,
      name: 'READONLY',
      message: 'Cannot execute query in readonly mode: EXPLAIN is allowed for a SELECT only',
    });
    expect(inspectAst(['Explain EXPLAIN (children 1)', ' SelectWithUnionQuery (children 1)'], findings())).toBeNull();
  });

  it('refuses settings the parser found where the tokens saw none', () => {
    const withSet = ['SelectWithUnionQuery (children 1)', ' ExpressionList (children 1)', '  SelectQuery (children 2)', '   ExpressionList (children 1)', '    Literal UInt64_1', '   Set'];
    expect(inspectAst(withSet, findings(1))).toBeNull();
    expect(inspectAst(withSet, findings(0))).toEqual({ code: 164, name: 'READONLY', message: 'Cannot execute query in readonly mode: cannot verify every SETTINGS clause of this query' });
  });
});

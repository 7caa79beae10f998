import type { AnalystLimits } from '../../src/config/env';
import { changeableSettingCondition, injectedSettingNames, settingVerdict } from '../../src/domain/analyst-settings';
import { executableSql, inspectTokens, type TokenFindings } from '../../src/features/analyst/analyst-query-policy';
import { settingsTableView, withoutInjectedSettings } from '../../src/features/analyst/analyst-settings-view';
import { tokenize } from './support/clickhouse-lexer';

/**
 * What clients learn from /clickhouse about themselves: system.settings says
 * which settings this analyst may change (clickhouse-connect sends only
 * those), and an error's echo of the query shows the analyst's query, not
 * the limits and filters auditflow appended to it.
 */

const LIMITS: AnalystLimits = { maxExecutionTimeSeconds: 30, maxResultRows: 100_000, maxResultBytes: 50_000_000, maxMemoryUsage: 1_000_000_000 };

function allowed(sql: string): TokenFindings {
  const result = inspectTokens(Buffer.from(sql), tokenize(sql), LIMITS);
  if ('code' in result) throw new Error(`refused ${JSON.stringify(sql)}: ${result.message}`);
  return result;
}
/** The statement that runs, without the SETTINGS clause appended at its end. */
const body = (sql: string, restricted = false) => executableSql(Buffer.from(sql), allowed(sql), [], LIMITS, restricted ? "{'a.t': 'source_app IN (\\'a\\')'}" : null).split('\nSETTINGS ')[0];
const VIEW = `(${settingsTableView(LIMITS)})`;

describe('reads of system.settings', () => {
  it('read a view whose readonly column says what this analyst may change, under the name settings', () => {
    expect(body("SELECT name, value, readonly FROM system.settings WHERE name = 'extremes'")).toBe(`SELECT name, value, readonly FROM ${VIEW} AS settings WHERE name = 'extremes'`);
    expect(body('SELECT settings.name FROM system.settings LIMIT 1')).toBe(`SELECT settings.name FROM ${VIEW} AS settings LIMIT 1`);
  });

  it('keep an alias the query gives, and are found after JOIN, quoted, and in subqueries', () => {
    expect(body('SELECT s.name FROM system.settings AS s')).toBe(`SELECT s.name FROM ${VIEW} AS s`);
    expect(body('SELECT s.name FROM system.settings s')).toBe(`SELECT s.name FROM ${VIEW} s`);
    expect(body('SELECT count() FROM system.settings AS a JOIN `system`.`settings` AS b USING (name)')).toBe(`SELECT count() FROM ${VIEW} AS a JOIN ${VIEW} AS b USING (name)`);
    expect(body('SELECT * FROM (SELECT name FROM system.settings WHERE changed)')).toBe(`SELECT * FROM (SELECT name FROM ${VIEW} AS settings WHERE changed)`);
  });

  it('leave every other mention alone: other tables, columns, strings', () => {
    for (const sql of ["SELECT 'system.settings'", 'SELECT * FROM system.functions', 'SELECT system.settings FROM t', 'DESCRIBE TABLE system.settings']) expect(body(sql)).toBe(sql);
  });

  it('use the filtered view of a restricted key, where the settings it may not change are readonly too', () => {
    expect(body('SELECT name FROM system.settings', true)).toBe(`SELECT name FROM (${settingsTableView(LIMITS, true)}) AS settings`);
    expect(changeableSettingCondition(LIMITS, true)).toContain("'output_format_write_statistics'");
    expect(changeableSettingCondition(LIMITS, false)).not.toContain("'output_format_write_statistics'");
  });

  it('say changeable exactly for the settings /clickhouse applies or accepts', () => {
    const condition = changeableSettingCondition(LIMITS);
    // The condition is SQL; checked here by its parts, and against ClickHouse in test/api/analyst-clients.test.ts.
    for (const name of ['date_time_input_format', 'enable_http_compression', 'send_progress_in_http_headers', 'http_headers_progress_interval_ms', 'log_comment']) {
      expect([name, settingVerdict(name, '1', LIMITS) !== 'refuse', condition.includes(`'${name}'`)]).toEqual([name, true, true]);
    }
    expect(condition).toContain("startsWith(name, 'output_format_')");
    for (const name of ['readonly', 'max_result_rows', 'max_execution_time', 'output_format_schema']) expect(condition).toMatch(new RegExp(`NOT IN \\(.*'${name}'`));
    expect(settingsTableView(LIMITS)).toContain("transform(name, ['readonly', 'max_execution_time', 'timeout_overflow_mode', 'max_result_rows'");
  });
});

describe('exception texts', () => {
  const appended =
    "output_format_json_quote_64bit_integers = '1', readonly = '1', max_execution_time = '30', timeout_overflow_mode = 'throw', max_result_rows = '100000', max_result_bytes = '67108864', result_overflow_mode = 'throw', max_memory_usage = '1073741824'";

  it("drop the SETTINGS auditflow appended from ClickHouse's echo of the query", () => {
    expect(withoutInjectedSettings(`Unknown expression identifier \`x\` in scope SELECT x FROM audit_logs SETTINGS ${appended}`)).toBe(
      'Unknown expression identifier `x` in scope SELECT x FROM audit_logs',
    );
    expect(withoutInjectedSettings(`Unknown table expression identifier 'nope' in scope SELECT * FROM nope SETTINGS ${appended}. Maybe you meant: ['note']`)).toBe(
      "Unknown table expression identifier 'nope' in scope SELECT * FROM nope. Maybe you meant: ['note']",
    );
  });

  it("keep the settings the analyst wrote, and the URL's", () => {
    const message = `in scope SELECT x FROM t SETTINGS output_format_json_quote_64bit_integers = 0, date_time_output_format = 'iso', extremes = 1, ${appended.replace("output_format_json_quote_64bit_integers = '1', ", '')}`;
    expect(withoutInjectedSettings(message, ['output_format_json_quote_64bit_integers', 'extremes'])).toBe(
      "in scope SELECT x FROM t SETTINGS output_format_json_quote_64bit_integers = 0, date_time_output_format = 'iso', extremes = 1",
    );
  });

  it("drop a restricted key's filters, whatever their quoting, and the settings view's text", () => {
    const filters = "additional_table_filters = {'auditflow.audit_logs': 'source_app IN (\\'a, b\\')', 'system.parts': 'throwIf(1, \\'x\\')'}";
    expect(withoutInjectedSettings(`in scope SELECT x FROM t SETTINGS ${appended}, optimize_move_to_prewhere = '0', ${filters}. (x)`)).toBe('in scope SELECT x FROM t. (x)');
    const view = `(SELECT * REPLACE (transform(name, ['readonly'], ['1'], value) AS value, toUInt8(NOT ((name IN ('extremes')) AND (name NOT IN ('readonly')))) AS readonly) FROM system.settings) AS settings`;
    expect(withoutInjectedSettings(`Unknown expression identifier \`nope\` in scope SELECT nope FROM ${view} SETTINGS ${appended}`)).toBe(
      'Unknown expression identifier `nope` in scope SELECT nope FROM system.settings',
    );
  });

  it('leave texts without an appended clause as they are', () => {
    for (const message of ['Syntax error: failed at position 11 (end of query)', "Cannot modify 'max_threads' setting in readonly mode", 'SETTINGS are fine here: extremes = 1']) {
      expect(withoutInjectedSettings(message)).toBe(message);
    }
    expect(injectedSettingNames()).toEqual(expect.arrayContaining(['readonly', 'max_result_rows', 'additional_table_filters', 'output_format_json_quote_64bit_integers']));
  });
});

import type { AnalystLimits } from '../config/env';

/**
 * ClickHouse's defaults for settings that auditflow's own code changes on the
 * chDB session it shares with analysts (the reader asks for unquoted 64-bit
 * integers), so analysts see what a ClickHouse server would show. They come
 * first in the query's clause: an analyst may still choose otherwise.
 */
export const ANALYST_DEFAULTS: [string, string][] = [['output_format_json_quote_64bit_integers', '1']];

/**
 * What a key restricted to apps also runs under (src/features/analyst/analyst-app-restriction.ts adds the
 * filters themselves). Each one keeps the query's own expressions away from rows the filters drop:
 * - PREWHERE runs before additional_table_filters, so a condition moved there (a JOIN's ON, a WHERE)
 *   would see every app's rows: `throwIf(source_app = 'b')` answered with an error (measured on chDB 26.7);
 * - short-circuit evaluation for every function, so a condition merged with the filter
 *   (`filter AND analyst's`) is evaluated only on the rows the filter keeps;
 * - no statistics in JSON and XML results: rows_read counts the rows read before filtering.
 */
export const RESTRICTED_SETTINGS: [string, string][] = [
  ['optimize_move_to_prewhere', '0'],
  ['optimize_move_to_prewhere_if_final', '0'],
  ['short_circuit_function_evaluation', 'force_enable'],
  ['output_format_write_statistics', '0'],
];

/** The settings auditflow puts on every analyst query, last, so nothing the analyst sends can override them. */
export function enforcedSettings(limits: AnalystLimits, restricted = false): [string, string][] {
  return [
    // readonly=1 also refuses file(), url() and the like: ClickHouse's own second line behind the policy.
    ['readonly', '1'],
    ['max_execution_time', String(limits.maxExecutionTimeSeconds)],
    ['timeout_overflow_mode', 'throw'],
    ['max_result_rows', String(limits.maxResultRows)],
    ['max_result_bytes', String(limits.maxResultBytes)],
    ['result_overflow_mode', 'throw'],
    ['max_memory_usage', String(limits.maxMemoryUsage)],
    ...(restricted ? RESTRICTED_SETTINGS : []),
  ];
}

/**
 * Settings an analyst may change: how results are written, plus a few that
 * change what a query means without reaching further. An allowlist, because
 * ClickHouse has hundreds of settings and new releases add more; anything
 * absent is refused as a readonly user's change would be.
 */
const ALLOWED_PREFIXES = ['output_format_', 'format_csv_', 'format_tsv_', 'format_custom_'];
const ALLOWED_NAMES = new Set([
  'date_time_output_format',
  'date_time_input_format',
  'session_timezone',
  'extremes',
  'join_use_nulls',
  'union_default_mode',
  'aggregate_functions_null_for_empty',
  'log_comment',
]);
/** Inside the allowed prefixes, but they name files to write or read. */
const FILE_SETTINGS = new Set(['output_format_schema']);

/**
 * HTTP-layer settings: they tune how ClickHouse's HTTP server answers, which
 * /clickhouse does itself (it always answers after the query ends, and
 * compresses when enable_http_compression=1). Accepted and not passed on.
 */
const HTTP_SETTINGS = new Set([
  'enable_http_compression',
  'http_zlib_compression_level',
  'http_native_compression_disable_checksumming_on_decompress',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'wait_end_of_query',
  'http_wait_end_of_query',
  'buffer_size',
  'http_response_buffer_size',
  'cancel_http_readonly_queries_on_client_close',
  'add_http_cors_header',
  'http_write_exception_in_output_format',
]);

export type SettingVerdict = 'apply' | 'ignore' | 'refuse';

/** What /clickhouse does with a setting an analyst sends, in the URL or in a SETTINGS clause; `restricted` for a key restricted to apps. */
export function settingVerdict(name: string, value: string, limits: AnalystLimits, restricted = false): SettingVerdict {
  const lower = name.toLowerCase();
  // Asking for what is enforced anyway (some clients send readonly=1) changes nothing.
  const enforced = enforcedSettings(limits, restricted).find(([n]) => n === lower);
  if (enforced) return enforced[1] === value.trim().replace(/^'(.*)'$/, '$1') ? 'ignore' : 'refuse';
  if (HTTP_SETTINGS.has(lower)) return 'ignore';
  if (FILE_SETTINGS.has(lower)) return 'refuse';
  if (ALLOWED_NAMES.has(lower) || ALLOWED_PREFIXES.some((p) => lower.startsWith(p))) return 'apply';
  return 'refuse';
}

/**
 * A condition on system.settings' `name` column, true for the settings an
 * analyst may change on /clickhouse (those {@link settingVerdict} applies or
 * accepts). Clients read that table's `readonly` column to learn what they
 * may send (clickhouse-connect refuses to send a setting it says is
 * readonly), and under readonly=1 ClickHouse says 1 for every setting: the
 * runner shows them this instead.
 */
export function changeableSettingCondition(limits: AnalystLimits, restricted = false): string {
  const names = [...ALLOWED_NAMES, ...HTTP_SETTINGS].sort();
  const never = [...FILE_SETTINGS, ...enforcedSettings(limits, restricted).map(([name]) => name)].sort();
  const allowed = [`name IN (${names.map(sqlStringLiteral).join(', ')})`, ...ALLOWED_PREFIXES.map((prefix) => `startsWith(name, ${sqlStringLiteral(prefix)})`)];
  return `(${allowed.join(' OR ')}) AND name NOT IN (${never.map(sqlStringLiteral).join(', ')})`;
}

/** The names of the settings auditflow itself puts in an analyst query's SETTINGS clause (defaults and enforced ones, for any key). */
export function injectedSettingNames(): string[] {
  const anyLimits: AnalystLimits = { maxExecutionTimeSeconds: 0, maxResultRows: 0, maxResultBytes: 0, maxMemoryUsage: 0 };
  return [...ANALYST_DEFAULTS.map(([name]) => name), ...enforcedSettings(anyLimits, true).map(([name]) => name), 'additional_table_filters'];
}

/** A ClickHouse string literal. */
export function sqlStringLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** `name = 'value', …` for a SETTINGS clause; values as string literals, which ClickHouse converts to each setting's type. */
export function settingsClauseBody(settings: [string, string][]): string {
  return settings.map(([name, value]) => `${name} = ${sqlStringLiteral(value)}`).join(', ');
}

import type { AnalystLimits } from '../../config/env';
import { ANALYST_DEFAULTS, enforcedSettings, settingsClauseBody, settingVerdict } from '../../domain/analyst-settings';
import { clickHouseException, type ClickHouseException } from '../../lib/clickhouse-exception';
import { PLAIN_IDENTIFIER } from '../../lib/clickhouse-identifier';
import { settingsTableView } from './analyst-settings-view';

/**
 * What an analyst may run on /clickhouse, judged on ClickHouse's own reading
 * of the query rather than on regexes over its text: the lexer's tokens
 * (tokenizeQuery, so comments, string literals, case and quoting are already
 * resolved) and the parser's AST (EXPLAIN AST). Pure: the runner asks
 * ClickHouse for both and executes what {@link executableSql} returns.
 */

/** One token of ClickHouse's lexer: byte offsets into the UTF-8 query, and its type (BareWord, Comma…). */
export interface SqlToken {
  start: number;
  end: number;
  type: string;
}

/** A SETTINGS clause's `name = value`, the value as written. */
interface Assignment {
  name: string;
  value: string;
}

/** What the tokens say, for the AST check and for building the SQL to run. */
export interface TokenFindings {
  /** Byte offset where the statement's last token ends (a trailing `;` and comments are dropped). */
  statementEnd: number;
  /** Byte spans of the top-level SETTINGS clauses, which move into the one auditflow appends. */
  topLevelClauses: { start: number; end: number }[];
  /** Their settings, in order: the analyst's share of the appended clause. */
  topLevelSettings: [string, string][];
  /** SETTINGS clauses at every depth: the AST may hold no more `Set` nodes than this. */
  clauseCount: number;
  /** The FORMAT the query names, if any. */
  format: string | null;
  /** Byte spans of `system.settings` read as a table (after FROM or JOIN), and whether an alias follows: each reads {@link settingsTableView} instead. */
  settingsTableReads?: { start: number; end: number; aliased: boolean }[];
}

/** Table functions that only compute or read auditflow's own tables. Everything else (file, url, s3, remote…) reaches outside. */
const TABLE_FUNCTIONS = new Set(['numbers', 'numbers_mt', 'zeros', 'zeros_mt', 'generate_series', 'generateseries', 'generaterandom', 'values', 'view', 'merge', 'null', 'format']);

/** Allowed table functions whose reads ClickHouse does not filter with additional_table_filters (merge() read every app's rows, measured on chDB 26.7). */
const ROUND_THE_FILTERS_TABLE_FUNCTIONS = new Set(['merge']);

/** Virtual columns that number rows within a part: on a filtered read they still count the rows of other apps between one's own. */
const POSITION_COLUMNS = new Set(['_part_offset', '_part_starting_offset', '_part_granule_offset', '_block_number', '_block_offset', '_part_index']);

/** Functions that read files, fetch URLs or reach other servers, called anywhere (file() is also a scalar function). */
const EXTERNAL_FUNCTIONS = new Set([
  'file',
  'filecluster',
  'url',
  'urlcluster',
  's3',
  's3cluster',
  'gcs',
  'hdfs',
  'hdfscluster',
  'azureblobstorage',
  'azureblobstoragecluster',
  'remote',
  'remotesecure',
  'cluster',
  'clusterallreplicas',
  'mysql',
  'postgresql',
  'jdbc',
  'odbc',
  'mongodb',
  'redis',
  'sqlite',
  'input',
  'executable',
  'executablepool',
  'dictionary',
  'python',
  'arrowflight',
  'ytsaurus',
  'iceberg',
  'icebergs3',
  'icebergazure',
  'iceberghdfs',
  'iceberglocal',
  'icebergcluster',
  'deltalake',
  'deltalakes3',
  'deltalakeazure',
  'deltalakecluster',
  'hudi',
  'hudicluster',
  'catboostevaluate',
  'modelevaluate',
]);

/** Statements that only read, by the first word of ClickHouse's AST dump. */
const READ_KINDS = /^(SelectWithUnionQuery|SelectIntersectExceptQuery|Show(Tables|Columns|Indexes|Functions|EngineQuery|ProcesslistQuery|Create\w*Query)|DescribeQuery|Exists\w*Query|Explain)$/;
const SELECT_KINDS = /^(SelectWithUnionQuery|SelectIntersectExceptQuery)$/;
/** First words of those statements, checked before ClickHouse is asked for the AST. */
const READ_FIRST_WORDS = new Set(['select', 'with', 'show', 'describe', 'desc', 'exists', 'explain']);
const EXPLAIN_KINDS = new Set(['ast', 'syntax', 'plan', 'pipeline', 'estimate']);
/** Words that may follow a table in FROM or JOIN and are not its alias. */
const NOT_ALIASES = new Set([
  'where',
  'prewhere',
  'group',
  'order',
  'limit',
  'offset',
  'format',
  'settings',
  'join',
  'inner',
  'left',
  'right',
  'full',
  'cross',
  'outer',
  'any',
  'all',
  'asof',
  'semi',
  'anti',
  'array',
  'global',
  'paste',
  'natural',
  'on',
  'using',
  'union',
  'except',
  'intersect',
  'having',
  'window',
  'qualify',
  'final',
  'sample',
  'into',
  'with',
]);
/** What may follow a SETTINGS clause (ClickHouse's grammar), so a value we cannot read is not mistaken for its end. */
const AFTER_SETTINGS = new Set(['format', 'settings', 'union', 'except', 'intersect', 'into', 'parallel']);

const READ_ONLY_KINDS_TEXT = '/clickhouse runs SELECT, SHOW, DESCRIBE, EXISTS and EXPLAIN queries only';

interface Significant extends SqlToken {
  text: string;
  /** Bracket depth; a closing bracket has its opening's depth. */
  depth: number;
}

const isOpening = (t: SqlToken) => /^Opening/.test(t.type);
const isClosing = (t: SqlToken) => /^Closing/.test(t.type);
const isName = (t: SqlToken | undefined) => t?.type === 'BareWord' || t?.type === 'QuotedIdentifier';
const word = (t: Significant | undefined) => (t?.type === 'BareWord' ? t.text.toLowerCase() : '');

/** `file`, `` `file` `` and `"file"` name the same function. */
function unquote(t: Significant): string {
  return t.type === 'QuotedIdentifier' ? t.text.slice(1, -1).replace(/``|""/g, (q) => q[0]!) : t.text;
}

function readonlyRefusal(detail: string): ClickHouseException {
  return clickHouseException('READONLY', `Cannot execute query in readonly mode: ${detail}`);
}

/** A refusal that only a key restricted to apps gets: what it asked for would read around the app filter. */
function restrictedRefusal(detail: string): ClickHouseException {
  return clickHouseException('ACCESS_DENIED', `Not enough privileges: this API key is restricted to apps: ${detail}`);
}

function settingRefusal(name: string): ClickHouseException {
  return clickHouseException('READONLY', `Cannot modify '${name}' setting in readonly mode`);
}

/** Tokens that carry meaning, with their depth; null when the lexer did not account for every byte. */
function significantTokens(query: Buffer, tokens: SqlToken[]): Significant[] | null {
  let at = 0;
  let depth = 0;
  const out: Significant[] = [];
  for (const token of tokens) {
    if (token.start !== at || token.end <= token.start || /^Error/.test(token.type)) return null;
    at = token.end;
    if (token.type === 'Whitespace' || token.type === 'Comment') continue;
    if (isClosing(token)) depth--;
    out.push({ ...token, text: query.subarray(token.start, token.end).toString('utf8'), depth });
    if (isOpening(token)) depth++;
  }
  return at === query.length ? out : null;
}

/** Index just past the bracket group opening at `i`, or -1. */
function pastGroup(sig: Significant[], i: number): number {
  for (let m = i + 1; m < sig.length; m++) if (isClosing(sig[m]!) && sig[m]!.depth === sig[i]!.depth) return m + 1;
  return -1;
}

/** Index just past a setting's value starting at `i` (a literal, a {parameter}, an identifier, a call or a bracketed literal), or -1. */
function pastValue(sig: Significant[], i: number): number {
  let k = i;
  if (sig[k]?.type === 'Minus' || sig[k]?.type === 'Plus') k++;
  const t = sig[k];
  if (!t) return -1;
  if (isOpening(t)) return pastGroup(sig, k);
  if (t.type === 'Number' || t.type === 'StringLiteral' || t.type === 'HereDoc') return k + 1;
  if (!isName(t)) return -1;
  k++;
  while (sig[k]?.type === 'Dot' && isName(sig[k + 1])) k += 2;
  return sig[k]?.type === 'OpeningRoundBracket' ? pastGroup(sig, k) : k;
}

/** The assignments of the SETTINGS clause whose keyword is at `i`, and the index past it; null if `i` is not one; an exception if it cannot be read. */
function readSettingsClause(query: Buffer, sig: Significant[], i: number): { assignments: Assignment[]; next: number } | null | ClickHouseException {
  if (!isName(sig[i + 1]) || sig[i + 2]?.type !== 'Equals') return null;
  const assignments: Assignment[] = [];
  let j = i + 1;
  for (;;) {
    const name = sig[j];
    if (!name || !isName(name) || sig[j + 1]?.type !== 'Equals') return readonlyRefusal(`cannot read the SETTINGS clause at byte ${sig[i]!.start}`);
    const end = pastValue(sig, j + 2);
    if (end < 0) return readonlyRefusal(`cannot read the value of setting '${unquote(name)}'; write it as a literal`);
    const last = sig[end - 1]!;
    assignments.push({ name: unquote(name), value: query.subarray(sig[j + 2]!.start, last.end).toString('utf8') });
    const after = sig[end];
    if (after?.type === 'Comma') {
      j = end + 1;
      continue;
    }
    // Anything else after a value means we misread it: refuse rather than skip a setting.
    if (after && !(after.type === 'Semicolon' || (isClosing(after) && after.depth < sig[i]!.depth) || AFTER_SETTINGS.has(word(after)))) {
      return readonlyRefusal(`cannot read the value of setting '${unquote(name)}'; write it as a literal`);
    }
    return { assignments, next: end };
  }
}

/**
 * Checks what the lexer's tokens can tell: one statement, a read, no
 * INTO OUTFILE, no function that reaches outside, and only allowed settings
 * in every SETTINGS clause, however deep (ClickHouse does not hold a
 * subquery's SETTINGS to an outer readonly=1, so this check is the one that
 * counts there).
 */
export function inspectTokens(query: Buffer, tokens: SqlToken[], limits: AnalystLimits, restricted = false): TokenFindings | ClickHouseException {
  const all = significantTokens(query, tokens);
  if (!all) return clickHouseException('SYNTAX_ERROR', 'Cannot read the query');
  const semicolon = all.findIndex((t) => t.type === 'Semicolon' && t.depth === 0);
  const sig = semicolon === -1 ? all : all.slice(0, semicolon);
  if (semicolon !== -1 && all.length > semicolon + 1) return clickHouseException('SYNTAX_ERROR', 'Syntax error (Multi-statements are not allowed)');
  if (sig.length === 0) return clickHouseException('SYNTAX_ERROR', 'Empty query');

  const first = word(sig[0]);
  if (!READ_FIRST_WORDS.has(first) && sig[0]!.type !== 'OpeningRoundBracket') return readonlyRefusal(READ_ONLY_KINDS_TEXT);
  if (first === 'explain') {
    // EXPLAIN [AST|SYNTAX|PLAN|PIPELINE|ESTIMATE|QUERY TREE] SELECT…, without options.
    let k = 1;
    if (EXPLAIN_KINDS.has(word(sig[k]))) k++;
    else if (word(sig[k]) === 'query' && word(sig[k + 1]) === 'tree') k += 2;
    if (!['select', 'with'].includes(word(sig[k])) && sig[k]?.type !== 'OpeningRoundBracket') return readonlyRefusal('EXPLAIN is allowed for a SELECT, without options');
    // A plan counts parts and granules, an estimate rows: of every app, before the filters.
    if (restricted && !['ast', 'syntax', 'query'].includes(word(sig[1])))
      return restrictedRefusal('EXPLAIN PLAN, PIPELINE and ESTIMATE count the rows and parts of every app; EXPLAIN AST, SYNTAX and QUERY TREE are allowed');
  }

  const findings: TokenFindings = { statementEnd: sig[sig.length - 1]!.end, topLevelClauses: [], topLevelSettings: [], clauseCount: 0, format: null };
  for (let i = 0; i < sig.length; i++) {
    const t = sig[i]!;
    if (word(t) === 'outfile') return clickHouseException('INTO_OUTFILE_NOT_ALLOWED', 'INTO OUTFILE is not allowed: /clickhouse returns results in the response');
    // PREWHERE runs before additional_table_filters: its conditions see every app's rows.
    if (restricted && word(t) === 'prewhere') return restrictedRefusal('PREWHERE is evaluated before the app filter; write the condition in WHERE');
    if (isName(t) && sig[i + 1]?.type === 'OpeningRoundBracket' && EXTERNAL_FUNCTIONS.has(unquote(t).toLowerCase())) {
      return clickHouseException('ACCESS_DENIED', `Not enough privileges: ${unquote(t)}() reaches files, URLs or other servers, which /clickhouse does not allow`);
    }
    if (word(t) === 'format' && t.depth === 0 && isName(sig[i + 1]) && (!sig[i + 2] || word(sig[i + 2]) === 'settings')) findings.format = unquote(sig[i + 1]!);
    // `FROM system.settings`: read through a view that says which settings this analyst may change.
    if (isName(t) && unquote(t) === 'system' && sig[i + 1]?.type === 'Dot' && isName(sig[i + 2]) && unquote(sig[i + 2]!) === 'settings' && ['from', 'join'].includes(word(sig[i - 1]))) {
      const next = sig[i + 3];
      const aliased = word(next) === 'as' || (isName(next) && !NOT_ALIASES.has(word(next)));
      findings.settingsTableReads = [...(findings.settingsTableReads ?? []), { start: t.start, end: sig[i + 2]!.end, aliased }];
    }
    if (word(t) !== 'settings') continue;
    const clause = readSettingsClause(query, sig, i);
    if (clause === null) continue;
    if ('code' in clause) return clause;
    findings.clauseCount++;
    for (const a of clause.assignments) {
      const verdict = settingVerdict(a.name, a.value, limits, restricted);
      if (verdict === 'refuse') return settingRefusal(a.name);
      if (t.depth === 0 && verdict === 'apply') findings.topLevelSettings.push([a.name, a.value]);
    }
    if (t.depth === 0) findings.topLevelClauses.push({ start: t.start, end: sig[clause.next - 1]!.end });
  }
  return findings;
}

/** One line of EXPLAIN AST: its depth (indentation) and its words (`Function file (children 1)`). */
function astNodes(lines: string[]): { depth: number; words: string[] }[] {
  return lines.filter((l) => l.trim()).map((line) => ({ depth: line.length - line.trimStart().length, words: line.trim().split(/\s+/) }));
}

/**
 * Checks the parser's view (EXPLAIN AST of the canonical query): the
 * statement reads, every table function only computes or reads auditflow's
 * tables, no function reaches outside, and no settings hide where the
 * tokens did not see them.
 */
export function inspectAst(lines: string[], findings: TokenFindings, restricted = false): ClickHouseException | null {
  const nodes = astNodes(lines);
  const kind = nodes[0]?.words[0] ?? '';
  if (!READ_KINDS.test(kind)) return readonlyRefusal(READ_ONLY_KINDS_TEXT);
  if (kind === 'Explain' && !SELECT_KINDS.test(nodes[1]?.words[0] ?? '')) return readonlyRefusal('EXPLAIN is allowed for a SELECT only');
  const parents: string[] = [];
  let sets = 0;
  for (const node of nodes) {
    parents.length = node.depth;
    const parent = parents[node.depth - 1] ?? '';
    parents[node.depth] = node.words[0]!;
    if (node.words[0] === 'Set') sets++;
    if (restricted && node.words[0] === 'Identifier' && POSITION_COLUMNS.has((node.words[1] ?? '').split('.').pop()!.toLowerCase())) {
      return restrictedRefusal(`${node.words[1]} counts the rows of every app in a part`);
    }
    // additional_table_filters also matches a table by its alias, and the first entry that matches wins: aliased
    // "system.settings", system.tables was read under that table's filter. Every entry names `database.table`.
    if (restricted && parent === 'TableExpression' && ['TableIdentifier', 'Function'].includes(node.words[0]!)) {
      const alias = /\(alias (.*\..*?)\)/.exec(node.words.join(' '))?.[1];
      if (alias) return restrictedRefusal(`${node.words[1]} has the alias ${alias}: a table's alias may not contain a dot, as the app filters go by table names and aliases`);
    }
    if (node.words[0] !== 'Function') continue;
    const name = (node.words[1] ?? '').toLowerCase();
    if (EXTERNAL_FUNCTIONS.has(name) || (parent === 'TableExpression' && !TABLE_FUNCTIONS.has(name))) {
      return clickHouseException('ACCESS_DENIED', `Not enough privileges: the table function ${node.words[1]}() is not allowed on /clickhouse (allowed: ${[...TABLE_FUNCTIONS].join(', ')})`);
    }
    if (restricted && parent === 'TableExpression' && ROUND_THE_FILTERS_TABLE_FUNCTIONS.has(name)) {
      return restrictedRefusal(`${node.words[1]}() reads its tables without the app filter`);
    }
    if (restricted && /^(dict|joinget)/.test(name)) return restrictedRefusal(`${node.words[1]}() reads a dictionary or Join table without the app filter`);
  }
  if (sets > findings.clauseCount) return readonlyRefusal('cannot verify every SETTINGS clause of this query');
  return null;
}

/**
 * The statement as it runs: the analyst's text with its top-level SETTINGS
 * clauses moved into one clause at the end, which also carries the URL's
 * settings and, last so that nothing overrides them, auditflow's limits. The
 * end is where ClickHouse applies settings to the whole query (a clause
 * inside a UNION would bind only its own SELECT).
 */
export function executableSql(query: Buffer, findings: TokenFindings, urlSettings: [string, string][], limits: AnalystLimits, appFilters: string | null = null): string {
  const parts: string[] = [];
  let at = 0;
  const view = `(${settingsTableView(limits, appFilters !== null)})`;
  const replacements = [
    ...findings.topLevelClauses.map((span) => ({ ...span, text: ' ' })),
    ...(findings.settingsTableReads ?? []).map((span) => ({ ...span, text: span.aliased ? view : `${view} AS settings` })),
  ].sort((a, b) => a.start - b.start);
  for (const span of replacements) {
    parts.push(query.subarray(at, span.start).toString('utf8'), span.text);
    at = span.end;
  }
  parts.push(query.subarray(at, findings.statementEnd).toString('utf8'));
  // One entry per name, the last word winning: ClickHouse refuses a name repeated in a clause that sets readonly=1.
  const clause = new Map<string, string>();
  const put = (name: string, assignment: string) => {
    clause.delete(name.toLowerCase());
    clause.set(name.toLowerCase(), assignment);
  };
  for (const [name, value] of [...ANALYST_DEFAULTS, ...urlSettings]) put(name, settingsClauseBody([[name, value]]));
  for (const [name, value] of findings.topLevelSettings) put(name, `${name} = ${value}`);
  for (const [name, value] of enforcedSettings(limits, appFilters !== null)) put(name, settingsClauseBody([[name, value]]));
  // A map literal, after readonly=1: ClickHouse checks a clause against the settings before it, so this is the last change the query makes.
  if (appFilters !== null) put('additional_table_filters', `additional_table_filters = ${appFilters}`);
  return `${parts.join('')}\nSETTINGS ${[...clause.values()].join(', ')}`;
}

/** The URL's settings an analyst may change, in order; ignored ones (HTTP-layer) dropped; an exception for any other. */
export function urlSettingsToApply(settings: Record<string, string>, limits: AnalystLimits, restricted = false): [string, string][] | ClickHouseException {
  const apply: [string, string][] = [];
  for (const [name, value] of Object.entries(settings)) {
    if (!PLAIN_IDENTIFIER.test(name)) return clickHouseException('READONLY', `Cannot modify '${name}' setting in readonly mode`);
    const verdict = settingVerdict(name, value, limits, restricted);
    if (verdict === 'refuse') return settingRefusal(name);
    if (verdict === 'apply') apply.push([name, value]);
  }
  return apply;
}

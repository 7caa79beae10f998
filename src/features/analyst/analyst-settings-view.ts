import type { AnalystLimits } from '../../config/env';
import { changeableSettingCondition, enforcedSettings, injectedSettingNames, sqlStringLiteral } from '../../domain/analyst-settings';

/**
 * What a query that reads `system.settings` reads instead: the same rows and
 * columns, with `readonly` 0 for the settings this analyst may change and 1
 * for the others. ClickHouse would say 1 for every setting, since the query
 * runs with readonly=1; clients that check the column before sending a
 * setting (clickhouse-connect) then refuse to send even output settings.
 */
export function settingsTableView(limits: AnalystLimits, restricted = false): string {
  // A subquery runs without the result limits, so their values are restated; /clickhouse compresses only when asked.
  const values: [string, string][] = [...enforcedSettings(limits, restricted), ['enable_http_compression', '0']];
  const array = (items: string[]) => `[${items.map(sqlStringLiteral).join(', ')}]`;
  const value = `transform(name, ${array(values.map(([n]) => n))}, ${array(values.map(([, v]) => v))}, value)`;
  return `SELECT * REPLACE (${value} AS value, toUInt8(NOT (${changeableSettingCondition(limits, restricted)})) AS readonly) FROM system.settings`;
}

/**
 * An exception's text without what auditflow added to the query: ClickHouse
 * quotes the query in some messages (`… in scope SELECT x FROM t SETTINGS
 * readonly = '1', max_execution_time = '30', …`), and those settings, the
 * app filters among them, are not the analyst's. The assignments the
 * analyst wrote (`analystSettings`) stay; a clause left empty goes, and the
 * settings view reads as `system.settings` again.
 */
export function withoutInjectedSettings(message: string, analystSettings: readonly string[] = []): string {
  const keep = new Set(analystSettings.map((name) => name.toLowerCase()));
  const injected = new Set(injectedSettingNames().filter((name) => !keep.has(name)));
  let out = '';
  let at = 0;
  const keyword = /\s*\bSETTINGS\s+/g;
  for (let m = keyword.exec(message); m; m = keyword.exec(message)) {
    const list = readAssignmentList(message, m.index + m[0].length);
    if (!list?.assignments.some((a) => injected.has(a.name.toLowerCase()))) continue;
    const kept = list.assignments.filter((a) => !injected.has(a.name.toLowerCase()));
    out += message.slice(at, m.index) + (kept.length ? ` SETTINGS ${kept.map((a) => a.text).join(', ')}` : '');
    at = list.end;
    keyword.lastIndex = list.end;
  }
  return (out + message.slice(at)).replace(/\(SELECT \* REPLACE \(.*? AS value, .*? AS readonly\) FROM system\.settings\)( AS settings)?/g, 'system.settings');
}

/** `name = value, …` at `from` in a message, values as ClickHouse prints them (literals, maps, tuples); null when there is none. */
function readAssignmentList(text: string, from: number): { assignments: { name: string; text: string }[]; end: number } | null {
  const assignments: { name: string; text: string }[] = [];
  let at = from;
  for (;;) {
    const head = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*/.exec(text.slice(at));
    if (!head) break;
    const end = pastPrintedValue(text, at + head[0].length);
    if (end < 0) break;
    assignments.push({ name: head[1]!, text: text.slice(at, end) });
    at = end;
    const comma = /^\s*,\s*/.exec(text.slice(at));
    if (!comma || !/^[A-Za-z_][A-Za-z0-9_]*\s*=/.test(text.slice(at + comma[0].length))) break;
    at += comma[0].length;
  }
  return assignments.length ? { assignments, end: at } : null;
}

/** Index past one printed value at `i`: a quoted string, a bracketed group (strings inside respected), or a bare word; -1 if none. */
function pastPrintedValue(text: string, i: number): number {
  const close: Record<string, string> = { '{': '}', '(': ')', '[': ']' };
  const stack: string[] = [];
  let k = i;
  do {
    const c = text[k];
    if (c === undefined) return -1;
    if (c === "'") {
      k++;
      while (k < text.length && text[k] !== "'") k += text[k] === '\\' ? 2 : 1;
      if (k >= text.length) return -1;
      k++;
    } else if (close[c]) {
      stack.push(close[c]!);
      k++;
    } else if (stack.length && c === stack[stack.length - 1]) {
      stack.pop();
      k++;
    } else if (stack.length) k++;
    else {
      const bare = /^[^\s,(){}[\]']+/.exec(text.slice(k));
      if (!bare) return -1;
      k += bare[0].length;
    }
  } while (stack.length);
  return k;
}

import { EVENT_KINDS, EVENT_TABLES, type EventKind } from '../schemas/event';
import { canonicalJson, quotedKey, sortedKeys } from './canonical-json';
import { sha256Hex } from './sha256';

const ENVELOPE_COLUMNS = ['event_id', 'source_app', 'event_type', 'occurred_at', 'received_at', 'content_hash'];

/**
 * The risk worker's decision, stored with auth and failed_login rows and
 * sealed with them: a score changed afterwards is tampering like any other.
 * All are Nullable or empty maps, so rows written before they existed hash
 * as they did.
 */
export const RISK_COLUMNS = ['risk_score', 'risk_level', 'risk_action', 'risk_mode', 'risk_factors', 'risk_reasons', 'risk_decided_at'];
const RISK_SCORED_KINDS: readonly EventKind[] = ['auth', 'failed_login'];

/**
 * The columns a row hash covers, per table: the envelope and the kind's own
 * fields, named explicitly, so a column added later (with a default) never
 * changes the hash of rows written before it.
 */
export const HASHED_COLUMNS: ReadonlyMap<string, readonly string[]> = new Map(
  (Object.keys(EVENT_TABLES) as EventKind[]).map((kind) => [
    EVENT_TABLES[kind],
    [...new Set([...ENVELOPE_COLUMNS, ...(kind === 'error' ? [] : ['user_id']), ...EVENT_KINDS[kind].fieldNames, ...(RISK_SCORED_KINDS.includes(kind) ? RISK_COLUMNS : [])])].sort(),
  ]),
);

/**
 * One value as ClickHouse gives it back: null and absent are the same; a
 * JSON key with dots is the nested path ClickHouse makes of it.
 */
export function normalizeForHash(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) return value.map((v) => (v === undefined || v === null ? null : normalizeForHash(v)));
  if (typeof value !== 'object') return value;
  // Objects without a prototype: a key or path segment `__proto__` is then a member like any other. On a
  // plain object, assigning it set the prototype (the member went unhashed), and walking a dotted key
  // `__proto__.x` reached Object.prototype and polluted every object of the process.
  const out: Record<string, unknown> = Object.create(null);
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    const v = normalizeForHash(raw);
    if (v === undefined) continue;
    const path = key.split('.');
    let target = out;
    for (const part of path.slice(0, -1)) {
      const next = target[part];
      if (typeof next === 'object' && next !== null && !Array.isArray(next)) {
        target = next as Record<string, unknown>;
      } else {
        const created: Record<string, unknown> = Object.create(null);
        target[part] = created;
        target = created;
      }
    }
    const last = path[path.length - 1]!;
    const existing = target[last];
    target[last] = typeof existing === 'object' && existing !== null && typeof v === 'object' && !Array.isArray(v) ? Object.assign(Object.create(null), existing, v) : v;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/**
 * canonicalJson(normalizeForHash(value)) in one pass, without building the
 * normalized copy; undefined where normalizeForHash gives undefined. An object
 * with a dotted key (ClickHouse's nested path) or a `__proto__` key, which the
 * copy treats specially, takes the two-pass way.
 */
export function normalizedJson(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += normalizedJson(value[i]) ?? 'null';
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = sortedKeys(record);
  for (const key of keys) {
    if (key.includes('.') || key === '__proto__') {
      const normalized = normalizeForHash(value);
      return normalized === undefined ? undefined : canonicalJson(normalized);
    }
  }
  let out = '';
  for (const key of keys) {
    const v = normalizedJson(record[key]);
    if (v === undefined) continue;
    out += `${out === '' ? '{' : ','}${quotedKey(key)}:${v}`;
  }
  return out === '' ? undefined : `${out}}`;
}

/** Per table: each hashed column's place, and its `,"column":` text. */
interface HashLayout {
  readonly place: ReadonlyMap<string, number>;
  readonly prefixes: readonly string[];
  readonly head: string;
}

const LAYOUTS: ReadonlyMap<string, HashLayout> = new Map(
  [...HASHED_COLUMNS].map(([table, columns]) => [
    table,
    { place: new Map(columns.map((column, i) => [column, i])), prefixes: columns.map((column) => `,${quotedKey(column)}:`), head: `{"$table":${JSON.stringify(table)}` },
  ]),
);

/**
 * SHA-256 of a row's canonical content, bound to its table: canonicalJson of
 * `{ $table, ...each hashed column normalized }`. Written out by hand, as the
 * writer and the verifier's fallback run it for every row: the columns are
 * already in canonical order ('$table' sorts first), so the text is built in
 * one pass, and object values are normalized as they are written
 * (normalizedJson). The row's keys are enumerated rather than each hashed
 * column looked up by name: a row has about half of its table's columns, and
 * looking up the absent ones was most of the cost (3 of 7 µs a row).
 * `test/unit/row-hash.test.ts` holds it to the plain definition.
 */
export function rowHash(table: string, row: Record<string, unknown>): string {
  const layout = LAYOUTS.get(table);
  if (!layout) throw new Error(`no hash columns for table ${table}`);
  const values: unknown[] = new Array(layout.prefixes.length);
  // for…in, like row[column], also sees inherited keys; rows are plain objects, so there are none.
  for (const key in row) {
    const place = layout.place.get(key);
    if (place !== undefined) values[place] = row[key];
  }
  let text = layout.head;
  for (let i = 0; i < values.length; i++) {
    const value = normalizedJson(values[i]);
    if (value !== undefined) text += layout.prefixes[i]! + value;
  }
  return sha256Hex(`${text}}`);
}

/** rowHash as defined: the canonical JSON of the content object. The fast version above must agree with it. */
export function rowHashByDefinition(table: string, row: Record<string, unknown>): string {
  const columns = HASHED_COLUMNS.get(table);
  if (!columns) throw new Error(`no hash columns for table ${table}`);
  const content: Record<string, unknown> = { $table: table };
  for (const column of columns) content[column] = normalizeForHash(row[column]);
  return sha256Hex(canonicalJson(content));
}

import { z } from 'zod';
import { hostileJsonProblem } from '../lib/hostile-json-value';
import { firstLossyNumber } from '../lib/lossy-json-numbers';

/** Field builders shared by the event schemas. Output types are what gets stored. */

/** Any UUID, in either case: the one pattern every id check in the codebase uses. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const uuid = () =>
  z
    .string()
    .regex(UUID_PATTERN, 'must be a UUID')
    .transform((s) => s.toLowerCase());

export const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);
export const label = (max = 100) => z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

/** Seeds use both UUID and integer user ids; both are stored as text. */
export const userId = () => z.union([z.string().min(1).max(128), z.number().int().nonnegative()]).transform((v) => String(v));

export const ipAddress = () => z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' });

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;
const TIMESTAMP_MESSAGE = 'must be an ISO 8601 date-time, e.g. 2025-06-21T14:12:00Z';

/**
 * ISO 8601 date or date-time; one without an offset is read as UTC. Stored
 * as a JS Date. (One regex and Date.parse: zod's own ISO checks cost several
 * times more, and this runs for every event.)
 */
export const timestamp = () =>
  z.string().transform((s, ctx) => {
    const m = ISO_8601.exec(s);
    if (!m) {
      ctx.addIssue({ code: 'custom', message: TIMESTAMP_MESSAGE });
      return z.NEVER;
    }
    const iso = m[4] === undefined ? `${s}T00:00:00Z` : m[7] === undefined ? `${s.replace(' ', 'T')}Z` : s.replace(' ', 'T');
    const date = new Date(iso);
    const year = Number(m[1]);
    // Date.parse rolls 2025-02-30 over into March, with an offset as without one: a real calendar date
    // must survive the round trip (its own, apart from the offset, which may move the instant to another day).
    const day = new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3])));
    const realDay = day.getUTCMonth() === Number(m[2]) - 1 && day.getUTCDate() === Number(m[3]);
    if (Number.isNaN(date.getTime()) || !realDay || year < 1970 || year >= 2300 || (m[7] === undefined || m[7] === 'Z' || m[7] === 'z' ? date.getUTCDate() !== Number(m[3]) : false)) {
      ctx.addIssue({ code: 'custom', message: Number.isNaN(date.getTime()) ? TIMESTAMP_MESSAGE : 'must be a real date between 1970 and 2299' });
      return z.NEVER;
    }
    return date;
  });

export const int = (min: number, max: number) => z.number().int().min(min).max(max);

type JsonObject = { [key: string]: unknown };

function parseJsonObject(value: unknown, ctx: z.RefinementCtx, wrapScalars: boolean): JsonObject | null {
  if (value === null || value === undefined) return null;
  let v = value;
  // todo_app_* tables store metadata as "JSON-encoded" strings (docs/data-model.md); accept both shapes.
  if (typeof v === 'string') {
    const trimmed = v.trim();
    if (trimmed.startsWith('{')) {
      try {
        v = JSON.parse(trimmed);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is a string that starts like JSON but does not parse' });
        return z.NEVER;
      }
      // The body's check saw only this string: what it refuses in a body (a `__proto__` key, NUL, a lone
      // surrogate, too deep, an integer its parse altered) is refused inside it too, or it is stored altered.
      const hostile = hostileJsonProblem(v, { lossyNumber: () => firstLossyNumber(trimmed) });
      if (hostile) {
        ctx.addIssue({ code: 'custom', path: hostile.path === '' ? [] : hostile.path.split('.'), message: hostile.message });
        return z.NEVER;
      }
    }
  }
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const object = withoutNullMembers(v as JsonObject);
    const twice = hasDottedKey(object) ? pathNamedTwice(object) : null;
    if (twice !== null) {
      ctx.addIssue({ code: 'custom', message: `has two members for the path ${JSON.stringify(twice)} (a dot in a key separates path segments); send one of them` });
      return z.NEVER;
    }
    return object;
  }
  if (wrapScalars) return { value: v };
  ctx.addIssue({ code: 'custom', message: 'must be a JSON object (or a string holding one)' });
  return z.NEVER;
}

/**
 * ClickHouse's JSON type does not keep members whose value is null (it
 * cannot tell them from absent ones), so they are dropped here, up front:
 * what is stored, hashed and read back is then one and the same.
 */
function withoutNullMembers(value: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue;
    const v = value[k];
    if (v === null || v === undefined) continue;
    out[k] = typeof v === 'object' && !Array.isArray(v) ? withoutNullMembers(v as JsonObject) : v;
  }
  return out;
}

/**
 * The first path that two members of a JSON object name, as ClickHouse's JSON
 * type reads its keys (split at dots: `{"a.b": 1}` is `{"a": {"b": 1}}`), or
 * null. ClickHouse refuses such an object ("Duplicate path found during parsing
 * JSON object"), so it would be dead-lettered after its 202. Each object inside
 * an array is a JSON value of its own, with paths of its own. The value was
 * checked for depth already (hostileJsonProblem), so the walk is bounded.
 */
function pathNamedTwice(value: JsonObject): string | null {
  const leaves = new Set<string>();
  const own: { object: JsonObject; prefix: string }[] = [{ object: value, prefix: '' }];
  const inArrays: JsonObject[] = [];
  while (own.length > 0) {
    const { object, prefix } = own.pop()!;
    for (const key of Object.keys(object)) {
      const path = prefix + key;
      const member = object[key];
      if (typeof member === 'object' && member !== null && !Array.isArray(member)) {
        own.push({ object: member as JsonObject, prefix: `${path}.` });
        continue;
      }
      if (Array.isArray(member)) objectsIn(member, inArrays);
      if (leaves.has(path)) return path;
      leaves.add(path);
    }
  }
  // A value at a path and one below it (`{"a": 1, "a.b": 2}`): ClickHouse keeps both and prints `a` twice,
  // and only the last would be read back and sealed.
  for (const leaf of leaves) {
    for (let dot = leaf.indexOf('.'); dot !== -1; dot = leaf.indexOf('.', dot + 1)) {
      if (leaves.has(leaf.slice(0, dot))) return leaf.slice(0, dot);
    }
  }
  for (const object of inArrays) {
    const twice = hasDottedKey(object) ? pathNamedTwice(object) : null;
    if (twice !== null) return twice;
  }
  return null;
}

/** Whether a key anywhere in the value holds a dot: without one, no two members can name one path. */
function hasDottedKey(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const v = pending.pop();
    if (Array.isArray(v)) {
      for (const item of v) if (typeof item === 'object' && item !== null) pending.push(item);
    } else if (typeof v === 'object' && v !== null) {
      for (const key in v) {
        if (key.includes('.')) return true;
        const member = (v as JsonObject)[key];
        if (typeof member === 'object' && member !== null) pending.push(member);
      }
    }
  }
  return false;
}

/** The objects of an array, and of the arrays inside it. */
function objectsIn(array: unknown[], out: JsonObject[]): void {
  for (const item of array) {
    if (Array.isArray(item)) objectsIn(item, out);
    else if (typeof item === 'object' && item !== null) out.push(item as JsonObject);
  }
}

/** A JSON object stored in a ClickHouse JSON column, so analysts can query inside it (`metadata.ip`). */
export const jsonObject = () => z.unknown().transform((v, ctx) => parseJsonObject(v, ctx, false));

/**
 * An old/new value. Objects are stored as they are; a scalar or array (todo_app_audit_logs
 * allows "string representation") is stored as `{"value": …}` so the column stays queryable.
 */
export const changeValue = () => z.unknown().transform((v, ctx) => parseJsonObject(v, ctx, true));

/** Upper-cases enum-like labels so `high` and `HIGH` count as one value. */
export const upperLabel = (max = 64) => label(max).transform((s) => s.toUpperCase());
export const lowerLabel = (max = 64) => label(max).transform((s) => s.toLowerCase());

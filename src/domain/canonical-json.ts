/**
 * Object keys as JSON strings. Events repeat the same few dozen keys, and
 * quoting them again for every event was a third of this function's time.
 * Bounded in count and in key length, since a client chooses the keys inside
 * its JSON fields: at most 4,096 keys of up to 64 characters are ever kept.
 */
const quotedKeys = new Map<string, string>();
const MAX_QUOTED_KEYS = 4096;
const MAX_CACHED_KEY_LENGTH = 64;

export function quotedKey(key: string): string {
  if (key.length > MAX_CACHED_KEY_LENGTH) return JSON.stringify(key);
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (quotedKeys.size < MAX_QUOTED_KEYS) quotedKeys.set(key, quoted);
  }
  return quoted;
}

/** How many quoted keys are kept (tests hold the bound). */
export function quotedKeyCacheSize(): number {
  return quotedKeys.size;
}

/** Longer key lists (a client chooses the keys inside its JSON fields) take the native O(n log n) sort. */
const INSERTION_SORT_MAX_KEYS = 48;

/**
 * An object's own keys in code-unit order, exactly as `Object.keys(o).sort()`
 * gives them. An event has a few dozen keys at most, and sorting them in place
 * by insertion allocates nothing: Array#sort's working state was a third of
 * canonicalJson's allocations and half of its time.
 */
export function sortedKeys(record: object): string[] {
  const keys = Object.keys(record);
  const count = keys.length;
  if (count > INSERTION_SORT_MAX_KEYS) return keys.sort();
  for (let i = 1; i < count; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

/**
 * JSON with object keys sorted at every level and no whitespace, so equal
 * content always gives equal bytes (and equal hashes) whatever the key order.
 * Undefined members are left out, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += value[i] === undefined ? 'null' : canonicalJson(value[i]);
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = sortedKeys(record);
  let out = '{';
  let first = true;
  for (const key of keys) {
    const v = record[key];
    if (v === undefined) continue;
    if (!first) out += ',';
    first = false;
    // Strings, the commonest members, without another call; the rest as JSON.stringify would write them.
    out += `${quotedKey(key)}:${typeof v === 'string' ? JSON.stringify(v) : canonicalJson(v)}`;
  }
  return `${out}}`;
}

import { isUnsafeInteger } from './lossy-json-numbers';

/**
 * Finds, in the text a value was parsed from, an integer JSON.parse altered
 * (an integer a double cannot hold), or null. hostileJsonProblem asks only
 * when the value holds an integer beyond 2^53, so the text is seldom read.
 */
export type LossyNumberCheck = () => { path: string; message: string } | null;

/** Deeper than any real event or form; a 10,000-deep body would otherwise overflow a recursive walk further on. */
export const MAX_JSON_DEPTH = 64;

/** ES2024's String.prototype.isWellFormed (Node 20 has it; the ES2022 lib this project compiles against does not name it). */
type MaybeWellFormed = string & { isWellFormed(): boolean };

function badString(s: string): string | null {
  if (s.includes('\u0000')) return 'holds a NUL character (\\u0000)';
  // A surrogate half without its pair: not Unicode, so ClickHouse and PostgreSQL refuse it after we said yes.
  if (!(s as MaybeWellFormed).isWellFormed()) return 'holds a lone UTF-16 surrogate (not valid Unicode)';
  return null;
}

/** A problem found below some value: the keys leading to it, innermost first, as the walk unwinds. */
interface Found {
  keys: string[];
  message: string;
}

/** What one walk carries down: its depth limit, and whether it passed an integer beyond 2^53 (which its parse may have altered). */
interface Walk {
  maxDepth: number;
  unsafeInteger: boolean;
}

export interface HostileJsonOptions {
  /**
   * Finds, in the text the value was parsed from, an integer JSON.parse
   * altered (9007199254740993 reads as 9007199254740992). Asked only when the
   * walk passed an integer beyond 2^53 and found nothing else. Without it, such
   * an integer passes: the value did not come from JSON text, or that text
   * was checked already (validate() after refuseHostileJson).
   */
  lossyNumber?: LossyNumberCheck;
  /** Default MAX_JSON_DEPTH. */
  maxDepth?: number;
}

/**
 * Why a parsed JSON value cannot be stored, or null: nested deeper than
 * MAX_JSON_DEPTH, a string or key with NUL or a lone surrogate
 * (PostgreSQL refuses NUL in text; both would fail after the 2xx), a
 * `__proto__` key or a number beyond a double (both would be dropped), or an
 * integer its parse altered (options.lossyNumber; it would be stored as another).
 * Every event of every post goes through it, so the path is only spelled
 * out for a problem found; the recursion is safe, as it stops at maxDepth.
 */
export function hostileJsonProblem(value: unknown, options: HostileJsonOptions = {}): { path: string; message: string } | null {
  const walk: Walk = { maxDepth: options.maxDepth ?? MAX_JSON_DEPTH, unsafeInteger: false };
  const found = problemIn(value, 0, walk);
  if (found) return { path: found.keys.reverse().join('.'), message: found.message };
  return walk.unsafeInteger && options.lossyNumber ? options.lossyNumber() : null;
}

function problemIn(value: unknown, depth: number, walk: Walk): Found | null {
  if (typeof value === 'string') {
    const problem = badString(value);
    return problem ? { keys: [], message: problem } : null;
  }
  // JSON.parse reads 1e400 as Infinity, which JSON.stringify writes as null: the member would vanish after the 2xx.
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { keys: [], message: 'is a number beyond the range of a double (it reads as Infinity)' };
    // Only the text can tell whether it was sent as this integer: the caller's lossyNumber reads it, once, after the walk.
    if (isUnsafeInteger(value)) walk.unsafeInteger = true;
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  if (depth >= walk.maxDepth) return { keys: [], message: `is nested deeper than ${walk.maxDepth} levels` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = problemIn(value[i], depth + 1, walk);
      if (found) {
        found.keys.push(String(i));
        return found;
      }
    }
    return null;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  for (const key of keys) {
    const keyProblem = badString(key);
    if (keyProblem) return { keys: [], message: `has a key that ${keyProblem}` };
    // Copied into a new object by assignment (as the schemas do), it sets the prototype instead: the member would vanish after the 2xx.
    if (key === '__proto__') return { keys: [], message: 'has a key named __proto__, which cannot be stored' };
    // A dotted key is a path in ClickHouse's JSON type (`{"__proto__.x": 1}` is `{"__proto__": {"x": 1}}`): the same member.
    if (key.includes('.') && key.split('.').includes('__proto__')) return { keys: [], message: 'has a key with a path segment named __proto__, which cannot be stored' };
  }
  for (const key of keys) {
    const found = problemIn(record[key], depth + 1, walk);
    if (found) {
      found.keys.push(key);
      return found;
    }
  }
  return null;
}

import type { RequestHandler } from 'express';
import { AppError } from '../lib/errors/app-error';

/** Deeper than any real event or form; a 10,000-deep body would otherwise overflow a recursive walk further on. */
export const MAX_JSON_DEPTH = 64;

/** A surrogate half without its pair: not Unicode, so ClickHouse and PostgreSQL refuse it after we said yes. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function badString(s: string): string | null {
  if (s.includes('\u0000')) return 'holds a NUL character (\\u0000)';
  if (LONE_SURROGATE.test(s)) return 'holds a lone UTF-16 surrogate (not valid Unicode)';
  return null;
}

/**
 * Why a parsed JSON value cannot be stored, or null: nested deeper than
 * MAX_JSON_DEPTH, or a string or key with NUL or a lone surrogate
 * (PostgreSQL refuses NUL in text; both would fail after the 2xx).
 * Iterative, so the walk itself cannot overflow the stack.
 */
export function hostileJsonProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): { path: string; message: string } | null {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { value: v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      const problem = badString(v);
      if (problem) return { path, message: problem };
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= maxDepth) return { path, message: `is nested deeper than ${maxDepth} levels` };
    const entries: [string, unknown][] = Array.isArray(v) ? v.map((item, i) => [String(i), item]) : Object.entries(v);
    for (const [k, item] of entries) {
      const keyProblem = Array.isArray(v) ? null : badString(k);
      if (keyProblem) return { path, message: `has a key that ${keyProblem}` };
      stack.push({ value: item, path: path ? `${path}.${k}` : k, depth: depth + 1 });
    }
  }
  return null;
}

/** After express.json: one 400 (a validation failure, with the field path) for a body no route can store, before any schema or database sees it. */
export function refuseHostileJson(): RequestHandler {
  return (req, _res, next) => {
    const problem = hostileJsonProblem(req.body);
    if (problem) {
      const path = problem.path.slice(0, 200);
      throw new AppError('VALIDATION_FAILED', path ? `${path}: ${problem.message}` : `the body ${problem.message}`, { details: [{ path, message: problem.message }] });
    }
    next();
  };
}

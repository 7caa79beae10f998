import { z } from 'zod';

/** Field builders shared by the event schemas. Output types are what gets stored. */

export const uuid = () =>
  z
    .string()
    .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a UUID')
    .transform((s) => s.toLowerCase());

export const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);
export const label = (max = 100) => z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

/** Seeds use both UUID and integer user ids; both are stored as text. */
export const userId = () =>
  z.union([z.string().min(1).max(128), z.number().int().nonnegative()]).transform((v) => String(v));

export const ipAddress = () => z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' });

/** ISO 8601; a timestamp without an offset is read as UTC. Stored as a JS Date. */
export const timestamp = () =>
  z
    .union([z.iso.datetime({ offset: true, local: true }), z.iso.date()], {
      error: 'must be an ISO 8601 date-time, e.g. 2025-06-21T14:12:00Z',
    })
    .transform((s) => new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(s) || !s.includes('T') ? s : `${s}Z`))
    .refine((d) => !Number.isNaN(d.getTime()) && d.getUTCFullYear() >= 1970 && d.getUTCFullYear() < 2300, {
      message: 'must be a date between 1970 and 2299',
    });

export const int = (min: number, max: number) => z.number().int().min(min).max(max);

type JsonObject = { [key: string]: unknown };

function parseJsonObject(value: unknown, ctx: z.RefinementCtx, wrapScalars: boolean): JsonObject | null {
  if (value === null || value === undefined) return null;
  let v = value;
  // Seed 002 stores metadata as "JSON-encoded" strings; accept both shapes.
  if (typeof v === 'string') {
    const trimmed = v.trim();
    if (trimmed.startsWith('{')) {
      try {
        v = JSON.parse(trimmed);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is a string that starts like JSON but does not parse' });
        return z.NEVER;
      }
    }
  }
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return withoutNullMembers(v as JsonObject);
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
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    out[k] = typeof v === 'object' && !Array.isArray(v) ? withoutNullMembers(v as JsonObject) : v;
  }
  return out;
}

/** A JSON object stored in a ClickHouse JSON column, so analysts can query inside it (`metadata.ip`). */
export const jsonObject = () =>
  z.unknown().transform((v, ctx) => parseJsonObject(v, ctx, false));

/**
 * An old/new value. Objects are stored as they are; a scalar or array (seed 002
 * allows "string representation") is stored as `{"value": …}` so the column stays queryable.
 */
export const changeValue = () =>
  z.unknown().transform((v, ctx) => parseJsonObject(v, ctx, true));

/** Upper-cases enum-like labels so `high` and `HIGH` count as one value. */
export const upperLabel = (max = 64) => label(max).transform((s) => s.toUpperCase());
export const lowerLabel = (max = 64) => label(max).transform((s) => s.toLowerCase());

import fc from 'fast-check';
import { z } from 'zod';
import { EVENT_KIND_NAMES, EVENT_KINDS, isEventKind } from '../../src/schemas/event';
import { requiredMessage } from '../../src/schemas/zod-config';
import { SEED_EVENTS } from '../fixtures/seed-events';

/**
 * The ingest path validates each kind's fields with zod's compiled code
 * (defineEventKind's parseFast), which hands what it refuses to zod's
 * runtime. On our field types the two must accept and refuse the same
 * events, with the same output and the same issues.
 */
describe('compiled event validation', () => {
  it('compiles every kind to plain code (one zod cannot compile would quietly take the slow path)', () => {
    for (const kind of EVENT_KIND_NAMES) expect(() => z.compile(EVENT_KINDS[kind].input, { strict: true })).not.toThrow();
  });

  const seeds = Object.values(SEED_EVENTS) as Record<string, unknown>[];
  const names = [...new Set(seeds.flatMap((seed) => Object.keys(seed))), 'surprise', 'id', 'timestamp', 'created_at', 'old_value', 'actor_id'];
  const value = fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.constantFrom('', 'UPDATE', '2025-02-30T00:00:00Z', '2025-06-21', '2025-06-21 10:00:00+02', '10.0.0.1', '::1', '3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', '{"a":null}', '{bad', 'x'.repeat(3000)),
    fc.integer(),
    fc.double(),
    fc.constant(null),
    fc.constant(undefined),
    fc.boolean(),
    fc.array(fc.integer(), { maxLength: 2 }),
    fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(fc.integer(), fc.constant(null), fc.string({ maxLength: 3 })), { maxKeys: 3 }),
  );

  it('accepts and refuses what zod’s runtime does, with the same output and the same issues', () => {
    const compiled = Object.fromEntries(EVENT_KIND_NAMES.map((kind) => [kind, z.compile(EVENT_KINDS[kind].input)]));
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.constantFrom(...names), value), { maxLength: 4 }), (seed, edits) => {
        const raw: Record<string, unknown> = structuredClone(seed);
        for (const [name, v] of edits) {
          if (v === undefined) delete raw[name];
          else raw[name] = v;
        }
        const kind = raw.kind;
        if (!isEventKind(kind)) return;
        const fast = compiled[kind]!.safeParse(raw, { error: requiredMessage });
        const runtime = EVENT_KINDS[kind].input.safeParse(raw, { error: requiredMessage });
        expect(fast.success).toBe(runtime.success);
        if (fast.success) expect(fast.data).toStrictEqual(runtime.data);
        else expect(fast.error!.issues).toStrictEqual(runtime.error!.issues);
      }),
      { numRuns: 2000 },
    );
  });
});

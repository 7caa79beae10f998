/**
 * How fast each way of validating an event is, on the bench's seed-shaped
 * audit events (traffic/workload.ts): the measurement behind the choice of
 * validator on the ingest path (docs/performance.md, "API hot path").
 *
 *   node dist-bench/bench/validate.micro.js   (after npm run build and tsc -p bench/tsconfig.json)
 *
 * Every approach validates the same schema, the audit kind's strict envelope
 * plus fields (`EVENT_KINDS.audit.input`), so the types keep one source:
 *   zod runtime          schema.safeParse, zod's interpreter (objects JIT-compiled by default)
 *   zod jitless          the same with z.config({ jitless: true })
 *   zod compiled         z.compile(schema): zod's code generator; what it refuses goes to the runtime
 *   ajv, no transforms   ajv (only if installed) on z.toJSONSchema(schema): checks only, and none
 *                        of the transforms (timestamps to Date, upper-casing, JSON-object fields),
 *                        so a lower bound for any JSON Schema validator
 *   parseEvent           the product's whole parse (kind lookup, aliases, envelope completion)
 *
 * Knobs: MICRO_EVENTS [100000], MICRO_ROUNDS [3] (median reported).
 */
import { z } from 'zod';
import { product } from '../traffic/product';
import { auditEvent } from '../traffic/workload';

const EVENTS = Number(process.env.MICRO_EVENTS ?? 100_000);
const ROUNDS = Number(process.env.MICRO_ROUNDS ?? 3);

product.zodConfig().configureZod();
const { EVENT_KINDS, parseEvent } = product.event();
const { requiredMessage } = product.zodConfig();
const schema = EVENT_KINDS.audit.input;
const params = { error: requiredMessage };

const events = Array.from({ length: EVENTS }, () => JSON.parse(JSON.stringify(auditEvent())) as Record<string, unknown>);

const approaches: Record<string, (raw: unknown) => boolean> = {};
approaches['zod runtime'] = (raw) => schema.safeParse(raw, params).success;
approaches['zod jitless'] = (raw) => {
  z.config({ jitless: true });
  try {
    return schema.safeParse(raw, params).success;
  } finally {
    z.config({ jitless: false });
  }
};
const compiled = z.compile(schema, { strict: true });
approaches['zod compiled'] = (raw) => compiled.safeParse(raw, params).success;
const ajv = loadAjv();
if (ajv) approaches['ajv, no transforms'] = ajv;
approaches.parseEvent = (raw) => parseEvent(raw).ok;

function loadAjv(): ((raw: unknown) => boolean) | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Ajv = require('ajv') as { default: new (options: object) => { compile(schema: object): (data: unknown) => boolean } };
    const jsonSchema = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-7' });
    return new Ajv.default({ strict: false, validateFormats: false }).compile(jsonSchema);
  } catch {
    process.stderr.write('ajv is not installed: skipped\n');
    return undefined;
  }
}

function run(validate: (raw: unknown) => boolean): number {
  const start = process.hrtime.bigint();
  for (const raw of events) if (!validate(raw)) throw new Error('a bench event did not validate');
  return Number(process.hrtime.bigint() - start) / 1000 / events.length;
}

const results: Record<string, number[]> = {};
for (const [name, validate] of Object.entries(approaches)) {
  for (let i = 0; i < 2000; i++) validate(events[i]!);
  results[name] = [];
}
for (let round = 0; round < ROUNDS; round++) {
  // Interleaved, so a burst of other load on the machine hits every approach alike.
  for (const [name, validate] of Object.entries(approaches)) results[name]!.push(run(validate));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
process.stdout.write(`µs per event, median of ${ROUNDS} rounds over ${EVENTS} events\n`);
for (const [name, times] of Object.entries(results)) process.stdout.write(`${name.padEnd(20)} ${median(times).toFixed(2).padStart(7)}\n`);

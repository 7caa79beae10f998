import { formatResult, runSimulation } from '../../traffic/simulation/run-simulation';
import { ATTACKS } from '../../traffic/simulation/traffic';
import { createApiKey, startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

// `npm run simulate` at a small scale, end to end: labelled traffic through POST /v1/events,
// decisions read back over /clickhouse. It fails when the policy misses the detection or
// false-positive target. Latency is printed by `npm run simulate`, not judged here: the
// load on a machine running a test suite is not the pipeline's.
const ns = createNamespace('risksim');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;

beforeAll(async () => {
  key = await createApiKey(ns, 'simulator', ['ingest', 'query']);
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

it('detects every attack scenario within its first 10 attempts and scores at most 1% of normal logins high', async () => {
  const result = await runSimulation(
    { url: stack.url, key },
    // 45 s on a quiet machine is ample; on a loaded one the run may take longer while it still moves (stallMs).
    { runTag: 'simtest', normalUsers: 60, attacksPerScenario: 12, attemptsPerAttack: 10, seed: 4, concurrency: 16, rate: 0, timeoutMs: 45_000, stallMs: 15_000 },
  );
  const table = formatResult(result);
  expect({ withoutDecision: result.events.withoutDecision, table }).toEqual({ withoutDecision: 0, table });
  for (const attack of ATTACKS) expect(result.attacks[attack].instances).toBe(12);
  expect(result.normal.logins).toBeGreaterThan(300);
  // The table is in the message when either fails (and printed whole: jest's diff cuts long strings).
  if (!result.pass.detection || !result.pass.falsePositives) console.log(table);
  expect({ detection: result.pass.detection, falsePositives: result.pass.falsePositives, table }).toEqual({ detection: true, falsePositives: true, table });
}, 180_000);

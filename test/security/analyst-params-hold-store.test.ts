import { createApiKey, startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

/**
 * chDB runs every query that carries bound parameters ({name:Type}) one at a
 * time, process-wide, across all its connections (chdb-node's
 * globalParamChain): its parameter binding is not isolated per connection.
 * /clickhouse binds the analyst's param_* values through that path, so one
 * slow analyst query with a parameter holds every other parameterized read
 * of the embedded store (the dashboard, admin event search, reports,
 * integrity checks, retention) until it ends, up to max_execution_time,
 * and an analyst can send them back to back. The analyst's own connection
 * and serialisation were meant to keep a long analyst query from holding up
 * anything but the next analyst.
 */
const ns = createNamespace('paramhold');
let stack: Awaited<ReturnType<typeof startStack>>;
let analystKey: string;
let reportsKey: string;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100', ANALYST_MAX_EXECUTION_TIME: '8' });
  analystKey = await createApiKey(ns, 'analyst', ['query']);
  reportsKey = await createApiKey(ns, 'dashboard-viewer', ['reports']);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = Date.now();
  const value = await work();
  return { ms: Date.now() - started, value };
}

const overview = () =>
  timed(async () => {
    const res = await fetch(`${stack.url}/v1/dashboard/overview`, { headers: { authorization: `Bearer ${reportsKey}` } });
    await res.text();
    return res.status;
  });

/** CPU-bound, interrupted by max_execution_time (8 s here); the parameter is the only thing that matters. */
const SLOW = 'SELECT count() FROM numbers(100000000000) WHERE NOT ignore(sipHash64(number)) AND {x:UInt8} = 1';

it("a slow analyst query with a bound parameter does not hold up the rest of the process's reads of the store", async () => {
  expect((await overview()).value).toBe(200);
  const slow = fetch(`${stack.url}/clickhouse?param_x=1`, { method: 'POST', headers: { 'x-clickhouse-key': analystKey }, body: SLOW }).then(async (res) => ({
    status: res.status,
    text: await res.text(),
  }));
  // Let it start running in the store.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const [dashboard, paramRead] = await Promise.all([
    overview(),
    timed(async () => (await stack.clickhouse!.query({ query: 'SELECT {n:UInt8} AS n', query_params: { n: 7 }, format: 'JSONEachRow' })).json()),
  ]);
  const answered = await slow;
  // The analyst's query ran into its own time limit.
  expect(answered).toMatchObject({ status: 408, text: expect.stringContaining('TIMEOUT_EXCEEDED') });
  expect(dashboard.value).toBe(200);
  expect(paramRead.value).toEqual([{ n: 7 }]);
  // Both answer in milliseconds when no analyst query is running; they waited for the analyst's (about 6.5 s more).
  expect(dashboard.ms).toBeLessThan(3000);
  expect(paramRead.ms).toBeLessThan(3000);
}, 60_000);

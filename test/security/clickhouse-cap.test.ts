import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { createApiKey, startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

/**
 * Issue 12 §4: the /clickhouse result cap was counted by ClickHouse, which
 * counts a constant column once, so `repeat('a', 6000) FROM numbers(100000)`
 * returned 600 MB and took the server from 0.46 to 4.07 GB. The cap is now
 * on the bytes produced; memory per query and queries in flight are bounded.
 */
const ns = createNamespace('chcap');
let stack: Awaited<ReturnType<typeof startStack>>;
let client: ClickHouseClient;
let key: string;

beforeAll(async () => {
  // The defaults: 64 MiB of result, 1 GiB of memory per query, 4 queries at once.
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  key = await createApiKey(ns, 'curious-analyst', ['query']);
  client = createClient({ url: `${stack.url}/clickhouse`, username: 'analyst', password: key, log: { level: ClickHouseLogLevel.OFF }, request_timeout: 120_000 });
}, 60_000);

afterAll(async () => {
  await client?.close();
  await stack?.stop();
  await ns.cleanup();
});

const rssMb = () => Math.round(process.memoryUsage().rss / 1024 / 1024);

it.each(
  [
    ["SELECT repeat('a', 6000) FROM numbers(100000)", '600 MB of a constant column'],
    ["SELECT repeat('a', 1000000) FROM numbers(300)", '300 MB in 300 rows'],
    [`SELECT 1 AS ${'a'.repeat(60_000)} FROM numbers(2000)`, 'a long alias, repeated by JSONEachRow on every row'],
  ].map(([query, what]) => [what!, query!] as const),
)(
  'refuses %s with a ClickHouse error, and the process stays bounded',
  async (_what, query) => {
    const before = rssMb();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb())), 20);
    try {
      const error = await client.query({ query, format: 'JSONEachRow' }).then(
        async (rs) => {
          await rs.text();
          return null;
        },
        (e: unknown) => e as { code?: string; type?: string; message: string },
      );
      // Refused by whichever bound it meets first: the bytes produced (64 MiB), or the store's memory for the query (1 GiB).
      expect([
        { code: '396', type: 'TOO_MANY_ROWS_OR_BYTES' },
        { code: '241', type: 'MEMORY_LIMIT_EXCEEDED' },
      ]).toContainEqual({ code: error!.code, type: error!.type });
      if (error!.code === '396') expect(error!.message).toMatch(/Limit for result exceeded, max bytes: 67108864/);
    } finally {
      clearInterval(sampler);
    }
    // The store may hold up to max_memory_usage (1 GiB) while it writes the result; nothing near the 0.6-4 GB of the attack is kept.
    expect(peak - before).toBeLessThan(1500);
    global.gc?.();
  },
  120_000,
);

it('a constant column under the memory bound but over the byte cap is cut at the bytes produced', async () => {
  // 100 MB of output: ClickHouse's own max_result_bytes counts the constant once and lets it through.
  const error = await client.query({ query: "SELECT repeat('a', 1000) FROM numbers(100000)", format: 'TabSeparated' }).then(
    async (rs) => {
      await rs.text();
      return null;
    },
    (e: unknown) => e as { code?: string; type?: string; message: string },
  );
  expect(error).toMatchObject({ code: '396', type: 'TOO_MANY_ROWS_OR_BYTES' });
  expect(error!.message).toMatch(/Limit for result exceeded, max bytes: 67108864/);
});

it('a result under the cap still arrives whole', async () => {
  const rs = await client.query({ query: "SELECT repeat('a', 1000) AS s FROM numbers(1000)", format: 'JSONEachRow' });
  const rows = await rs.json<{ s: string }>();
  expect(rows).toHaveLength(1000);
  expect(rows[0]!.s).toHaveLength(1000);
});

it("bounds the queries in flight: past 4 at once, 503 with Retry-After and ClickHouse's TOO_MANY_SIMULTANEOUS_QUERIES", async () => {
  const slow = 'SELECT sleep(1.5)';
  const auth = `Basic ${Buffer.from(`analyst:${key}`).toString('base64')}`;
  const answers = await Promise.all(
    Array.from({ length: 6 }, async () => {
      const res = await fetch(`${stack.url}/clickhouse?query=${encodeURIComponent(slow)}`, { headers: { authorization: auth } });
      return { status: res.status, retryAfter: res.headers.get('retry-after'), code: res.headers.get('x-clickhouse-exception-code'), text: await res.text() };
    }),
  );
  expect(answers.filter((a) => a.status === 200).length).toBeLessThanOrEqual(4);
  const busy = answers.filter((a) => a.status === 503);
  expect(busy.length).toBeGreaterThanOrEqual(2);
  for (const b of busy) expect(b).toMatchObject({ retryAfter: '1', code: '202', text: expect.stringContaining('(TOO_MANY_SIMULTANEOUS_QUERIES)') });
}, 60_000);

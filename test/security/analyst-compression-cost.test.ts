import { createApiKey, startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

/**
 * /clickhouse compresses a result when the analyst asks (enable_http_compression=1
 * and Accept-Encoding). It used Node's defaults: brotli at quality 11, its
 * slowest, about 1.5 s of CPU per MB of text that does not repeat, so one
 * 64 MiB result (the byte cap) costs minutes of a core. The compression ran
 * after the query had left the in-flight bound (4 at once), so nothing
 * limited how many ran together: a handful of requests took every core of the
 * API process, slowing ingest and every other route for minutes.
 * ClickHouse compresses HTTP responses at level 3 (http_zlib_compression_level).
 */
const ns = createNamespace('brcost');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  key = await createApiKey(ns, 'analyst', ['query']);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

/** About 8 MB of hexadecimal text that does not repeat. */
const RANDOM_TEXT = 'SELECT hex(randomString(1000)) FROM numbers(4000)';

const cpuSeconds = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1e6;

it.each(['br', 'gzip', 'deflate'])(
  'a %s-compressed result costs the server about what ClickHouse would spend on it',
  async (encoding) => {
    const before = process.cpuUsage();
    const res = await fetch(`${stack.url}/clickhouse?enable_http_compression=1`, {
      method: 'POST',
      headers: { 'x-clickhouse-key': key, 'accept-encoding': encoding },
      body: RANDOM_TEXT,
    });
    const text = await res.text();
    const spent = cpuSeconds(process.cpuUsage(before));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBe(encoding);
    expect(text.split('\n').filter(Boolean)).toHaveLength(4000);
    // The query and level-3 compression of 8 MB take about half a second of CPU; brotli at quality 11 took about 12 s.
    expect(spent).toBeLessThan(3);
  },
  60_000,
);

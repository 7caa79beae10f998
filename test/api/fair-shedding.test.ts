import type { ErrorBody } from '../helpers/accounts';
import { createApiKey, drainIngest, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const event = { kind: 'audit', event_type: 'logout', user_id: 'fair' };
const flood = Array.from({ length: 100 }, () => event);

/** Posts A's flood until the pipeline refuses it: what was accepted, and the refusal. */
async function floodUntilRefused(url: string, key: string): Promise<{ accepted: number; refusal: Awaited<ReturnType<typeof postEvents<ErrorBody>>> }> {
  let accepted = 0;
  const refusal = await eventually(
    async () => {
      const res = await postEvents<ErrorBody>(url, key, flood);
      if (res.status === 202) accepted += flood.length;
      else expect(res.status).toBe(429);
      return res.status === 429 && res;
    },
    15_000,
    50,
  );
  return { accepted, refusal };
}

type Post = (app: string, key: string, body: unknown, events: number) => Promise<number>;

/** Six brand-new apps (no share yet) bursting in, in parallel, big posts and small: the events they got accepted, all together. */
async function newAppsBurstIn(ns: ReturnType<typeof createNamespace>, label: string, post: Post, accepted: Map<string, number>): Promise<number> {
  const fresh = await Promise.all(Array.from({ length: 6 }, (_, i) => createApiKey(ns, `${label}-${i}`)));
  await Promise.all(
    fresh.flatMap((key, i) =>
      Array.from({ length: 4 }, async (_, j) => {
        for (let k = 0; k < 5; k++) await (j % 2 ? post(`${label}-${i}`, key, event, 1) : post(`${label}-${i}`, key, flood.slice(0, 10), 10));
      }),
    ),
  );
  return [...accepted].filter(([app]) => app.startsWith(`${label}-`)).reduce((n, [, events]) => n + events, 0);
}

/** Every event that was answered 202 is stored, under its own app: a worker drains the queue. */
async function expectEveryAcceptedStored(ns: ReturnType<typeof createNamespace>, accepted: Map<string, number>): Promise<void> {
  const worker = await startStack(ns, { ROLE: 'worker', FLUSH_MAX_AGE_MS: '100' });
  try {
    await drainIngest(worker, ns);
    const rows = await queryRows<{ app: string; n: number }>(worker.clickhouse!, 'SELECT source_app AS app, count() AS n FROM audit_logs GROUP BY app');
    expect(Object.fromEntries(rows.map((r) => [r.app, Number(r.n)]))).toEqual(Object.fromEntries(accepted));
  } finally {
    await worker.stop();
  }
}

it("while one app's flood saturates the pipeline, another app's few posts are still accepted, and the flooder is told why it is refused", async () => {
  const ns = createNamespace('fairshed');
  // No worker: the backlog only grows, so the pipeline stays saturated once A has filled it.
  const stack = await startStack(ns, { ROLE: 'api', MAX_QUEUE_BACKLOG: '350' });
  try {
    const a = await createApiKey(ns, 'fair-flooder');
    const b = await createApiKey(ns, 'fair-quiet');
    const { refusal } = await floodUntilRefused(stack.url, a);
    expect(Number(refusal.headers.get('retry-after'))).toBeGreaterThan(0);

    for (let i = 0; i < 3; i++) expect((await postEvents(stack.url, b, event)).status).toBe(202);

    const again = await postEvents<ErrorBody>(stack.url, a, flood);
    expect(again.status).toBe(429);
    expect(again.body.error).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/ingest backlog is full.*this app.*share/) });
  } finally {
    await stack.stop();
    await ns.cleanup();
  }
}, 60_000);

it('holds against the flooder evading and against new apps bursting in: a share is per app, what is admitted while saturated is bounded, and nothing accepted is lost', async () => {
  const ns = createNamespace('fairattack');
  // Allowance while saturated: a tenth of the backlog limit, 35 events.
  const api = await startStack(ns, { ROLE: 'api', MAX_QUEUE_BACKLOG: '350' });
  const accepted = new Map<string, number>();
  const post = async (app: string, key: string, body: unknown, events: number) => {
    const res = await postEvents<ErrorBody>(api.url, key, body);
    // Nothing hostile gets a 5xx, nor a 202 for what was not queued.
    expect([202, 429]).toContain(res.status);
    if (res.status === 202) accepted.set(app, (accepted.get(app) ?? 0) + events);
    return res.status;
  };
  try {
    const a = await createApiKey(ns, 'attack-flooder');
    const aOther = await createApiKey(ns, 'attack-flooder-2', ['ingest'], 'attack-flooder');
    const b = await createApiKey(ns, 'attack-quiet');
    accepted.set('attack-flooder', (await floodUntilRefused(api.url, a)).accepted);
    expect(await post('attack-quiet', b, event, 1)).toBe(202);

    // Another key of the same app is the same app; so are many small posts.
    expect(await post('attack-flooder', aOther, flood, 100)).toBe(429);
    expect(await post('attack-flooder', aOther, event, 1)).toBe(429);
    const smalls = await Promise.all(Array.from({ length: 20 }, (_, i) => post('attack-flooder', i % 2 ? a : aOther, event, 1)));
    expect(smalls.every((s) => s === 429)).toBe(true);

    // Brand-new apps have no share yet: bursting in, in parallel, big and small, they get no more than the allowance all together.
    const newcomers = await newAppsBurstIn(ns, 'attack-new', post, accepted);
    expect(newcomers).toBeGreaterThan(0);
    expect(newcomers + (accepted.get('attack-quiet') ?? 0)).toBeLessThanOrEqual(35);
    // The flooder is still refused.
    expect(await post('attack-flooder', a, event, 1)).toBe(429);

    await expectEveryAcceptedStored(ns, accepted);
  } finally {
    await api.stop();
    await ns.cleanup();
  }
}, 120_000);

it("while the API process is too busy and sheds a flood's posts, another app's posts in the middle of it are not shed", async () => {
  const ns = createNamespace('fairbusy');
  const stack = await startStack(ns, { ROLE: 'api', INGEST_MAX_BUSY_PERCENT: '60' });
  // Keeps this process's event loop ~90 % busy, as a flood of posts would, in 9 ms slices (test/api/backpressure.test.ts).
  const spin = setInterval(() => {
    const until = performance.now() + 9;
    while (performance.now() < until);
  }, 1);
  try {
    const a = await createApiKey(ns, 'busy-flooder');
    const b = await createApiKey(ns, 'busy-quiet');
    const quiet: number[] = [];
    let shed = 0;
    const deadline = Date.now() + 30_000;
    while (shed < 100 && Date.now() < deadline) {
      const floodPosts = Array.from({ length: 100 }, () => postEvents(stack.url, a, event));
      const quietPost = postEvents(stack.url, b, event);
      const answers = await Promise.all(floodPosts);
      expect(answers.every((res) => res.status === 202 || res.status === 429)).toBe(true);
      shed += answers.filter((res) => res.status === 429).length;
      quiet.push((await quietPost).status);
    }
    expect(shed).toBeGreaterThanOrEqual(100);
    expect(quiet.filter((status) => status !== 202)).toEqual([]);
  } finally {
    clearInterval(spin);
    await stack.stop();
    await ns.cleanup();
  }
}, 60_000);

it('splits what is admitted while saturated between the API processes behind one queue: two of them let in one allowance between them, not one each', async () => {
  const ns = createNamespace('fairtwo');
  // Two API processes of one deployment, as behind a load balancer; the allowance while saturated is 35 events in all.
  const one = await startStack(ns, { ROLE: 'api', MAX_QUEUE_BACKLOG: '350' });
  const two = await startStack(ns, { ROLE: 'api', MAX_QUEUE_BACKLOG: '350' });
  const urls = [one.url, two.url];
  const accepted = new Map<string, number>();
  let turn = 0;
  const post = async (app: string, key: string, body: unknown, events: number) => {
    const res = await postEvents<ErrorBody>(urls[turn++ % 2]!, key, body);
    expect([202, 429]).toContain(res.status);
    if (res.status === 202) accepted.set(app, (accepted.get(app) ?? 0) + events);
    return res.status;
  };
  try {
    const flooder = await createApiKey(ns, 'two-flooder');
    // The flood reaches both processes, until both refuse it: each has seen the backlog full, and the other process.
    await eventually(async () => (await post('two-flooder', flooder, flood, 100)) === 429 && (await post('two-flooder', flooder, flood, 100)) === 429, 15_000, 50);

    const newcomers = await newAppsBurstIn(ns, 'two-new', post, accepted);
    expect(newcomers).toBeGreaterThan(0);
    expect(newcomers).toBeLessThanOrEqual(35);

    await expectEveryAcceptedStored(ns, accepted);
  } finally {
    await two.stop();
    await one.stop();
    await ns.cleanup();
  }
}, 120_000);

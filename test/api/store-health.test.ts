import { randomUUID } from 'node:crypto';
import { sample } from '../helpers/prometheus';
import type { ErrorBody } from '../helpers/accounts';
import { countUnique, createApiKey, postEvents, type PostResult, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('storehealth');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100', WRITER_STALL_MS: '1500', JOB_BACKOFF_MS: '200' });
  key = await createApiKey(ns, 'store-health-app');
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

async function readyz(url = stack.url): Promise<{ status: number; checks: Record<string, string> }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, checks: ((await res.json()) as { checks: Record<string, string> }).checks };
}

const event = () => ({ event_id: randomUUID(), kind: 'audit', event_type: 'logout', user_id: 'store-health' });

it('reports the free space of DATA_DIR and the writer in /metrics and /readyz', async () => {
  const ready = await readyz();
  expect(ready).toMatchObject({ status: 200, checks: { disk: 'ok', writer: 'ok' } });
  expect((await postEvents(stack.url, key, event())).status).toBe(202);
  const text = await eventually(async () => {
    const t = await (await fetch(`${stack.url}/metrics`)).text();
    return (sample(t, 'auditflow_writer_last_success_age_seconds') ?? -1) >= 0 && t;
  });
  expect(sample(text, 'auditflow_data_dir_free_bytes')).toBeGreaterThan(0);
  expect(sample(text, 'auditflow_writer_consecutive_failures')).toBe(0);
});

it('fails /readyz and sheds ingest with 503 when the store has less free space than DISK_MIN_FREE_BYTES', async () => {
  const api = await startStack(ns, { ROLE: 'api', DISK_MIN_FREE_BYTES: String(2 ** 52) });
  try {
    const ready = await readyz(api.url);
    expect(ready.status).toBe(503);
    expect(ready.checks.disk).toMatch(/below DISK_MIN_FREE_BYTES/);
    // Ingest is shed at once: this API (ROLE=api) reads the store's free space from the worker's state in Redis.
    const shed = await eventually(
      async () => {
        const res = await postEvents<ErrorBody>(api.url, key, event());
        return res.status === 503 && res;
      },
      10_000,
      100,
    );
    expect(shed.headers.get('retry-after')).toBe('10');
    expect(shed.body.error.message).toMatch(/disk is full/);
  } finally {
    await api.stop();
  }
});

it('sheds ingest with 503 + Retry-After once every flush has failed for WRITER_STALL_MS, and takes it again once the writer recovers', async () => {
  const sent: string[] = [];
  // A real store-side failure: every insert (and dedup read) of the table answers UNKNOWN_TABLE.
  await stack.clickhouse!.command({ query: 'RENAME TABLE audit_logs TO audit_logs_away' });
  let shed: PostResult<ErrorBody>;
  try {
    shed = await eventually(
      async () => {
        const e = event();
        const res = await postEvents<ErrorBody>(stack.url, key, e);
        if (res.status === 202) sent.push(e.event_id);
        return res.status === 503 && res;
      },
      30_000,
      200,
    );
    const ready = await readyz();
    expect(ready.status).toBe(503);
    expect(ready.checks.writer).toMatch(/every flush has failed/);
    const text = await (await fetch(`${stack.url}/metrics`)).text();
    expect(sample(text, 'auditflow_writer_consecutive_failures')).toBeGreaterThan(0);
  } finally {
    await stack.clickhouse!.command({ query: 'RENAME TABLE audit_logs_away TO audit_logs' });
  }
  expect(shed.headers.get('retry-after')).toBe('10');
  expect(shed.body.error.message).toMatch(/event store cannot be written/);
  // The retried jobs succeed, so the writer is healthy and ingest is open again.
  await eventually(
    async () => {
      const e = event();
      const res = await postEvents(stack.url, key, e);
      if (res.status === 202) sent.push(e.event_id);
      return res.status === 202;
    },
    30_000,
    200,
  );
  expect(sent.length).toBeGreaterThan(1);
  const ids = sent.map((id) => `'${id}'`).join(',');
  await eventually(async () => (await countUnique(stack.clickhouse!, `(SELECT source_app, event_id FROM audit_logs WHERE event_id IN (${ids}))`)).count === sent.length, 30_000);
  expect(await countUnique(stack.clickhouse!, `(SELECT source_app, event_id FROM audit_logs WHERE event_id IN (${ids}))`)).toEqual({ count: sent.length, unique: sent.length });
}, 90_000);

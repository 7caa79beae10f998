import { randomUUID } from 'node:crypto';
import { api, type ErrorBody, signUp } from '../helpers/accounts';
import { ThrowawayPostgres } from '../helpers/postgres-server';
import { countUnique, createApiKey, postEvents, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('pgoutage');
let pg: ThrowawayPostgres;
let stack: Awaited<ReturnType<typeof startStack>>;
let databaseUrl: string;

beforeAll(async () => {
  pg = await ThrowawayPostgres.start();
  databaseUrl = pg.url(`af_test_${ns.id}`);
  stack = await startStack(ns, { DATABASE_URL: databaseUrl, FLUSH_MAX_AGE_MS: '100' });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await pg?.destroy();
  await ns.cleanup();
});

async function readyz(): Promise<{ status: number; checks: Record<string, string> }> {
  const res = await fetch(`${stack.url}/readyz`);
  return { status: res.status, checks: ((await res.json()) as { checks: Record<string, string> }).checks };
}

function ingestEvent(label: string) {
  return { event_id: randomUUID(), kind: 'audit', event_type: 'logout', user_id: label };
}

it('survives a PostgreSQL restart: the todo/auth API answers 503 with Retry-After, /readyz fails, ingest goes on from cached keys, and all resumes with no restart', async () => {
  const key = await createApiKey({ ...ns, databaseUrl }, 'pg-outage-app');
  const { token } = await signUp(stack.url, ns, `pg-outage-${randomUUID()}@example.com`);
  const sent: string[] = [];
  const first = ingestEvent('before');
  expect((await postEvents(stack.url, key, first)).status).toBe(202);
  sent.push(first.event_id);
  expect((await api(stack.url, 'POST', '/todos', { token, body: { title: 'before' } })).status).toBe(201);
  expect((await readyz()).status).toBe(200);

  // `-m fast`: every session, the idle pooled ones included, is ended with 57P01 (admin shutdown).
  await pg.stop('fast');
  // Give the pool's idle clients time to receive their 'error': unhandled, that ended the process.
  await new Promise((r) => setTimeout(r, 300));

  const todo = await api<ErrorBody>(stack.url, 'POST', '/todos', { token, body: { title: 'during' } });
  expect(todo.status).toBe(503);
  expect(todo.headers.get('retry-after')).toBe('5');
  expect(todo.body.error.code).toBe('UNAVAILABLE');
  const login = await api(stack.url, 'POST', '/auth/login', { body: { email: 'nobody@example.com', password: 'x'.repeat(12) } });
  expect(login.status).toBe(503);
  expect(login.headers.get('retry-after')).toBe('5');
  const ready = await readyz();
  expect(ready.status).toBe(503);
  expect(ready.checks.postgres).not.toBe('ok');
  expect(ready.checks.redis).toBe('ok');

  // Ingest needs only Redis: the key checked before the outage is still accepted (its cache has run out by now).
  await new Promise((r) => setTimeout(r, 5100));
  for (let i = 0; i < 5; i++) {
    const event = ingestEvent(`during-${i}`);
    const res = await postEvents(stack.url, key, event);
    expect(res.status).toBe(202);
    sent.push(event.event_id);
  }
  // A key never seen is not guessed at.
  expect((await postEvents(stack.url, `af_${'x'.repeat(43)}`, ingestEvent('unknown'))).status).toBe(503);

  await pg.restart();
  const back = Date.now();
  await eventually(async () => (await readyz()).status === 200, 20_000, 100);
  expect((await api(stack.url, 'POST', '/todos', { token, body: { title: 'after' } })).status).toBe(201);
  const recoveryMs = Date.now() - back;
  // Every acknowledged event is stored once; their seals (PostgreSQL writes) were retried until it came back.
  await eventually(
    async () => {
      const { count } = await countUnique(stack.clickhouse!, `(SELECT source_app, event_id FROM audit_logs WHERE event_id IN (${sent.map((id) => `'${id}'`).join(',')}))`);
      return count === sent.length;
    },
    60_000,
    200,
  );
  const { count, unique } = await countUnique(stack.clickhouse!, `(SELECT source_app, event_id FROM audit_logs WHERE event_id IN (${sent.map((id) => `'${id}'`).join(',')}))`);
  expect({ count, unique }).toEqual({ count: sent.length, unique: sent.length });
  expect(recoveryMs).toBeLessThan(20_000);
}, 120_000);

import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { api } from '../helpers/accounts';
import { createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

/**
 * An app's webhook hears about its own business only. `integrity.failed`
 * goes to every app subscribed to it, because the chains are shared; what
 * it says must then be what any app may know of the shared chains: which
 * table broke and how, not another app's event ids or every app's row count
 * (docs/tenancy.md: a scoped report and a restricted key get no more).
 */
const ns = createNamespace('whtenancy');
let stack: Awaited<ReturnType<typeof startStack>>;
const calls: { app: string; type: string | undefined; body: Record<string, unknown> }[] = [];
const receivers = ['app-a', 'app-b'].map((app) =>
  http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      calls.push({ app, type: req.headers['x-auditflow-event'] as string | undefined, body: JSON.parse(body) });
      res.writeHead(200).end();
    });
  }),
);

beforeAll(async () => {
  // The receivers are on loopback: an operator allow-list lets them through.
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100', WEBHOOK_BACKOFF_MS: '200', WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8' });
  for (const receiver of receivers) await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  for (const receiver of receivers) receiver.close();
  await ns.cleanup();
});

it("integrity.failed tells app A which table broke, not B's event id that broke it or how many rows every app has", async () => {
  const keyA = await createApiKey(ns, 'app-a', ['ingest', 'risk']);
  const keyB = await createApiKey(ns, 'app-b', ['ingest', 'risk']);
  const operator = await createApiKey(ns, 'operator', ['reports']);
  for (const [key, receiver] of [keyA, keyB].map((k, i) => [k, receivers[i]!] as const)) {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    expect((await api(stack.url, 'PUT', '/v1/webhook', { token: key, body: { url, events: ['integrity.failed'] } })).status).toBe(201);
  }
  const idsOfB = Array.from({ length: 3 }, () => randomUUID());
  expect((await postEvents(stack.url, keyA, [{ kind: 'audit', event_type: 'profile_updated', event_id: randomUUID(), user_id: 'a-user' }])).status).toBe(202);
  expect(
    (
      await postEvents(
        stack.url,
        keyB,
        idsOfB.map((event_id) => ({ kind: 'audit', event_type: 'profile_updated', event_id, user_id: 'b-user' })),
      )
    ).status,
  ).toBe(202);
  await eventually(async () => (await queryRows<{ n: number }>(stack.clickhouse!, `SELECT count() AS n FROM audit_logs WHERE source_app IN ('app-a', 'app-b')`))[0]!.n === 4);
  await stack.writer!.flushAll();

  // B's row is edited behind auditflow's back; an operator's verification finds it.
  await stack.clickhouse!.command({ query: `ALTER TABLE audit_logs UPDATE reason = 'edited later' WHERE event_id = '${idsOfB[1]}'`, clickhouse_settings: { mutations_sync: '2' } });
  const verified = await api<{ ok: boolean; rows: number; tables: { table: string; first_break?: { event_id: string | null } }[] }>(stack.url, 'GET', '/v1/integrity/verify', { token: operator });
  expect(verified.status).toBe(200);
  expect(verified.body.ok).toBe(false);
  // The operator is told everything: the event that broke, and how many rows were checked.
  expect(verified.body.tables.find((t) => t.table === 'audit_logs')!.first_break).toMatchObject({ event_id: idsOfB[1] });

  await eventually(async () => calls.length === 2);
  const toA = calls.find((c) => c.app === 'app-a')!;
  expect(toA).toMatchObject({ type: 'integrity.failed', body: { type: 'integrity.failed', source_app: 'app-a', broken: [{ table: 'audit_logs', kind: 'row_modified' }] } });
  const text = JSON.stringify(toA.body);
  expect(text).not.toContain(idsOfB[1]);
  expect(toA.body).not.toHaveProperty('rows_verified');
  expect(toA.body.broken).toEqual([{ table: 'audit_logs', kind: 'row_modified' }]);
  // B is told no more about its own row: the notice is one for every app.
  expect(calls.find((c) => c.app === 'app-b')!.body.broken).toEqual([{ table: 'audit_logs', kind: 'row_modified' }]);
}, 90_000);

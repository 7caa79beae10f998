import { randomUUID } from 'node:crypto';
import { api } from '../helpers/accounts';
import { createApiKey, drainIngest, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

/**
 * Every app's rows are chained and sealed together (docs/tenancy.md, "Shared,
 * and why"), so one app must not be able to make the shared chain fail
 * verification with events the API accepted as valid. A JSON field holding an
 * ordinary double (what Math.random() or a computed duration gives: about one
 * in ten of those) is stored by ClickHouse as a neighbouring double, and the
 * row no longer matches the hash sealed for it.
 */
const ns = createNamespace('json-floats');
let stack: Awaited<ReturnType<typeof startStack>>;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

it("an app's valid event with a 17-digit double neither alters the stored value nor breaks the chain every app shares", async () => {
  const victim = await createApiKey(ns, 'victim');
  const other = await createApiKey(ns, 'other');
  const officer = await createApiKey(ns, 'officer', ['reports']);
  expect((await postEvents(stack.url, victim, { kind: 'audit', event_type: 'profile_updated', event_id: randomUUID(), user_id: 'v' })).status).toBe(202);
  await drainIngest(stack, ns);
  const before = await api<{ ok: boolean }>(stack.url, 'GET', '/v1/integrity/verify', { token: officer });
  expect(before.body.ok).toBe(true);

  // Doubles as JavaScript writes them (their shortest round-trip spelling).
  const values = [0.48234350983390195, 0.38764656096948613, 123456789.12345679];
  const eventId = randomUUID();
  const posted = await postEvents(stack.url, other, { kind: 'audit', event_type: 'profile_updated', event_id: eventId, user_id: 'o', new_value: { values } });
  expect(posted.status).toBe(202);
  expect((await postEvents(stack.url, victim, { kind: 'audit', event_type: 'profile_updated', event_id: randomUUID(), user_id: 'v' })).status).toBe(202);
  await drainIngest(stack, ns);

  const [stored] = await queryRows<{ text: string }>(stack.clickhouse!, 'SELECT toJSONString(new_value) AS text FROM audit_logs WHERE event_id = {id:UUID}', { id: eventId });
  const after = await api<{ ok: boolean; tables: { table: string; ok: boolean; first_break?: unknown }[] }>(stack.url, 'GET', '/v1/integrity/verify', { token: officer });
  expect({ stored: JSON.parse(stored!.text).values, chainOk: after.body.ok, broken: after.body.tables.filter((t) => !t.ok) }).toEqual({ stored: values, chainOk: true, broken: [] });
}, 120_000);

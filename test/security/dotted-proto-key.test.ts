import { randomUUID } from 'node:crypto';
import { rowHash } from '../../src/domain/row-hash';
import { createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

/**
 * A key named `__proto__` is refused on ingest, but a dotted key whose first
 * segment is `__proto__` (`{"__proto__.x": "…"}`) was taken. The row hash
 * splits dotted keys into paths (as ClickHouse's JSON type does), and walking
 * `out["__proto__"]` reached Object.prototype: one event of one app set an
 * enumerable property on every object of the worker (prototype pollution).
 * From then on every `for…in` of the process saw it: prom-client's label
 * check threw on each GC, ingest stalled, and every later row of every app
 * hashed with the polluting member where it lacked that column.
 */
const ns = createNamespace('dottedproto');
let stack: Awaited<ReturnType<typeof startStack>>;
const polluted = 'auditflow_polluted';

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
}, 60_000);

afterAll(async () => {
  // Whatever happened, leave this realm's prototype clean for the teardown.
  delete (Object.prototype as Record<string, unknown>)[polluted];
  await stack?.stop();
  await ns.cleanup();
});

it("an app's dotted __proto__ key does not reach Object.prototype", async () => {
  const key = await createApiKey(ns, 'app-a');
  const eventId = randomUUID();
  const posted = await postEvents(stack.url, key, [{ kind: 'audit', event_type: 'profile_updated', event_id: eventId, user_id: 'a', metadata: { [`__proto__.${polluted}`]: 'yes' } }]);
  // Refusing it (as a plain `__proto__` key is) or storing it as sent are both fine; polluting is not.
  expect([202, 400]).toContain(posted.status);
  if (posted.status === 202) {
    await eventually(
      async () =>
        Object.hasOwn(Object.prototype, polluted) || (await queryRows<{ n: number }>(stack.clickhouse!, 'SELECT count() AS n FROM audit_logs WHERE event_id = {id:UUID}', { id: eventId }))[0]!.n === 1,
      20_000,
    );
  }
  expect(Object.hasOwn(Object.prototype, polluted)).toBe(false);
}, 60_000);

it('the row hash (writer and verifier) never walks into Object.prototype, and hashes a __proto__ member like any other', () => {
  // What the verifier reads back from a Map column an insider wrote (`risk_reasons`), or a JSON column's own `__proto__` key.
  const before = rowHash('auth_audit_log', { event_id: 'e1', details: { n: 1 } });
  rowHash('auth_audit_log', { event_id: 'e1', risk_reasons: { [`__proto__.${polluted}`]: 'yes' } });
  expect(Object.hasOwn(Object.prototype, polluted)).toBe(false);
  const withProto = JSON.parse('{"n": 1, "__proto__": {"approved_by": "ceo"}}') as unknown;
  expect(rowHash('auth_audit_log', { event_id: 'e1', details: withProto })).not.toBe(before);
});

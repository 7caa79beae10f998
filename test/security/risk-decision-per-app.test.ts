import { randomUUID } from 'node:crypto';
import { createApiKey, drainIngest, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

/**
 * Group commit puts several apps' posts into one ingest job. The worker scores
 * the job's auth and failed_login events and attaches each decision to its row,
 * looked up by event_id alone: an event_id is an app's own (docs/tenancy.md), so
 * another app sending the same id in the same job must not change this app's row.
 * Ids are often predictable (NDJSON, OTLP and CloudEvents derive them from content).
 */
const ns = createNamespace('risk-per-app');
let stack: Awaited<ReturnType<typeof startStack>>;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

it("another app's failed_login with the same event_id, in the same job, neither dead-letters this app's audit event nor stamps its risk on this app's rows", async () => {
  const victim = await createApiKey(ns, 'victim');
  const attacker = await createApiKey(ns, 'attacker');
  const rounds = 40;
  const ids = Array.from({ length: rounds }, () => randomUUID());
  const authIds = Array.from({ length: rounds }, () => randomUUID());
  // Posted all at once, so the producer groups posts of both apps into the same jobs.
  const posts = ids.flatMap((id, i) => [
    postEvents(stack.url, victim, [
      { kind: 'audit', event_type: 'profile_updated', event_id: id, user_id: `v-${i}` },
      { kind: 'auth', event_type: 'login_success', event_id: authIds[i], user_id: `v-${i}`, ip_address: '198.51.100.7' },
    ]),
    postEvents(stack.url, attacker, [
      { kind: 'failed_login', event_id: id, user_id: `a-${i}`, email_address: `a${i}@x.example`, failure_reason: 'INVALID_PASSWORD', ip_address: '203.0.113.9' },
      { kind: 'failed_login', event_id: authIds[i], user_id: `a-${i}`, email_address: `a${i}@x.example`, failure_reason: 'INVALID_PASSWORD', ip_address: '203.0.113.9' },
    ]),
  ]);
  for (const res of await Promise.all(posts)) expect(res.status).toBe(202);
  await drainIngest(stack, ns);

  const deadLettered = await queryRows<{ event_id: string; error: string }>(stack.clickhouse!, `SELECT toString(event_id) AS event_id, error FROM dead_letter_events WHERE source_app = 'victim'`);
  const stored = await queryRows<{ n: number }>(stack.clickhouse!, `SELECT count() AS n FROM audit_logs WHERE source_app = 'victim' AND event_type = 'profile_updated'`);
  // The victim's auth rows carry only decisions about the victim's own users.
  const foreignDecisions = await queryRows<{ n: number }>(stack.clickhouse!, `SELECT count() AS n FROM auth_audit_log WHERE source_app = 'victim' AND has(mapKeys(risk_factors), 'failed_attempt')`);
  expect({ deadLettered, stored: Number(stored[0]!.n), foreignDecisions: Number(foreignDecisions[0]!.n) }).toEqual({ deadLettered: [], stored: rounds, foreignDecisions: 0 });
}, 120_000);

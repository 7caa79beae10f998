/**
 * A command that hands its action to the running worker and stops waiting
 * (`--timeout`, or a worker slower than the default) used to record no
 * audit event at all, while the worker still did the work: a report signed
 * and stored, dead letters re-queued, with nobody named. Whatever the wait
 * ends in, the operator's request is in the audit trail.
 */
import os from 'node:os';
import { Pool } from 'pg';
import { runCliAsync } from '../helpers/child';
import { queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('unconfirmed');
let stack: Awaited<ReturnType<typeof startStack>>;
let pg: Pool;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  pg = new Pool({ connectionString: ns.databaseUrl, max: 1 });
}, 60_000);

afterAll(async () => {
  await pg?.end();
  await stack?.stop();
  await ns.cleanup();
});

const cli = (args: string[]) => runCliAsync(args, ns.env());

async function cliEvents(eventType: string) {
  await stack.writer!.flushAll();
  return queryRows<{ triggered_by_id: string; operation_status: string; failure_reason: string | null; next: string; metadata: string }>(
    stack.clickhouse!,
    `SELECT triggered_by_id, operation_status, failure_reason, toJSONString(new_value) AS next, toJSONString(metadata) AS metadata
       FROM audit_logs WHERE event_type = {t:String} AND triggered_by_type = 'cli'`,
    { t: eventType },
  );
}

it('report generate that stops waiting: the worker still signs and stores the report, and the request is audited', async () => {
  const asked = await cli(['report', 'generate', '--type', 'daily_security_summary', '--from', '2026-01-05T00:00:00Z', '--to', '2026-01-06T00:00:00Z', '--timeout', '0.001']);
  expect(asked.code).not.toBe(0);
  // The worker did it all the same.
  await eventually(async () => (await pg.query(`SELECT id FROM compliance_reports WHERE generated_by = 'cli'`)).rowCount === 1);
  const events = await eventually(async () => {
    const rows = await cliEvents('report_generated');
    return rows.length > 0 && rows;
  }, 15_000);
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({ triggered_by_id: os.userInfo().username, operation_status: 'FAILURE' });
  expect(events[0]!.failure_reason).toMatch(/may still/);
  expect(JSON.parse(events[0]!.next)).toMatchObject({ report_type: 'daily_security_summary', period_start: '2026-01-05T00:00:00.000Z', period_end: '2026-01-06T00:00:00.000Z' });
  expect(JSON.parse(events[0]!.metadata)).toMatchObject({ command: 'report generate' });
}, 60_000);

it('dlq replay and verify that stop waiting are audited too', async () => {
  expect((await cli(['dlq', 'replay', '--timeout', '0.001'])).code).not.toBe(0);
  expect((await cli(['verify', '--timeout', '0.001'])).code).not.toBe(0);
  // One event each, whatever the wait ended in (a worker with nothing to do may even answer in time).
  for (const [eventType, command] of [
    ['dead_letters_replayed', 'dlq replay'],
    ['integrity_verified', 'verify'],
  ]) {
    const events = await eventually(async () => {
      const rows = await cliEvents(eventType!);
      return rows.length > 0 && rows;
    }, 15_000);
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.metadata)).toMatchObject({ command });
  }
}, 60_000);

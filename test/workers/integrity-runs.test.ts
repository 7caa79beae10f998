import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { createControlQueue } from '../../src/queues/queues';
import { enqueueScheduled, SCHEDULED_TASKS } from '../../src/roles/scheduler-role';
import type { VerificationRun } from '../../src/features/integrity/verification-run.repository';
import { api } from '../helpers/accounts';
import { runCliAsync } from '../helpers/child';
import { createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually, REDIS_URL } from '../helpers/test-env';

/**
 * The nightly verification (issue 17 §2): scheduled from cron, recorded in
 * integrity_verification_runs, shown by GET /v1/integrity/runs, cited by
 * reports; a broken chain raises a HIGH security event and the webhook.
 */
const ns = createNamespace('integrityruns');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;
const hookCalls: { type: string | undefined; body: Record<string, unknown> }[] = [];
const hook = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    hookCalls.push({ type: req.headers['x-auditflow-event'] as string | undefined, body: JSON.parse(body) });
    res.writeHead(200).end();
  });
});

beforeAll(async () => {
  // The receiver is on loopback: an operator allow-list lets it through.
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100', WEBHOOK_BACKOFF_MS: '200', WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8' });
  key = await createApiKey(ns, 'runs-app', ['ingest', 'reports', 'risk']);
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  expect((await api(stack.url, 'PUT', '/v1/webhook', { token: key, body: { url, events: ['integrity.failed'] } })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  hook.close();
  await ns.cleanup();
});

const runs = async () => (await api<{ runs: VerificationRun[] }>(stack.url, 'GET', '/v1/integrity/runs?limit=10', { token: key })).body.runs;

it('runs every night from cron, records each run, and raises the alarm once when a chain breaks', async () => {
  const ids = Array.from({ length: 5 }, () => randomUUID());
  expect(
    (
      await postEvents(
        stack.url,
        key,
        ids.map((event_id) => ({ kind: 'audit', event_type: 'profile_updated', event_id, user_id: 'u1' })),
      )
    ).status,
  ).toBe(202);
  await eventually(async () => (await queryRows<{ n: number }>(stack.clickhouse!, `SELECT count() AS n FROM audit_logs WHERE source_app = 'runs-app'`))[0]!.n === 5);
  await stack.writer!.flushAll();
  expect(await runs()).toEqual([]);

  const task = SCHEDULED_TASKS.find((t) => t.name === 'integrity-verify')!;
  expect(task.cron).toBe('30 2 * * *');
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const control = createControlQueue(redis, ns.config());
  try {
    await enqueueScheduled(control, task, new Date('2026-03-01T02:30:00Z'));
    // A run verifies every table; the store's first one, cold, took 10 s alone on a slow machine and over 20 s beside
    // another test file (the default wait), and the late run then counted in the next test. Each wait allows a minute.
    const [good] = await eventually(async () => {
      const r = await runs();
      return r.length === 1 && r;
    }, 60_000);
    expect(good).toMatchObject({ trigger: 'scheduled', ok: true, range_from: null, range_to: null });
    expect(good!.rows_verified).toBeGreaterThanOrEqual(5);

    // Tamper with one stored row; the next night's run finds it.
    await stack.clickhouse!.command({ query: `ALTER TABLE audit_logs UPDATE reason = 'edited later' WHERE event_id = '${ids[2]}'`, clickhouse_settings: { mutations_sync: '2' } });
    await enqueueScheduled(control, task, new Date('2026-03-02T02:30:00Z'));
    const [bad] = await eventually(async () => {
      const r = await runs();
      return r.length === 2 && r;
    }, 60_000);
    expect(bad).toMatchObject({ trigger: 'scheduled', ok: false });
    expect(bad!.tables.find((t) => t.table === 'audit_logs')!.first_break).toMatchObject({ kind: 'row_modified', event_id: ids[2] });

    const alarms = await eventually(async () => {
      const rows = await queryRows<{ severity_level: string; event_type: string; source_app: string; event_description: string }>(
        stack.clickhouse!,
        `SELECT severity_level, event_type, source_app, event_description FROM security_events WHERE event_type = 'INTEGRITY_VERIFICATION_FAILED'`,
      );
      return rows.length > 0 && rows;
    });
    expect(alarms).toEqual([expect.objectContaining({ severity_level: 'HIGH', source_app: 'auditflow' })]);
    expect(alarms[0]!.event_description).toContain(`audit_logs: row_modified`);
    await eventually(async () => hookCalls.length > 0);
    expect(hookCalls).toEqual([
      { type: 'integrity.failed', body: expect.objectContaining({ type: 'integrity.failed', run_id: bad!.id, broken: [expect.objectContaining({ table: 'audit_logs', kind: 'row_modified' })] }) },
    ]);

    // A report generated now states the store's last known integrity.
    const generated = await api<{ id: string }>(stack.url, 'POST', '/v1/reports', {
      token: key,
      body: { type: 'daily_security_summary', period_start: '2026-03-01T00:00:00Z', period_end: '2026-03-02T00:00:00Z' },
    });
    expect(generated.status).toBe(201);
    const report = (await api<{ content: Record<string, unknown> }>(stack.url, 'GET', `/v1/reports/${generated.body.id}`, { token: key })).body;
    expect(report.content.integrity_last_run).toMatchObject({ run_id: bad!.id, trigger: 'scheduled', ok: false, broken: [expect.objectContaining({ table: 'audit_logs' })] });
  } finally {
    await control.close();
    await redis.quit();
  }
  // One alarm per failed run, however long we wait.
  await new Promise((r) => setTimeout(r, 500));
  expect(hookCalls).toHaveLength(1);
}, 180_000);

it('records runs asked for through the API and the CLI, and refuses a bad limit with 400', async () => {
  const before = (await runs()).length;
  expect((await api(stack.url, 'GET', '/v1/integrity/verify', { token: key })).status).toBe(200);
  const cli = await runCliAsync(['verify'], ns.env());
  expect(cli.code).toBe(1); // the tampered row is still there
  const after = await runs();
  expect(after.length).toBe(before + 2);
  expect(
    after
      .slice(0, 2)
      .map((r) => r.trigger)
      .sort(),
  ).toEqual(['api', 'cli']);
  expect((await api(stack.url, 'GET', '/v1/integrity/runs?limit=0', { token: key })).status).toBe(400);
  expect((await api(stack.url, 'GET', '/v1/integrity/runs?limit=x', { token: key })).status).toBe(400);
  expect((await api(stack.url, 'GET', '/v1/integrity/runs')).status).toBe(401);
}, 90_000);

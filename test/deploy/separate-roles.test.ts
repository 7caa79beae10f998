import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { VerificationResult } from '../../src/domain/verification';
import { api as call } from '../helpers/accounts';
import { spawnAuditflow, type AuditflowProcess } from '../helpers/child';
import { sample } from '../helpers/prometheus';
import { createApiKey, postEvents } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

/**
 * The roles as docker-compose runs them: one process each, each with its own
 * DATA_DIR, all sharing Redis, PostgreSQL and one KEYS_DIR. On the embedded
 * store only one worker can own ClickHouse, so this shows one worker; several
 * workers need a ClickHouse server (CLICKHOUSE_URL), where they share nothing
 * but Redis's flush lock.
 */
const ns = createNamespace('roles');
const running: AuditflowProcess[] = [];
afterAll(async () => {
  for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await ns.cleanup();
});

const envFor = (role: string, extra: Record<string, string> = {}) => ns.env({ ROLE: role, DATA_DIR: path.join(ns.dataDir, role), KEYS_DIR: path.join(ns.dataDir, 'shared-keys'), ...extra });

async function spawn(role: string, extra: Record<string, string> = {}): Promise<AuditflowProcess> {
  const p = await spawnAuditflow(envFor(role, extra));
  running.push(p);
  return p;
}

const readiness = async (port: number) => (await fetch(`http://127.0.0.1:${port}/readyz`)).json() as Promise<{ status: string; checks: Record<string, string> }>;

it('runs api, worker and scheduler as separate processes: events reach ClickHouse, reads and reports go through the worker, each stops cleanly', async () => {
  const worker = await spawn('worker', { METRICS_PORT: '0', FLUSH_MAX_AGE_MS: '100' });
  const apiProcess = await spawn('api');
  const scheduler = await spawn('scheduler', { METRICS_PORT: '0' });
  expect(worker.port).toBeUndefined();
  expect(scheduler.port).toBeUndefined();
  const url = `http://127.0.0.1:${apiProcess.port}`;

  expect(await readiness(apiProcess.port!)).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok', clickhouse: 'ok', disk: 'ok' } });
  expect(await readiness(worker.opsPort!)).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok', clickhouse: 'ok', disk: 'ok', writer: 'ok' } });
  expect(await readiness(scheduler.opsPort!)).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });

  const key = await createApiKey(ns, 'roles-app', ['ingest', 'query', 'reports']);
  const user = `roles-${randomUUID()}`;
  const events = Array.from({ length: 20 }, () => ({ kind: 'audit', event_id: randomUUID(), event_type: 'profile_updated', user_id: user }));
  expect((await postEvents(url, key, events)).status).toBe(202);

  // The API process has no ClickHouse: an analyst's query is relayed to the worker that owns it.
  const count = async () => {
    const res = await fetch(`${url}/clickhouse?query=${encodeURIComponent(`SELECT count() FROM audit_logs WHERE user_id = '${user}'`)}`, { headers: { 'X-ClickHouse-Key': key } });
    return (await res.text()).trim();
  };
  await eventually(async () => (await count()) === '20');

  // Seals by the worker and reports signed by the worker verify in the API process: one key, from KEYS_DIR.
  const verified = await call<VerificationResult>(url, 'GET', '/v1/integrity/verify', { token: key });
  expect(verified.body.tables.filter((t: { ok: boolean }) => !t.ok)).toEqual([]);
  expect(verified.body.ok).toBe(true);
  const report = await call<{ id: string }>(url, 'POST', '/v1/reports', {
    token: key,
    body: { type: 'daily_security_summary', period_start: '2026-01-01T00:00:00Z', period_end: '2026-01-02T00:00:00Z' },
  });
  expect((await call(url, 'GET', `/v1/reports/${report.body.id}/verification`, { token: key })).body).toMatchObject({ ok: true, signature_valid: true, key_matches: true });

  // Each process serves its own counts: the flushes and lag are the worker's, the accepted events the API's.
  const workerMetrics = await (await fetch(`http://127.0.0.1:${worker.opsPort}/metrics`)).text();
  expect(sample(workerMetrics, 'auditflow_clickhouse_flush_rows_sum', { table: 'audit_logs' })).toBeGreaterThanOrEqual(20);
  expect(sample(workerMetrics, 'auditflow_ingest_lag_seconds_count', { table: 'audit_logs' })).toBeGreaterThan(0);
  const apiMetrics = await (await fetch(`${url}/metrics`)).text();
  expect(sample(apiMetrics, 'auditflow_events_accepted_total', { kind: 'audit' })).toBe(20);

  // A second worker on the same embedded store is refused before it opens anything.
  const second = spawnAuditflow(envFor('worker', { METRICS_PORT: '0' }));
  await expect(second).rejects.toThrow(/exited with 3 before starting: [\s\S]*in use by another auditflow process/);

  for (const p of [apiProcess, scheduler, worker]) {
    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.logs.find((l) => l.msg === 'stopped')).toMatchObject({ clean: true });
  }
}, 120_000);

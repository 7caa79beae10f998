import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { SERVER_NODE_FLAGS } from '../../src/roles/node-flags';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { spawnAuditflow, type AuditflowProcess } from '../helpers/child';
import { createApiKey, postEvents } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

/**
 * `npm start` (ROLE=all) runs the worker role in a child process by default,
 * so HTTP and ingest work have a core each. These are the promises that come
 * with it: one owner of the store, a worker that dies is restarted while the
 * API goes on accepting, nothing acknowledged is lost or doubled, /metrics
 * covers both processes, and a main process killed outright leaves no worker
 * behind.
 */
const ns = createNamespace('workerproc');
let server: AuditflowProcess | undefined;
afterAll(async () => {
  if (server?.child.exitCode === null) server.child.kill('SIGKILL');
  await ns.cleanup();
});

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const workerPid = (proc: AuditflowProcess, msg: string, after = 0) =>
  eventually(async () => proc.logs.slice(after).find((l) => l.msg === msg && typeof l.workerPid === 'number')?.workerPid as number | undefined, 60_000);

/** The nice value of each thread of `pid`, by thread name (on Linux getpriority() takes a thread id). */
const threadNices = (pid: number) =>
  fs.readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
    try {
      const name = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      return [{ name, nice: os.getPriority(Number(tid)) }];
    } catch {
      return []; // a thread that ended meanwhile
    }
  });

/**
 * Every thread of the worker runs at WORKER_NICE, the embedded store's pools included (they start after
 * the process lowers itself), except the store's memory-statistics thread, which the store itself raises
 * above everything; the API's threads keep their priority.
 */
const expectWorkerNice = (worker: number, api: number, nice: number) => {
  // Both start at the test runner's own value (0, unless it was started under nice).
  const inherited = os.getPriority();
  const threads = threadNices(worker).filter((t) => t.name !== 'MemoryWorker');
  expect(threads.length).toBeGreaterThan(5);
  expect(threads.filter((t) => t.nice !== Math.max(nice, inherited))).toEqual([]);
  expect(threadNices(api).filter((t) => t.nice !== inherited)).toEqual([]);
};

const auditEvent = (tag: string) => ({ kind: 'audit', event_id: randomUUID(), event_type: 'invoice_paid', user_id: `u-${tag}` });

it('runs the worker in a child process, restarts it when it dies, and loses or doubles nothing it acknowledged', async () => {
  const ingestKey = await createApiKey(ns, 'wp-app', ['ingest']);
  const queryKey = await createApiKey(ns, 'wp-analyst', ['query'], 'wp-app');
  server = await spawnAuditflow(ns.env({ FLUSH_MAX_AGE_MS: '100', LOG_LEVEL: 'info', WORKER_NICE: '7' }), 60_000);
  const base = `http://127.0.0.1:${server.port}`;
  const mainPid = server.child.pid!;
  const firstWorker = await workerPid(server, 'worker process ready');
  expect(firstWorker).not.toBe(mainPid);
  // Started as plain `node dist/main.js`, the worker still gets the server's V8 flags from its fork.
  const workerArgs = fs.readFileSync(`/proc/${firstWorker}/cmdline`, 'utf8').split('\0');
  for (const flag of SERVER_NODE_FLAGS) expect(workerArgs).toContain(flag);
  expectWorkerNice(firstWorker, mainPid, 7);

  const sent: string[] = [];
  const post = async (tag: string) => {
    const events = Array.from({ length: 20 }, () => auditEvent(tag));
    const response = await postEvents(base, ingestKey, events);
    expect(response.status).toBe(202);
    sent.push(...events.map((e) => e.event_id));
  };
  await post('before');

  // /metrics of the main process includes the worker's flushes: they happen only in the child.
  await eventually(async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    return /auditflow_clickhouse_flush_rows_count\{table="audit_logs"\} [1-9]/.test(text);
  });

  // The worker dies: the API goes on accepting into Redis, /readyz says which part is missing.
  const logsBefore = server.logs.length;
  process.kill(firstWorker, 'SIGKILL');
  await eventually(async () => {
    const ready = await fetch(`${base}/readyz`);
    const body = (await ready.json()) as { checks: Record<string, string> };
    return ready.status === 503 && body.checks.worker !== 'ok';
  });
  await post('while-down');
  const secondWorker = await workerPid(server, 'worker process restarted', logsBefore);
  expect(secondWorker).not.toBe(firstWorker);
  await post('after');

  const analyst = createClient({ url: `${base}/clickhouse`, password: queryKey, log: { level: ClickHouseLogLevel.OFF } });
  try {
    const stored = await eventually(async () => {
      const result = await analyst.query({
        query: 'SELECT count() AS n, uniqExact(event_id) AS u FROM audit_logs WHERE event_id IN {ids:Array(UUID)}',
        query_params: { ids: sent },
        format: 'JSONEachRow',
      });
      const [row] = await result.json<{ n: string; u: string }>();
      return Number(row!.n) === sent.length ? row : undefined;
    }, 60_000);
    expect({ count: Number(stored!.n), unique: Number(stored!.u) }).toEqual({ count: 60, unique: 60 });
  } finally {
    await analyst.close();
  }
  // By now the restarted worker's store has written and answered queries: threads it started late inherit the value.
  expectWorkerNice(secondWorker, mainPid, 7);

  // A main process killed outright leaves no worker behind, and the store is free for the next start.
  server.child.kill('SIGKILL');
  await server.exited;
  await eventually(async () => !isAlive(secondWorker), 30_000);
  server = await spawnAuditflow(ns.env({ LOG_LEVEL: 'info' }), 60_000);
  const third = await workerPid(server, 'worker process ready');
  expect(isAlive(third)).toBe(true);
  server.child.kill('SIGTERM');
  expect(await server.exited).toEqual({ code: 0, signal: null });
  expect(isAlive(third)).toBe(false);
}, 240_000);

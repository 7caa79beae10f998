import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { QUEUE_NAMES } from '../../src/queues/queue-names';
import { api, signUp } from '../helpers/accounts';
import { spawnAuditflow, type AuditflowProcess } from '../helpers/child';
import { sample } from '../helpers/prometheus';
import { ThrowawayRedis } from '../helpers/redis-server';
import { capturingLogger } from '../helpers/captured-logs';
import { countEvents, expectStoredOnce, leaveSpool, ownEvents, spoolDir, spooledEvents, spoolSegments } from '../helpers/spool';
import { queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually, type TestNamespace } from '../helpers/test-env';

let redis: ThrowawayRedis;
const namespaces: TestNamespace[] = [];
/** Each test its own namespace: its own spool, database and ClickHouse store. */
function namespace(label: string): TestNamespace {
  const ns = createNamespace(label);
  namespaces.push(ns);
  return ns;
}

beforeAll(async () => {
  redis = await ThrowawayRedis.start();
});
afterAll(async () => {
  await redis.stop();
  for (const ns of namespaces) await ns.cleanup();
});

type Stack = Awaited<ReturnType<typeof startStack>>;

it('loses nothing acknowledged when the API is killed (SIGKILL) while it spools', async () => {
  const ns = namespace('spoolkill');
  await redis.restart();
  let child = await spawnAuditflow(ns.env({ ROLE: 'api', REDIS_URL: redis.url }));
  let worker: Stack | undefined;
  try {
    const base = `http://127.0.0.1:${child.port}`;
    const { token } = await signUp(base, ns, `kill-${randomUUID()}@example.com`);
    await redis.stop();

    // Six clients create todos as fast as they are answered; the API dies under them.
    const acknowledged: string[] = [];
    let stopped = false;
    const clients = Array.from({ length: 6 }, async (_, c) => {
      for (let i = 0; !stopped; i++) {
        try {
          const res = await api<{ id: string }>(base, 'POST', '/todos', { token, body: { title: `client ${c} todo ${i}` } });
          if (res.status === 201) acknowledged.push(res.body.id);
          else throw new Error(`unexpected ${res.status}`);
        } catch (error) {
          if (!stopped) throw error;
        }
      }
    });
    await eventually(async () => acknowledged.length >= 40, 20_000, 10);
    stopped = true;
    child.child.kill('SIGKILL');
    await child.exited;
    await Promise.allSettled(clients);

    // Every acknowledged todo's audit event is on disk, in a whole record.
    const onDisk = spooledEvents(ns.dataDir);
    const spooledTodos = new Set(onDisk.filter((e) => e.event_type === 'todo_created').map((e) => (e as Record<string, unknown>).entity_id));
    expect(acknowledged.filter((id) => !spooledTodos.has(id))).toEqual([]);

    // A new API process replays what the dead one left, at start.
    await redis.restart();
    child = await spawnAuditflow(ns.env({ ROLE: 'api', REDIS_URL: redis.url }));
    await eventually(async () => spoolSegments(ns.dataDir).length === 0, 20_000);
    worker = await startStack(ns, { ROLE: 'worker', REDIS_URL: redis.url, FLUSH_MAX_AGE_MS: '100' });
    await expectStoredOnce(
      worker,
      onDisk.map((e) => e.event_id),
    );
    const rows = await queryRows<{ id: string; n: number }>(
      worker.clickhouse!,
      `SELECT entity_id AS id, count() AS n FROM audit_logs WHERE event_type = 'todo_created' AND has({ids:Array(String)}, entity_id) GROUP BY entity_id`,
      { ids: acknowledged },
    );
    expect(rows.length).toBe(acknowledged.length);
    expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
  } finally {
    child.child.kill('SIGKILL');
    await worker?.stop();
  }
}, 60_000);

it('loses nothing and duplicates nothing when the API is killed (SIGKILL) in the middle of a replay', async () => {
  const ns = namespace('replaykill');
  await redis.restart();
  // A crashed process's spool: many small segments, so that a replay takes a while.
  const batches = Array.from({ length: 1000 }, (_, i) => ownEvents(4, `replay-${i}`));
  await leaveSpool(ns.dataDir, batches);
  const total = spoolSegments(ns.dataDir).length;
  expect(total).toBe(1000);

  // The replay begins while the process is still starting: watch it from the spawn on.
  let first: ChildProcess | undefined;
  const starting = spawnAuditflow(ns.env({ ROLE: 'api', REDIS_URL: redis.url }), 30_000, (c) => (first = c));
  starting.catch(() => undefined); // rejects if it is killed before it has logged that it started
  let child: AuditflowProcess | undefined;
  let worker: Stack | undefined;
  try {
    await eventually(async () => spoolSegments(ns.dataDir).length <= total * 0.7, 20_000, 2);
    const exited = new Promise((r) => first!.once('exit', r));
    first!.kill('SIGKILL');
    await exited;
    const left = spoolSegments(ns.dataDir).length;
    // Killed mid-replay: some segments replayed and deleted, others not yet.
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(total);

    child = await spawnAuditflow(ns.env({ ROLE: 'api', REDIS_URL: redis.url }));
    await eventually(async () => spoolSegments(ns.dataDir).length === 0, 30_000);
    worker = await startStack(ns, { ROLE: 'worker', REDIS_URL: redis.url, FLUSH_MAX_AGE_MS: '100' });
    await expectStoredOnce(
      worker,
      batches.flat().map((e) => e.event_id),
    );
  } finally {
    first?.kill('SIGKILL');
    child?.child.kill('SIGKILL');
    await worker?.stop();
  }
}, 60_000);

it('replays at start what a crashed process left, skipping its torn last line with a warning; a segment replayed twice is stored once', async () => {
  const ns = namespace('replaytorn');
  await redis.restart();
  const { logger, lines: warnings } = capturingLogger();
  const whole = [ownEvents(3, 'a'), ownEvents(2, 'b')];
  const torn = ownEvents(2, 'torn');
  const names = await leaveSpool(ns.dataDir, [...whole, torn]);
  const first = names[0]!;
  const last = names.at(-1)!;
  // The crash hit during the last append: the third segment's only line lost its end.
  const lastFile = path.join(spoolDir(ns.dataDir), last);
  const text = fs.readFileSync(lastFile, 'utf8');
  fs.writeFileSync(lastFile, text.slice(0, text.length - 25));
  const firstCopy = fs.readFileSync(path.join(spoolDir(ns.dataDir), first));

  let stack = await startStack(ns, { REDIS_URL: redis.url, FLUSH_MAX_AGE_MS: '100' }, logger);
  try {
    await eventually(async () => spoolSegments(ns.dataDir).length === 0, 20_000);
    expect(warnings).toContainEqual(expect.objectContaining({ msg: 'skipped a spool record', reason: 'torn last line (a crash during an append)', segment: last }));
    const metrics = await (await fetch(`${stack.url}/metrics`)).text();
    expect(sample(metrics, 'auditflow_spool_skipped_records_total')).toBe(1);
    expect(sample(metrics, 'auditflow_spool_replayed_events_total')).toBe(5);
    const ids = whole.flat().map((e) => e.event_id);
    await expectStoredOnce(stack, ids);
    expect(
      await countEvents(
        stack.clickhouse!,
        torn.map((e) => e.event_id),
      ),
    ).toEqual({ count: 0, unique: 0 });
    await stack.stop();

    // A crash after a segment reached Redis but before it was deleted: it is replayed again on the next start.
    fs.writeFileSync(path.join(spoolDir(ns.dataDir), first), firstCopy);
    stack = await startStack(ns, { REDIS_URL: redis.url, FLUSH_MAX_AGE_MS: '100' }, logger);
    await eventually(async () => spoolSegments(ns.dataDir).length === 0, 20_000);
    const replayed = await (await fetch(`${stack.url}/metrics`)).text();
    expect(sample(replayed, 'auditflow_spool_replayed_events_total')).toBe(3);
    // Once the queue is drained, the repeats have reached the writer.
    const queue = new Queue(QUEUE_NAMES.ingest, { connection: { url: redis.url }, prefix: ns.queuePrefix });
    try {
      await eventually(async () => {
        const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
        return Object.values(c).every((n) => n === 0);
      }, 20_000);
    } finally {
      await queue.close();
    }
    await expectStoredOnce(stack, ids);
  } finally {
    await stack.stop();
  }
}, 60_000);

it('stops cleanly on SIGTERM while Redis is down, with the last requests’ events in the spool', async () => {
  const ns = namespace('spoolterm');
  await redis.restart();
  const child = await spawnAuditflow(ns.env({ ROLE: 'api', REDIS_URL: redis.url }));
  try {
    const base = `http://127.0.0.1:${child.port}`;
    const { token } = await signUp(base, ns, `term-${randomUUID()}@example.com`);
    await redis.stop();
    const created = await api<{ id: string }>(base, 'POST', '/todos', { token, body: { title: 'just before SIGTERM' } });
    expect(created.status).toBe(201);
    const started = Date.now();
    child.child.kill('SIGTERM');
    const exit = await child.exited;
    expect(child.stderr).toEqual([]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(spooledEvents(ns.dataDir).some((e) => (e as Record<string, unknown>).entity_id === created.body.id)).toBe(true);
  } finally {
    child.child.kill('SIGKILL');
  }
}, 60_000);

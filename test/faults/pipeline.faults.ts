/**
 * Faults injected into the real pipeline under sustained ingest, each with
 * its figures (acknowledged, in ClickHouse, lost, duplicates, time to
 * recover, status codes) written to docs/reliability.md at the end of the run.
 * Roles run as child processes (`node dist/main.js`) wherever one is killed.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { Pool } from 'pg';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/env';
import { openClickHouse } from '../../src/lib/clickhouse';
import { KeyRing } from '../../src/lib/key-ring';
import { SigningKey } from '../../src/lib/signing-key';
import { QUEUE_NAMES, type IngestJob } from '../../src/queues/queue-names';
import { IntegrityVerifier } from '../../src/features/integrity/integrity-verifier';
import { SealRepository } from '../../src/features/integrity/seal.repository';
import { ProcessSampler, sleep } from '../../traffic/load';
import { auditEvent, batchBody } from '../../traffic/workload';
import { api, type LoginAnswer, signUp } from '../helpers/accounts';
import { runCliAsync, spawnAuditflow, type AuditflowProcess } from '../helpers/child';
import { spooledEvents, spoolSegments } from '../helpers/spool';
import { ThrowawayRedis } from '../helpers/redis-server';
import { ThrowawayPostgres } from '../helpers/postgres-server';
import { createApiKey, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually, REDIS_URL, type TestNamespace } from '../helpers/test-env';
import { runLoadProcesses, statusSummary } from './ingest-client';
import { BacklogSampler, BENCH_TABLE, IngestLoad, tally, type Tally } from './ingest-load';
import { recordFigure } from './reliability-report';

const ingestKeys = (ns: TestNamespace) => `${ns.queuePrefix}:${QUEUE_NAMES.ingest}`;

/** Waits for a child to exit; SIGKILLs it after `ms` and says so. */
async function exitWithin(
  proc: Awaited<ReturnType<typeof spawnAuditflow>>,
  ms: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean; stuck?: string; exitMs: number }> {
  let stuck: string | undefined;
  const started = performance.now();
  const timer = setTimeout(() => {
    // What it was doing when it had to be killed: its RSS and the kernel wait channel of its main thread.
    try {
      const pid = proc.child.pid!;
      const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
      stuck = `RSS ${Math.round(rss)} MB, main thread in ${fs.readFileSync(`/proc/${pid}/wchan`, 'utf8')}`;
    } catch {
      /* already gone */
    }
    proc.child.kill('SIGKILL');
  }, ms);
  const exit = await proc.exited;
  clearTimeout(timer);
  return { ...exit, killed: exit.signal === 'SIGKILL', stuck, exitMs: performance.now() - started };
}

async function storeTally(ns: TestNamespace, acked: ReadonlySet<string>): Promise<Tally> {
  const clickhouse = await openClickHouse(ns.config().clickhouse);
  try {
    return await tally(clickhouse, acked);
  } finally {
    await clickhouse.close();
  }
}

/** A scenario's teardown: stop sampling, kill what is still running, remove the throwaway Redis, its files and the namespace. */
async function tearDown(parts: { sampler: BacklogSampler; processes: (AuditflowProcess | undefined)[]; redis?: ThrowawayRedis; dirs?: string[]; ns: TestNamespace }): Promise<void> {
  await parts.sampler.stop();
  for (const p of parts.processes) if (p && p.child.exitCode === null) p.child.kill('SIGKILL');
  await parts.redis?.stop();
  for (const dir of parts.dirs ?? []) fs.rmSync(dir, { recursive: true, force: true });
  await parts.ns.cleanup();
}

/**
 * Waits until the ingest queue holds no job in any unfinished state, for as long as the backlog keeps
 * going down: fails once it has not reached a new low for `stallMs`. How long a drain takes is the
 * machine's speed (and, under libfaketime, the cost of every clock read in the worker), not the
 * product's correctness; a pipeline that is stuck stops draining, whatever the machine.
 */
async function drained(sampler: BacklogSampler, stallMs: number): Promise<void> {
  let low = Number.POSITIVE_INFINITY;
  let lowAt = Date.now();
  for (;;) {
    const jobs = sampler.samples.at(-1)?.jobs;
    if (jobs === 0) return;
    if (jobs !== undefined && jobs !== null && jobs < low) {
      low = jobs;
      lowAt = Date.now();
    }
    if (Date.now() - lowAt > stallMs) throw new Error(`the ingest backlog stopped draining: ${low} jobs at its lowest, none fewer for ${stallMs} ms`);
    await sleep(250);
  }
}

describe.each([
  { order: 1, label: 'no persistence (as the test Redis)', args: [] as string[], signal: 'SIGTERM' as const },
  { order: 2, label: 'AOF everysec, clean restart', args: ['--appendonly', 'yes', '--appendfsync', 'everysec'], signal: 'SIGTERM' as const },
  { order: 3, label: 'AOF everysec, Redis killed (SIGKILL)', args: ['--appendonly', 'yes', '--appendfsync', 'everysec'], signal: 'SIGKILL' as const },
])('Redis restarted during sustained ingest: $label', ({ order, label, args, signal }) => {
  it('acknowledges nothing it then loses (bounded by the persistence Redis has), and doubles nothing', async () => {
    const ns = createNamespace(`faultredis${order}`);
    const aofDir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-aof-'));
    const redis = await ThrowawayRedis.start(args.length ? [...args, '--dir', aofDir] : []);
    const redisUrl = redis.url;
    const key = await createApiKey(ns, 'fault-redis');
    const server = await spawnAuditflow(ns.env({ REDIS_URL: redisUrl, ROLE: 'api,worker', FLUSH_MAX_AGE_MS: '200' }));
    const load = new IngestLoad({ port: server.port!, key, concurrency: 4, durationMs: 30_000, paceMs: 200 });
    const sampler = new BacklogSampler(redisUrl, ingestKeys(ns), () => load.now());
    try {
      sampler.start();
      const running = load.run();
      await sleep(10_000);
      const faultAt = load.now();
      await redis.stop(signal);
      await sleep(2000);
      await redis.restart();
      const faultEnd = load.now();
      await running;
      await drained(sampler, 120_000);
      server.child.kill('SIGTERM');
      await server.exited;
      const figures = await storeTally(ns, load.acked);
      // What a Redis crash may take with everysec: the events acknowledged in the last second before it.
      const lastSecond = load.timeline.filter((r) => r.status === 202 && r.t > faultAt - 1000 && r.t <= faultAt).length * 100;
      const baseline = sampler.peak(0, faultAt);
      const waitingAtFault = sampler.waitingBefore(faultAt);
      const expectedLoss = args.length === 0 ? 'whatever was queued and not yet written' : signal === 'SIGTERM' ? '0' : `≤ 1 s of acknowledged events (${lastSecond})`;
      const ok = figures.duplicates === 0 && (args.length === 0 || (signal === 'SIGTERM' ? figures.lost === 0 : figures.lost <= lastSecond));
      recordFigure({
        order,
        fault: `Redis restarted during sustained ingest (${label})`,
        expected: `503 + Retry-After while down; lost: ${expectedLoss}; 0 duplicates`,
        ...figures,
        recoveryMs: sampler.backTo(baseline, faultEnd),
        firstAckMs: load.firstAckAfter(faultEnd),
        statuses: load.statusSummary(),
        ok,
        notes:
          `Redis down ${((faultEnd - faultAt) / 1000).toFixed(1)} s (${signal}), ~${Math.round(load.offeredEvents / 30)} events/s offered by 4 clients that resend a post answered 429/503 (${load.resent} resent). ` +
          `Backlog before the fault ≤ ${baseline} jobs (mostly active: the worker holds up to ${loadConfig({}).worker.concurrency} at once), ${waitingAtFault} waiting for a worker in the last sample before the stop; recovery = until the backlog was back to ${baseline}.` +
          (figures.unacknowledgedStored ? ` ${figures.unacknowledgedStored} stored events were never acknowledged (answered 503 or cut off): not a loss.` : ''),
      });
      expect(figures.duplicates).toBe(0);
      if (args.length > 0 && signal === 'SIGTERM') expect(figures.lost).toBe(0);
      if (args.length > 0 && signal === 'SIGKILL') expect(figures.lost).toBeLessThanOrEqual(lastSecond);
    } finally {
      await tearDown({ sampler, processes: [server], redis, dirs: [aofDir], ns });
    }
  }, 300_000);
});

it('Redis restarted while the todo API is in use: every acknowledged own event is spooled and replayed, none doubled', async () => {
  const ns = createNamespace('faultspool');
  // AOF everysec, as production should run: without persistence a job already in Redis dies with it (see below), which is not what this row measures.
  const aofDir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-aof-'));
  const redis = await ThrowawayRedis.start(['--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', aofDir]);
  const server = await spawnAuditflow(ns.env({ REDIS_URL: redis.url, ROLE: 'api,worker', FLUSH_MAX_AGE_MS: '200' }));
  const url = `http://127.0.0.1:${server.port}`;
  const sampler = new BacklogSampler(redis.url, ingestKeys(ns), () => performance.now() - started);
  const started = performance.now();
  try {
    const { token } = await signUp(url, ns, 'spool-user@example.com');
    const acked = new Set<string>();
    const statuses: Record<string, number> = {};
    const timeline: { t: number; status: number }[] = [];
    const durationMs = 25_000;
    sampler.start();
    // Four users' worth of clicks: each created todo is one audited action (todo_created) the response acknowledges.
    const clicks = Array.from({ length: 4 }, async (_, loop) => {
      for (let i = 0; performance.now() - started < durationMs && i < 10_000; i++) {
        let status: number | string;
        try {
          const res = await fetch(`${url}/todos`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ title: `spool ${loop}-${i}` }),
            signal: AbortSignal.timeout(15_000),
          });
          status = res.status;
          const body = (await res.json().catch(() => ({}))) as { id?: string };
          if (res.status === 201 && body.id) acked.add(body.id);
        } catch {
          status = 'connection_error';
        }
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (typeof status === 'number') timeline.push({ t: performance.now() - started, status });
        await sleep(status === 201 ? 20 : 200);
      }
    });
    await sleep(8000);
    const faultAt = performance.now() - started;
    await redis.stop('SIGKILL');
    await sleep(3000);
    const spooledDuringOutage = spooledEvents(ns.dataDir).length;
    await redis.restart();
    const faultEnd = performance.now() - started;
    await Promise.all(clicks);
    await eventually(async () => spoolSegments(ns.dataDir).length === 0 || spooledEvents(ns.dataDir).length === 0, 60_000, 250);
    await drained(sampler, 60_000);
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    const clickhouse = await openClickHouse(ns.config().clickhouse);
    let figures: Tally;
    try {
      const rows = await queryRows<{ id: string }>(clickhouse, `SELECT entity_id AS id FROM audit_logs WHERE event_type = 'todo_created'`);
      const stored = new Set(rows.map((r) => r.id));
      const [totals] = await queryRows<{ n: number; u: number }>(clickhouse, 'SELECT count() AS n, uniqExact(source_app, event_id) AS u FROM audit_logs');
      let lost = 0;
      for (const id of acked) if (!stored.has(id)) lost++;
      figures = { acknowledged: acked.size, inClickHouse: stored.size, lost, duplicates: Number(totals!.n) - Number(totals!.u), unacknowledgedStored: stored.size - (acked.size - lost) };
    } finally {
      await clickhouse.close();
    }
    const during = timeline.filter((r) => r.t >= faultAt && r.t < faultEnd);
    recordFigure({
      order: 4,
      fault: 'Redis restarted while the todo/auth API is in use (the API’s own events)',
      expected: 'own events spooled to $DATA_DIR with fsync while Redis is down, replayed in order; with AOF everysec 0 lost, 0 duplicates',
      ...figures,
      recoveryMs: sampler.backTo(sampler.peak(0, faultAt), faultEnd),
      firstAckMs: timeline.find((r) => r.t >= faultAt && r.status === 201) ? timeline.find((r) => r.t >= faultAt && r.status === 201)!.t - faultAt : null,
      statuses: Object.entries(statuses)
        .map(([k, v]) => `${k}×${v}`)
        .join(', '),
      ok: figures.lost === 0 && figures.duplicates === 0 && exit.code === 0,
      notes:
        `4 clients creating todos (POST /todos, each answered 201 only once its todo_created and api_access events are in Redis or the spool) for 25 s; Redis (AOF everysec) SIGKILLed 8 s in and restarted 3 s later. Without persistence a run lost 1 of 2,907: a todo whose job was already in Redis, waiting, when Redis died, i.e. the no-persistence loss described below, not the spool's. ` +
        `${during.filter((r) => r.status === 201).length} todos were acknowledged while Redis was down; ${spooledDuringOutage} events sat in the spool before the restart. ` +
        '"first 202" column: the first 201 after Redis was killed (the spool answers without Redis). Counted by entity_id of the todo_created rows.',
    });
    expect(figures).toMatchObject({ lost: 0, duplicates: 0 });
  } finally {
    await tearDown({ sampler, processes: [server], redis, dirs: [aofDir], ns });
  }
}, 300_000);

it('the worker SIGKILLed under load (mid-flush): its jobs are re-run, nothing lost, nothing doubled', async () => {
  const ns = createNamespace('faultkill');
  const key = await createApiKey(ns, 'fault-kill');
  const workerEnv = ns.env({ ROLE: 'worker', FLUSH_MAX_ROWS: '2000', FLUSH_MAX_AGE_MS: '300', JOB_LOCK_MS: '2000' });
  const apiServer = await spawnAuditflow(ns.env({ ROLE: 'api' }));
  let worker = await spawnAuditflow(workerEnv);
  const load = new IngestLoad({ port: apiServer.port!, key, concurrency: 4, durationMs: 25_000, paceMs: 200 });
  const sampler = new BacklogSampler(REDIS_URL, ingestKeys(ns), () => load.now());
  try {
    sampler.start();
    const running = load.run();
    await sleep(8000);
    const faultAt = load.now();
    worker.child.kill('SIGKILL');
    await worker.exited;
    worker = await spawnAuditflow(workerEnv);
    const faultEnd = load.now();
    await running;
    await drained(sampler, 120_000);
    worker.child.kill('SIGTERM');
    await worker.exited;
    const figures = await storeTally(ns, load.acked);
    const baseline = sampler.peak(0, faultAt);
    recordFigure({
      order: 5,
      fault: 'the worker killed with SIGKILL in the middle of a flush',
      expected: 'stalled jobs re-run by the next worker; 0 lost, 0 duplicates',
      ...figures,
      recoveryMs: sampler.backTo(baseline, faultEnd),
      firstAckMs: load.firstAckAfter(faultAt),
      statuses: load.statusSummary(),
      ok: figures.lost === 0 && figures.duplicates === 0,
      notes:
        `Killed ${(faultAt / 1000).toFixed(1)} s into a 25 s load of ~${Math.round(load.offeredEvents / 25)} events/s (flushes every 300 ms, so a flush is usually in flight); the replacement took ${((faultEnd - faultAt) / 1000).toFixed(1)} s to start (chDB). ` +
        'Recovery = until the backlog was back to its level before the kill. The exact "rows of a job half written" case is pinned in test/workers/crash-recovery.test.ts (npm test).',
    });
    expect(figures).toMatchObject({ lost: 0, duplicates: 0 });
  } finally {
    await tearDown({ sampler, processes: [apiServer, worker], ns });
  }
}, 300_000);

it('ClickHouse inserts failing for 60 s: retried with backoff, nothing lost, nothing doubled, the chain intact', async () => {
  const ns = createNamespace('faultch');
  // In this process, so the test can take the table away on the embedded store the worker owns.
  const stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '200' });
  const key = await createApiKey(ns, 'fault-ch');
  const pg = new Pool({ connectionString: ns.databaseUrl, max: 2 });
  const load = new IngestLoad({ port: stack.port!, key, concurrency: 2, durationMs: 85_000, paceMs: 250 });
  const sampler = new BacklogSampler(REDIS_URL, ingestKeys(ns), () => load.now());
  try {
    sampler.start();
    const running = load.run();
    await sleep(10_000);
    const faultAt = load.now();
    // A real ClickHouse-side failure: every insert (and the writer's dedup read) answers UNKNOWN_TABLE.
    await stack.clickhouse!.command({ query: `RENAME TABLE ${BENCH_TABLE} TO ${BENCH_TABLE}_outage` });
    await sleep(60_000);
    await stack.clickhouse!.command({ query: `RENAME TABLE ${BENCH_TABLE}_outage TO ${BENCH_TABLE}` });
    const faultEnd = load.now();
    const peak = sampler.peak(faultAt, faultEnd);
    await running;
    await drained(sampler, 180_000);
    const figures = await tally(stack.clickhouse!, load.acked);
    const [dead] = await queryRows<{ n: number }>(stack.clickhouse!, 'SELECT count() AS n FROM dead_letter_events');
    const signing = SigningKey.load(undefined, ns.config().keysDir);
    const verification = await new IntegrityVerifier(stack.clickhouse!, KeyRing.of(signing.publicKey), new SealRepository(pg, stack.clickhouse!)).verify();
    const baseline = sampler.peak(0, faultAt);
    const ok = figures.lost === 0 && figures.duplicates === 0 && Number(dead!.n) === 0 && verification.ok;
    recordFigure({
      order: 6,
      fault: 'ClickHouse inserts failing for 60 s',
      expected: 'retried with backoff, nothing lost, nothing doubled',
      ...figures,
      recoveryMs: sampler.backTo(baseline, faultEnd),
      firstAckMs: load.firstAckAfter(faultAt),
      statuses: load.statusSummary(),
      ok,
      notes:
        `The target table renamed away for 60 s (every INSERT and dedup read fails with UNKNOWN_TABLE, which the writer treats as transient), ~${Math.round(load.offeredEvents / 85)} events/s offered throughout. ` +
        `The API kept acknowledging (the events wait in Redis); up to ${peak} jobs were waiting or in backoff. Dead letters: ${dead!.n}. Integrity verification after recovery: ${verification.ok ? 'OK' : 'BROKEN'}. ` +
        'Recovery = until the backlog was back to its pre-fault level; the jobs in backoff are retried as soon as a flush succeeds again (IngestBackoffRetry), not at the end of their backoff (1 s doubling per attempt).',
    });
    expect(figures).toMatchObject({ lost: 0, duplicates: 0 });
    expect(Number(dead!.n)).toBe(0);
    expect(verification.ok).toBe(true);
  } finally {
    await sampler.stop();
    await pg.end();
    await stack.stop();
    await ns.cleanup();
  }
}, 400_000);

it('a poison event goes to dead letters and the rest of its batch is written', async () => {
  const ns = createNamespace('faultpoison');
  const stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100', JOB_ATTEMPTS: '1' });
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue<IngestJob>(QUEUE_NAMES.ingest, { connection: redis, prefix: ns.queuePrefix });
  try {
    const receivedAt = new Date().toISOString();
    const goodIds = Array.from({ length: 99 }, () => randomUUID());
    const good = goodIds.map((id) => ({ ...auditEvent(id), client_event_id: true, content_hash: id }));
    const poisonId = randomUUID();
    // ClickHouse cannot store a duration of "abc": a job built behind the API's back, as an older producer might.
    const poison = { ...auditEvent(poisonId), duration_ms: 'abc', client_event_id: true, content_hash: poisonId };
    const started = performance.now();
    await queue.add('events', { batches: [{ sourceApp: 'legacy-app', receivedAt, events: [...good.slice(0, 50), poison, ...good.slice(50)] as never }] });
    const acked = new Set(goodIds);
    const dead = await eventually(async () => {
      const rows = await queryRows<{ id: string; error: string }>(stack.clickhouse!, 'SELECT toString(event_id) AS id, error FROM dead_letter_events');
      return rows.length > 0 && rows;
    }, 30_000);
    await eventually(async () => (await tally(stack.clickhouse!, acked)).lost === 0, 30_000);
    const recoveryMs = performance.now() - started;
    const figures = await tally(stack.clickhouse!, acked);
    const ok = figures.lost === 0 && figures.duplicates === 0 && dead.length === 1 && dead[0]!.id === poisonId;
    recordFigure({
      order: 7,
      fault: 'a poison event (ClickHouse rejects its row)',
      expected: 'to dead letters; the rest of its batch written',
      ...figures,
      recoveryMs,
      statuses: 'queued directly (the API validates, so it cannot send one)',
      ok,
      notes: `One job of 100 events, one with duration_ms "abc". Dead letters: ${dead.length} (${dead.map((d) => d.error.slice(0, 60)).join('; ')}). Recovery = from queueing to all 99 good rows written.`,
    });
    expect(ok).toBe(true);
  } finally {
    await queue.close();
    await redis.quit();
    await stack.stop();
    await ns.cleanup();
  }
}, 120_000);

it('10× the sustainable load is shed with 429/503 before Redis memory runs out', async () => {
  const ns = createNamespace('faultflood');
  const maxmemory = 48 * 1024 * 1024;
  const redis = await ThrowawayRedis.start(['--maxmemory', String(maxmemory), '--maxmemory-policy', 'noeviction']);
  const redisUrl = redis.url;
  const key = await createApiKey(ns, 'fault-flood');
  // API and worker in processes of their own, as a loaded deployment runs them: the writer's flushes do not stall the API's answers.
  const worker = await spawnAuditflow(ns.env({ REDIS_URL: redisUrl, ROLE: 'worker' }));
  // Admission at the product's defaults (lag and a busy event loop), which test namespaces turn off: a flood
  // is what they are for. Without them the API takes posts until its own CPU is the limit, and the
  // clients, on the same two cores, could offer only ~3× what the pipeline sustains.
  const server = await spawnAuditflow(ns.env({ REDIS_URL: redisUrl, ROLE: 'api', INGEST_MAX_LAG_MS: '1000', INGEST_MAX_BUSY_PERCENT: '95' }));
  const floodMs = 30_000;
  const t0 = performance.now();
  const clock = () => performance.now() - t0;
  const sampler = new BacklogSampler(redisUrl, ingestKeys(ns), clock);
  const memory = new Redis(redisUrl);
  const apiRss = new ProcessSampler([server.child.pid!]);
  const early: string[] = [];
  let finished = false;
  for (const [name, p] of [
    ['API', server],
    ['worker', worker],
  ] as const) {
    void p.exited.then((e) => {
      if (!finished) early.push(`the ${name} exited during the run (code ${e.code}, signal ${e.signal}; last error: ${(p.stderr.at(-1) ?? 'none').slice(0, 300)})`);
    });
  }
  let peakMemory = 0;
  const memoryTimer = setInterval(() => {
    void memory.info('memory').then(
      (info) => (peakMemory = Math.max(peakMemory, Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0))),
      () => undefined,
    );
  }, 100);
  try {
    sampler.start();
    apiRss.start();
    // The sustainable rate, measured now on this very stack: 4 clients with no pause for 5 s, and what
    // reached ClickHouse per second from their start until the backlog they left was written.
    // (Short: its idempotency records stay in Redis for the flood, ~6 MiB a second of it.)
    const baseline = new IngestLoad({ port: server.port!, key, concurrency: 4, durationMs: 5_000 });
    const baselineStart = clock();
    await baseline.run();
    await drained(sampler, 120_000);
    const sustainable = baseline.acked.size / ((clock() - baselineStart) / 1000);
    const memoryBefore = Number(/used_memory:(\d+)/.exec(await memory.info('memory'))?.[1] ?? 0);
    peakMemory = 0;
    // The flood: several processes, so the load is not capped by one event loop; 500-event posts, so
    // that what the API can refuse a second on these two cores still offers 10× a pipeline this fast.
    const processes = 3;
    const concurrency = 128;
    const eventsPerPost = 1000;
    const floodStart = clock();
    const flood = await runLoadProcesses(processes, { port: server.port!, key, concurrency, durationMs: floodMs, eventsPerPost });
    const loadEnd = clock();
    await drained(sampler, 240_000);
    const drainMs = clock() - loadEnd;
    clearInterval(memoryTimer);
    finished = true;
    const rss = apiRss.stop();
    const peakRssMb = Math.max(...rss.map((r) => r.rssMb));
    for (const p of [server, worker]) p.child.kill('SIGTERM');
    const exits = await Promise.all([exitWithin(server, 45_000), exitWithin(worker, 45_000)]);
    const acked = new Set([...baseline.acked, ...flood.acked]);
    const figures = await storeTally(ns, acked);
    const floodSeconds = (loadEnd - floodStart) / 1000;
    const offered = flood.offeredEvents / floodSeconds;
    const multiple = offered / sustainable;
    const oomErrors = [...server.stderr, ...worker.stderr].filter((l) => /OOM/.test(l)).length;
    const ackedPerSecond = flood.acked.size / floodSeconds;
    const statuses = { ...flood.statuses };
    for (const [status, n] of Object.entries(baseline.statuses)) statuses[status] = (statuses[status] ?? 0) + n;
    const shed = (flood.statuses['429'] ?? 0) + (flood.statuses['503'] ?? 0);
    const stuck = exits.filter((e) => e.killed).length;
    const ok =
      figures.lost === 0 &&
      figures.duplicates === 0 &&
      shed > 0 &&
      oomErrors === 0 &&
      peakMemory < maxmemory &&
      !statuses['500'] &&
      !statuses['503'] &&
      !statuses.timeout &&
      stuck === 0 &&
      early.length === 0 &&
      multiple >= 10;
    recordFigure({
      order: 8,
      fault: '10× the sustainable load',
      expected: 'shed with 429 before Redis memory runs out (10× offered); 0 lost, 0 duplicates; the API exits on SIGTERM',
      ...figures,
      recoveryMs: drainMs,
      statuses: statusSummary(statuses),
      ok,
      notes:
        `Sustainable rate measured in the run, on the same stack: 4 clients, 100-event posts, no pause, 5 s, then until written: ${Math.round(sustainable).toLocaleString('en-US')} events/s end to end (docs/performance.md: 4,161). ` +
        `Flood: ${processes} client processes × ${concurrency} connections, ${eventsPerPost}-event posts, no pause (a shed post is resent after 50 ms), ${floodSeconds.toFixed(0)} s; API and worker in separate processes: ` +
        `**${Math.round(offered).toLocaleString('en-US')} events/s offered = ${multiple.toFixed(1)}× the sustainable rate** (counting resent posts; new events alone: ${Math.round((flood.offeredEvents - flood.resent * eventsPerPost) / floodSeconds).toLocaleString('en-US')}/s = ${((flood.offeredEvents - flood.resent * eventsPerPost) / floodSeconds / sustainable).toFixed(1)}×); ${Math.round(ackedPerSecond).toLocaleString('en-US')} events/s acknowledged during it (${flood.resent.toLocaleString('en-US')} posts resent). ` +
        `Redis maxmemory ${maxmemory / 1048576} MiB (noeviction): ${(memoryBefore / 1048576).toFixed(1)} MiB used before the flood (the baseline's idempotency records), peak during it ${(peakMemory / 1048576).toFixed(1)} MiB; OOM errors logged: ${oomErrors}. ` +
        `API peak RSS ${Math.round(peakRssMb)} MB; on SIGTERM the API exited in ${(exits[0].exitMs / 1000).toFixed(1)} s (code ${exits[0].code}), the worker in ${(exits[1].exitMs / 1000).toFixed(1)} s (code ${exits[1].code}). ` +
        (stuck
          ? `${exits
              .map((e, i) => (e.killed ? `${['the API', 'the worker'][i]} (${e.stuck ?? '?'})` : ''))
              .filter(Boolean)
              .join(' and ')} did not exit within 45 s of SIGTERM and had to be killed. `
          : '') +
        early.map((e) => `${e}. `).join('') +
        (server.stderr.length + worker.stderr.length
          ? `Errors logged: ${[...server.stderr, ...worker.stderr]
              .slice(-3)
              .map((l) => l.slice(0, 200))
              .join(' / ')}. `
          : '') +
        'Recovery = from the end of the flood until the backlog was drained. Acknowledged, lost and duplicates count the baseline and the flood.',
    });
    expect(ok).toBe(true);
  } finally {
    clearInterval(memoryTimer);
    apiRss.stop();
    memory.disconnect();
    await tearDown({ sampler, processes: [server, worker], redis, ns });
  }
}, 500_000);

it('SIGTERM during load: in-flight jobs are drained into ClickHouse, the rest wait in Redis for the next worker', async () => {
  const ns = createNamespace('faultterm');
  const key = await createApiKey(ns, 'fault-term');
  const server = await spawnAuditflow(ns.env({ FLUSH_MAX_AGE_MS: '1000' }));
  const load = new IngestLoad({ port: server.port!, key, concurrency: 4, durationMs: 15_000, paceMs: 100 });
  const sampler = new BacklogSampler(REDIS_URL, ingestKeys(ns), () => load.now());
  let next: Awaited<ReturnType<typeof spawnAuditflow>> | undefined;
  try {
    sampler.start();
    const running = load.run();
    await sleep(8000);
    const termAt = performance.now();
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    const exitMs = performance.now() - termAt;
    await running;
    const atExit = await storeTally(ns, load.acked);
    const left = sampler.samples.at(-1)?.jobs ?? 0;
    next = await spawnAuditflow(ns.env({ ROLE: 'worker' }));
    await drained(sampler, 60_000);
    next.child.kill('SIGTERM');
    await next.exited;
    const figures = await storeTally(ns, load.acked);
    const ok = exit.code === 0 && figures.lost === 0 && figures.duplicates === 0;
    recordFigure({
      order: 9,
      fault: 'SIGTERM during load',
      expected: 'drained: exits 0, every acknowledged event in ClickHouse or still queued; 0 duplicates',
      ...figures,
      recoveryMs: exitMs,
      statuses: load.statusSummary(),
      ok,
      notes:
        `SIGTERM 8 s into ~${Math.round(load.offeredEvents / 15)} events/s; exit code ${exit.code} after ${(exitMs / 1000).toFixed(1)} s (recovery column = time to exit). ` +
        `At exit ${atExit.inClickHouse.toLocaleString('en-US')} events were in ClickHouse and ${left} job(s) still in Redis; a new worker wrote those, so all ${figures.acknowledged.toLocaleString('en-US')} acknowledged events are in. Connection errors after the exit are the load hitting a closed port.`,
    });
    expect(exit.code).toBe(0);
    expect(figures).toMatchObject({ lost: 0, duplicates: 0 });
  } finally {
    await tearDown({ sampler, processes: [server, next], ns });
  }
}, 300_000);

/** Users creating todos in a loop until `until()`: acknowledged todo ids (201) and every answer's status, with its time. */
function todoClicks(url: string, token: string, users: number, clock: () => number, until: () => boolean) {
  const acked = new Set<string>();
  const timeline: { t: number; status: number | string; retryAfter?: string | null }[] = [];
  const done = Promise.all(
    Array.from({ length: users }, async (_, loop) => {
      for (let i = 0; !until(); i++) {
        let status: number | string;
        let retryAfter: string | null | undefined;
        try {
          const res = await fetch(`${url}/todos`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ title: `pg ${loop}-${i}` }),
            signal: AbortSignal.timeout(15_000),
          });
          status = res.status;
          retryAfter = res.headers.get('retry-after');
          const body = (await res.json().catch(() => ({}))) as { id?: string };
          if (res.status === 201 && body.id) acked.add(body.id);
        } catch {
          status = 'connection_error';
        }
        timeline.push({ t: clock(), status, retryAfter });
        await sleep(status === 201 ? 50 : 250);
      }
    }),
  );
  const summary = () => {
    const counts: Record<string, number> = {};
    for (const r of timeline) counts[r.status] = (counts[r.status] ?? 0) + 1;
    return Object.entries(counts)
      .map(([k, v]) => `${k}×${v}`)
      .join(', ');
  };
  return { acked, timeline, done, summary };
}

/** todo_created rows in audit_logs against the acknowledged todo ids (entity_id), and duplicates over the whole table. */
async function todoTally(ns: TestNamespace, acked: ReadonlySet<string>): Promise<Tally> {
  const clickhouse = await openClickHouse(ns.config().clickhouse);
  try {
    const stored = new Set((await queryRows<{ id: string }>(clickhouse, `SELECT entity_id AS id FROM audit_logs WHERE event_type = 'todo_created'`)).map((r) => r.id));
    const [totals] = await queryRows<{ n: number; u: number }>(clickhouse, 'SELECT count() AS n, uniqExact(source_app, event_id) AS u FROM audit_logs');
    let lost = 0;
    for (const id of acked) if (!stored.has(id)) lost++;
    return { acknowledged: acked.size, inClickHouse: stored.size, lost, duplicates: Number(totals!.n) - Number(totals!.u), unacknowledgedStored: stored.size - (acked.size - lost) };
  } finally {
    await clickhouse.close();
  }
}

it('PostgreSQL stopped for 60 s during ingest and todo/auth use: the process stays up, todo/auth answer 503 + Retry-After, ingest goes on, all resumes without a restart', async () => {
  const ns = createNamespace('faultpg');
  const pgServer = await ThrowawayPostgres.start();
  const databaseUrl = pgServer.url(`af_test_${ns.id}`);
  const key = await createApiKey({ ...ns, databaseUrl }, 'fault-pg');
  const outageMs = 60_000;
  const durationMs = 10_000 + outageMs + 15_000;
  const server = await spawnAuditflow(ns.env({ DATABASE_URL: databaseUrl, FLUSH_MAX_AGE_MS: '200', METRICS_PORT: '0' }));
  const url = `http://127.0.0.1:${server.port}`;
  const load = new IngestLoad({ port: server.port!, key, concurrency: 4, durationMs, paceMs: 200 });
  const sampler = new BacklogSampler(REDIS_URL, ingestKeys(ns), () => load.now());
  try {
    const { token } = await signUp(url, ns, 'pg-user@example.com');
    sampler.start();
    const running = load.run();
    const clicks = todoClicks(
      url,
      token,
      2,
      () => load.now(),
      () => load.now() > durationMs,
    );
    await sleep(10_000);
    const faultAt = load.now();
    await pgServer.stop('fast');
    // /readyz while it is down (the ops server answers it too).
    await sleep(3000);
    const readyDuring = await fetch(`${url}/readyz`).then(async (r) => ({ status: r.status, checks: ((await r.json()) as { checks: Record<string, string> }).checks }));
    await sleep(outageMs - 3000);
    const aliveDuringOutage = server.child.exitCode === null && server.child.signalCode === null;
    await pgServer.restart();
    const faultEnd = load.now();
    const readyAfterMs = await eventually(async () => ((await fetch(`${url}/readyz`)).status === 200 ? load.now() - faultEnd : false), 60_000, 100);
    await running;
    await clicks.done;
    await drained(sampler, 180_000);
    // Own events (todo_created) leave the API through Redis too; let the writer settle them before the tally.
    await sleep(2000);
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    const ingest = await storeTally(ns, load.acked);
    const todos = await todoTally(ns, clicks.acked);
    const during = clicks.timeline.filter((r) => r.t >= faultAt + 1000 && r.t < faultEnd);
    const todo503 = during.filter((r) => r.status === 503);
    const firstTodo = clicks.timeline.find((r) => r.t >= faultEnd && r.status === 201);
    const ingestDuring = load.timeline.filter((r) => r.t >= faultAt && r.t < faultEnd && r.status === 202).length;
    const baseline = sampler.peak(0, faultAt);
    const ok =
      aliveDuringOutage &&
      exit.code === 0 &&
      exit.signal === null &&
      ingest.lost === 0 &&
      ingest.duplicates === 0 &&
      todos.lost === 0 &&
      todos.duplicates === 0 &&
      readyDuring.status === 503 &&
      during.every((r) => r.status === 503 && r.retryAfter === '5') &&
      ingestDuring > 0;
    recordFigure({
      order: 10,
      fault: `PostgreSQL stopped (pg_ctl -m fast) for ${outageMs / 1000} s during ingest and todo use`,
      expected: 'process stays up; todo/auth 503 + Retry-After; ingest 202 from cached keys; /readyz 503; resumes without a restart; 0 lost, 0 duplicates',
      acknowledged: ingest.acknowledged! + todos.acknowledged!,
      inClickHouse: ingest.inClickHouse! + todos.inClickHouse!,
      lost: ingest.lost! + todos.lost!,
      duplicates: ingest.duplicates! + todos.duplicates!,
      unacknowledgedStored: ingest.unacknowledgedStored! + todos.unacknowledgedStored!,
      recoveryMs: sampler.backTo(baseline, faultEnd),
      firstAckMs: firstTodo ? firstTodo.t - faultEnd : null,
      statuses: `ingest ${load.statusSummary()}; todos ${clicks.summary()}`,
      ok,
      notes:
        `4 ingest clients (~${Math.round(load.offeredEvents / (durationMs / 1000))} events/s) and 2 users creating todos; PostgreSQL stopped with \`pg_ctl stop -m fast\` (every session ended with 57P01) 10 s in, started again ${outageMs / 1000} s later. ` +
        `Process alive throughout: ${aliveDuringOutage ? 'yes' : 'NO'}; exit on SIGTERM afterwards: code ${exit.code}, signal ${exit.signal ?? 'none'}. ` +
        `During the outage: ${ingestDuring} ingest posts answered 202 (keys from the cache), ${todo503.length} of ${during.length} todo posts answered 503 with Retry-After: 5, /readyz ${readyDuring.status} (postgres: ${readyDuring.checks.postgres}). ` +
        `/readyz green again ${(readyAfterMs / 1000).toFixed(1)} s after PostgreSQL was back; "first 202" column = first todo 201 after it was back; recovery = until the ingest backlog (seals waiting on PostgreSQL, retried with backoff) was back to its pre-fault level of ${baseline} jobs. ` +
        `Acknowledged: ${ingest.acknowledged} ingest events + ${todos.acknowledged} todos (counted by their todo_created rows).`,
    });
    expect(aliveDuringOutage).toBe(true);
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(readyDuring.status).toBe(503);
    expect(ingestDuring).toBeGreaterThan(0);
    expect(during.filter((r) => r.status !== 503 || r.retryAfter !== '5')).toEqual([]);
    expect(ingest).toMatchObject({ lost: 0, duplicates: 0 });
    expect(todos).toMatchObject({ lost: 0, duplicates: 0 });
  } finally {
    await tearDown({ sampler, processes: [server], ns });
    await pgServer.destroy();
  }
}, 420_000);

it('the disk under DATA_DIR full for 40 s: /readyz says so, ingest sheds with 503 while it is full, nothing lost or doubled once space is back', async () => {
  const ns = createNamespace('faultdisk');
  // A small filesystem of its own under DATA_DIR (tmpfs: needs root), which the test really fills.
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=128m', 'tmpfs', ns.dataDir]);
  const key = await createApiKey(ns, 'fault-disk');
  const stallMs = 5000;
  const fullMs = Number(process.env.FAULT_DISK_FULL_MS ?? 40_000);
  const durationMs = 10_000 + fullMs + 20_000;
  const server = await spawnAuditflow(ns.env({ FLUSH_MAX_AGE_MS: '200', WRITER_STALL_MS: String(stallMs), DISK_MIN_FREE_BYTES: String(16 * 1024 * 1024) }));
  const url = `http://127.0.0.1:${server.port}`;
  const load = new IngestLoad({ port: server.port!, key, concurrency: 4, durationMs, paceMs: 200 });
  const sampler = new BacklogSampler(REDIS_URL, ingestKeys(ns), () => load.now());
  const filler = path.join(ns.dataDir, 'filler');
  const readyz = async () => fetch(`${url}/readyz`).then(async (r) => ({ status: r.status, checks: ((await r.json()) as { checks: Record<string, string> }).checks }));
  try {
    sampler.start();
    const running = load.run();
    await sleep(10_000);
    const faultAt = load.now();
    // Fill every block an unprivileged writer may use.
    const fd = fs.openSync(filler, 'w');
    const chunk = Buffer.alloc(1024 * 1024, 1);
    try {
      for (;;) fs.writeSync(fd, chunk);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    } finally {
      fs.closeSync(fd);
    }
    await sleep(2000);
    const readyFull = await readyz();
    await sleep(stallMs + 3000);
    const readyStalled = await readyz();
    await sleep(fullMs - stallMs - 5000);
    const backlogFull = sampler.peak(faultAt, load.now());
    fs.rmSync(filler);
    const faultEnd = load.now();
    let lastReady: Awaited<ReturnType<typeof readyz>> | undefined;
    const readyAfterMs = await eventually(
      async () => {
        lastReady = await readyz();
        return lastReady.status === 200 ? load.now() - faultEnd : false;
      },
      120_000,
      200,
    ).catch((error: Error) => {
      const said = server.logs
        .filter((l) => Number(l.level) >= 40 && l.msg !== 'request failed')
        .slice(-6)
        .map((l) => `${String(l.msg)} ${JSON.stringify(l.err ?? '').slice(0, 300)}`);
      throw new Error(`${error.message}; /readyz ${JSON.stringify(lastReady)}; last warnings: ${said.join(' | ')}`);
    });
    await running;
    await drained(sampler, 180_000).catch((error: Error) => {
      // What the worker last said, so a stuck recovery explains itself.
      const said = server.logs
        .filter((l) => Number(l.level) >= 40)
        .slice(-8)
        .map((l) => `${String(l.msg)} ${JSON.stringify(l.err ?? '').slice(0, 400)}`);
      throw new Error(`${error.message}; backlog ${sampler.samples.at(-1)?.jobs}; last warnings: ${said.join(' | ')}`);
    });
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    const figures = await storeTally(ns, load.acked).catch((error: Error) => {
      const said = server.logs
        .filter((l) => Number(l.level) >= 40)
        .slice(-8)
        .map((l) => `${String(l.msg)} ${JSON.stringify(l.err ?? '').slice(0, 400)}`);
      throw new Error(
        `${error.message} (cause: ${String((error as { cause?: unknown }).cause ?? '')}); exit ${JSON.stringify(exit)}; stderr: ${server.stderr.slice(-5).join(' | ')}; last warnings: ${said.join(' | ')}`,
      );
    });
    const shedAt = load.timeline.find((r) => r.t >= faultAt && r.status === 503);
    const acceptedWhileShedding = shedAt ? load.timeline.filter((r) => r.t > shedAt.t + 1000 && r.t < faultEnd && r.status === 202).length : null;
    const baseline = sampler.peak(0, faultAt);
    const ok = exit.code === 0 && exit.signal === null && figures.lost === 0 && figures.duplicates === 0 && readyFull.status === 503 && shedAt !== undefined;
    recordFigure({
      order: 11,
      fault: `Disk under DATA_DIR full for ${fullMs / 1000} s (a 128 MiB tmpfs, filled)`,
      expected:
        '/readyz 503 (disk, writer); ingest 503 + Retry-After while the disk is below DISK_MIN_FREE_BYTES (or the writer has failed WRITER_STALL_MS); recovers once space is freed; 0 lost, 0 duplicates',
      ...figures,
      recoveryMs: sampler.backTo(baseline, faultEnd),
      firstAckMs: load.firstAckAfter(faultEnd),
      statuses: load.statusSummary(),
      ok,
      notes:
        `4 clients, ~${Math.round(load.offeredEvents / (durationMs / 1000))} events/s offered; DATA_DIR (store, spool, keys) on a 128 MiB tmpfs, filled with a file 10 s in, the file removed ${fullMs / 1000} s later; WRITER_STALL_MS=${stallMs}. ` +
        `/readyz 2 s into the full disk: ${readyFull.status} (disk: ${readyFull.checks.disk}); ${(stallMs + 5000) / 1000} s in: ${readyStalled.status} (writer: ${readyStalled.checks.writer ?? '–'}). ` +
        `First 503 ${shedAt ? `${((shedAt.t - faultAt) / 1000).toFixed(1)} s after the disk filled` : 'never'}; 202s after shedding began (before space was back): ${acceptedWhileShedding ?? '–'}; backlog peak while full: ${backlogFull} jobs (before: ${baseline}). ` +
        `/readyz green again ${(readyAfterMs / 1000).toFixed(1)} s after space was freed; recovery = until the backlog was back to its pre-fault level. Exit on SIGTERM: code ${exit.code}.`,
    });
    expect(readyFull.status).toBe(503);
    expect(shedAt).toBeDefined();
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(figures).toMatchObject({ lost: 0, duplicates: 0 });
  } finally {
    await tearDown({ sampler, processes: [server], ns: { ...ns, cleanup: async () => undefined } });
    try {
      execFileSync('umount', ['-l', ns.dataDir]);
    } catch {
      /* not mounted */
    }
    await ns.cleanup();
  }
}, 420_000);

it('the worker SIGKILLed while a seal is pending, then restarted: nothing lost or doubled, `auditflow verify` still green', async () => {
  const ns = createNamespace('faultseal');
  const key = await createApiKey(ns, 'fault-seal');
  const workerEnv = ns.env({ ROLE: 'worker', FLUSH_MAX_AGE_MS: '200' });
  const apiServer = await spawnAuditflow(ns.env({ ROLE: 'api' }));
  let worker = await spawnAuditflow(workerEnv);
  const load = new IngestLoad({ port: apiServer.port!, key, concurrency: 4, durationMs: 20_000, paceMs: 200 });
  const sampler = new BacklogSampler(REDIS_URL, ingestKeys(ns), () => load.now());
  const pg = new Pool({ connectionString: ns.databaseUrl, max: 1 });
  try {
    sampler.start();
    const running = load.run();
    await sleep(6000);
    // A seal is pending from its PostgreSQL insert until it is final, around the rows' INSERT: kill inside that window.
    const pending = await eventually(
      async () => (await pg.query<{ seq: string; table_name: string }>(`SELECT seq, table_name FROM integrity_seals WHERE NOT final AND table_name = '${BENCH_TABLE}' LIMIT 1`)).rows[0],
      20_000,
      2,
    );
    worker.child.kill('SIGKILL');
    const faultAt = load.now();
    const killed = await worker.exited;
    worker = await spawnAuditflow(workerEnv);
    const faultEnd = load.now();
    await running;
    await drained(sampler, 120_000);
    worker.child.kill('SIGTERM');
    await worker.exited;
    const figures = await storeTally(ns, load.acked);
    const verify = await runCliAsync(['verify'], ns.env());
    const stillPending = Number((await pg.query<{ n: string }>('SELECT count(*) AS n FROM integrity_seals WHERE NOT final')).rows[0]!.n);
    const baseline = sampler.peak(0, faultAt);
    const ok = figures.lost === 0 && figures.duplicates === 0 && verify.code === 0;
    recordFigure({
      order: 12,
      fault: 'the worker killed with SIGKILL while a seal is pending, then restarted',
      expected: '`auditflow verify` green; 0 lost, 0 duplicates',
      ...figures,
      recoveryMs: sampler.backTo(baseline, faultEnd),
      firstAckMs: load.firstAckAfter(faultAt),
      statuses: load.statusSummary(),
      ok,
      notes:
        `Killed (${killed.signal}) the moment seal ${pending.seq} of ${pending.table_name} was seen pending in PostgreSQL (inserted, not yet final), 6 s into a 20 s load of ~${Math.round(load.offeredEvents / 20)} events/s; the replacement worker took ${((faultEnd - faultAt) / 1000).toFixed(1)} s to start. ` +
        `\`auditflow verify\` afterwards: exit ${verify.code} (${verify.stdout.split('\n').find((l) => /Verified|FAILED|broken/i.test(l)) ?? verify.stdout.slice(0, 200)}); seals still pending at the end: ${stillPending}. Recovery = until the backlog was back to its level before the kill.`,
    });
    expect(figures).toMatchObject({ lost: 0, duplicates: 0 });
    expect(verify.code).toBe(0);
  } finally {
    await pg.end();
    await tearDown({ sampler, processes: [apiServer, worker], ns });
  }
}, 300_000);

/** libfaketime (Debian package `faketime`) moves one process's wall clock while it runs, as a step of its host's clock would. */
const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'].find((p) => fs.existsSync(p));
if (!LIBFAKETIME) console.warn('The wall-clock fault row is skipped: libfaketime is not installed (Debian: apt-get install faketime; .ci/run installs it).');

/**
 * A child's wall clock, `offsetMs` from the real one. The file is re-read at most once a second
 * (FAKETIME_CACHE_DURATION), so a step takes effect within a second; timers and performance.now()
 * stay on the real monotonic clock (FAKETIME_DONT_FAKE_MONOTONIC), as they do when NTP steps a host's clock.
 */
class FakeClock {
  constructor(
    readonly file: string,
    private offsetMs = 0,
  ) {
    this.set(offsetMs);
  }

  env(): Record<string, string> {
    return { LD_PRELOAD: LIBFAKETIME!, FAKETIME_TIMESTAMP_FILE: this.file, FAKETIME_CACHE_DURATION: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' };
  }

  set(offsetMs: number): void {
    this.offsetMs = offsetMs;
    // Renamed into place, so a process never reads a half-written offset.
    fs.writeFileSync(`${this.file}.next`, `${offsetMs < 0 ? '-' : '+'}${Math.abs(offsetMs) / 1000}\n`);
    fs.renameSync(`${this.file}.next`, this.file);
  }

  step(ms: number): void {
    this.set(this.offsetMs + ms);
  }

  now(): number {
    return Date.now() + this.offsetMs;
  }
}

(LIBFAKETIME ? it : it.skip)(
  'the wall clock stepped back an hour and forward again under load: chain, seals, report periods and lockout windows hold, nothing lost or doubled',
  async () => {
    const HOUR = 3_600_000;
    const ns = createNamespace('faultclock');
    const key = await createApiKey(ns, 'fault-clock');
    const revokedKey = await createApiKey(ns, 'fault-clock-revoked');
    const pg = new Pool({ connectionString: ns.databaseUrl, max: 2 });
    // Locks of 30 s, so the run sees one lifted.
    await pg.query(`UPDATE system_settings SET setting_value = '0.5' WHERE setting_key = 'lockout.duration_minutes'`);
    const clockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-clock-'));
    // The API and worker run on the real clock until the step. The scheduler runs on a clock of its own, hours behind,
    // so that the daily reports' slot (00:05 UTC) comes while its clock is stepped back: the step forward then jumps over it.
    const lastSlot = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate(), 0, 5));
    if (lastSlot.getTime() > Date.now() - 5 * 60_000) lastSlot.setUTCDate(lastSlot.getUTCDate() - 1);
    const mainClock = new FakeClock(path.join(clockDir, 'main'));
    const schedulerClock = new FakeClock(path.join(clockDir, 'scheduler'));
    const dayEnd = new Date(lastSlot.getTime() - 5 * 60_000);
    const dayStart = new Date(dayEnd.getTime() - 24 * HOUR);
    const server = await spawnAuditflow(ns.env({ ...mainClock.env(), ROLE: 'api,worker', FLUSH_MAX_AGE_MS: '200' }));
    let scheduler: AuditflowProcess | undefined;
    const url = `http://127.0.0.1:${server.port}`;
    const durationMs = 70_000;
    const load = new IngestLoad({ port: server.port!, key, concurrency: 4, durationMs, paceMs: 200 });
    const sampler = new BacklogSampler(REDIS_URL, ingestKeys(ns), () => load.now());
    const login = (email: string, password: string) => api<LoginAnswer>(url, 'POST', '/auth/login', { body: { email, password } });
    // BullMQ renews a job's lock by comparing wall-clock times: jobs active across a step back lose their locks and are re-run.
    const stalls: number[] = [];
    const queueEvents = new QueueEvents(QUEUE_NAMES.ingest, { connection: { url: REDIS_URL }, prefix: ns.queuePrefix });
    queueEvents.on('stalled', () => stalls.push(load.now()));
    const post = (apiKey: string) =>
      fetch(`${url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: batchBody(1).body }).then((r) => r.status);
    try {
      const { token } = await signUp(url, ns, 'clock-user@example.com');
      const victim = 'clock-victim@example.com';
      await signUp(url, ns, victim);
      expect(await post(revokedKey)).toBe(202); // cached by the API from now on
      await queueEvents.waitUntilReady();
      // Started last (it starts in seconds, the worker's chDB does not), its clock 35 s before the step it is planned for.
      schedulerClock.set(lastSlot.getTime() - 10_000 - 35_000 - Date.now());
      scheduler = await spawnAuditflow(ns.env({ ...schedulerClock.env(), ROLE: 'scheduler' }));
      sampler.start();
      const running = load.run();
      const clicks = todoClicks(
        url,
        token,
        2,
        () => load.now(),
        () => load.now() > durationMs,
      );
      // Three wrong passwords on the real clock, two more after the step back: one lock, counted by PostgreSQL's clock.
      for (let i = 0; i < 3; i++) expect((await login(victim, 'wrong password!')).status).toBe(401);
      // Step back 10 s before the scheduler's clock reaches the slot.
      const waitMs = lastSlot.getTime() - 10_000 - schedulerClock.now();
      if (waitMs < 5000) throw new Error(`the scheduler took too long to start: its clock is ${((10_000 + 35_000 - waitMs) / 1000).toFixed(1)} s past its start, 35 s were planned before the step`);
      await sleep(waitMs);
      const stepBackAt = load.now();
      const stepBackReal = Date.now();
      mainClock.step(-HOUR);
      schedulerClock.step(-HOUR);
      await sleep(1500);
      expect((await login(victim, 'wrong password!')).status).toBe(401);
      const fifth = await login(victim, 'wrong password!');
      const lockedRow = (await pg.query<{ locked_until: Date; lock_count: number }>(`SELECT locked_until, lock_count FROM login_throttle WHERE email = $1`, [victim])).rows[0]!;
      const lockedDuring = await login(victim, 'correct horse battery staple');
      const retryAfterDuring = Number(lockedDuring.headers.get('retry-after'));
      const retryAfterDuringExpected = Math.ceil((lockedRow.locked_until.getTime() - Date.now()) / 1000);
      // A key revoked while the clock is back: the API's 5 s key cache must still run out.
      await pg.query(`UPDATE api_keys SET revoked_at = now() WHERE name = 'fault-clock-revoked'`);
      // A login while the clock is back: its session must be usable.
      const relogin = await login('clock-user@example.com', 'correct horse battery staple');
      const reloginTodos = relogin.status === 200 ? (await api(url, 'GET', '/todos', { token: relogin.body.token })).status : relogin.status;
      await sleep(6500);
      const revokedStatus = await post(revokedKey);
      await sleep(Math.max(0, stepBackAt + 20_000 - load.now()));
      const stepForwardAt = load.now();
      mainClock.step(HOUR);
      schedulerClock.step(HOUR);
      await sleep(1500);
      const lockedAfter = await login(victim, 'correct horse battery staple');
      // Counted while still locked: the right password that opens the account restarts the escalation (lock_count 0).
      const locksBeforeOpen = (await pg.query<{ lock_count: number }>(`SELECT lock_count FROM users WHERE email = $1`, [victim])).rows[0]!.lock_count;
      const retryAfterAfter = Number(lockedAfter.headers.get('retry-after'));
      const retryAfterAfterExpected = Math.ceil((lockedRow.locked_until.getTime() - Date.now()) / 1000);
      // The lock is lifted when PostgreSQL's clock passes locked_until, and not before.
      const earlyOpen: number[] = [];
      const openedAt = await eventually(
        async () => {
          const res = await login(victim, 'correct horse battery staple');
          if (res.status === 200) return Date.now();
          if (res.status !== 423) earlyOpen.push(res.status);
          return null;
        },
        60_000,
        500,
      );
      const unlockLagMs = openedAt - lockedRow.locked_until.getTime();
      // The daily report whose slot the step forward jumped over: made once the scheduler catches up, for its period.
      const reportAfterMs = await eventually(
        async () => {
          const { rows } = await pg.query(`SELECT 1 FROM compliance_reports WHERE report_type = 'daily_security_summary' AND report_period_end = $1`, [dayEnd]);
          return rows.length > 0 ? load.now() - stepForwardAt : null;
        },
        60_000,
        250,
      ).catch(() => null);
      await running;
      const loadEnd = load.now();
      await clicks.done;
      await drained(sampler, 120_000);
      const drainMs = load.now() - loadEnd;
      await sleep(2000);
      scheduler.child.kill('SIGTERM');
      server.child.kill('SIGTERM');
      const exits = await Promise.all([server.exited, scheduler.exited]);
      const ingest = await storeTally(ns, load.acked);
      const todos = await todoTally(ns, clicks.acked);
      const reports = (
        await pg.query<{ report_type: string; start: Date; end: Date; n: string; generated_by: string }>(
          `SELECT report_type, report_period_start AS start, report_period_end AS end, count(*) AS n, min(generated_by) AS generated_by FROM compliance_reports GROUP BY 1, 2, 3 ORDER BY 2`,
        )
      ).rows;
      const daily = reports.filter((r) => r.report_type === 'daily_security_summary');
      const lock = (await pg.query<{ lock_count: number; locked_until: Date | null; status: string }>(`SELECT lock_count, locked_until, status FROM users WHERE email = $1`, [victim])).rows[0]!;
      // sealed_at along each chain: a seal stamped earlier than the one before it breaks selection by time.
      const seals = (await pg.query<{ table_name: string; seq: string; sealed_at: Date }>(`SELECT table_name, seq, sealed_at FROM integrity_seals ORDER BY table_name, seq`)).rows;
      let backwards = 0;
      let deepest = 0;
      let held = 0;
      seals.forEach((s, i) => {
        const before = seals[i - 1];
        if (!before || before.table_name !== s.table_name) return;
        if (s.sealed_at < before.sealed_at) {
          backwards++;
          deepest = Math.max(deepest, before.sealed_at.getTime() - s.sealed_at.getTime());
        }
        if (s.sealed_at.getTime() === before.sealed_at.getTime()) held++;
      });
      const verify = await runCliAsync(['verify'], ns.env());
      // Two consecutive ranges split at the step back: together they must check every seal once, and each be green.
      const clickhouse = await openClickHouse(ns.config().clickhouse);
      let ranges: { ok: boolean; seals: number; breaks: string[] }[];
      let allSeals: number;
      try {
        const verifier = new IntegrityVerifier(clickhouse, KeyRing.of(SigningKey.load(undefined, ns.config().keysDir).publicKey), new SealRepository(pg, clickhouse));
        const split = new Date(stepBackReal - 2000);
        const results = [await verifier.verify({ from: new Date(stepBackReal - 2 * HOUR), to: split }), await verifier.verify({ from: split, to: new Date(Date.now() + 2 * HOUR) })];
        ranges = results.map((r) => ({ ok: r.ok, seals: r.tables.reduce((n, t) => n + t.seals, 0), breaks: r.tables.filter((t) => !t.ok).map((t) => `${t.table}: ${t.first_break?.detail}`) }));
        allSeals = (await verifier.verify()).tables.reduce((n, t) => n + t.seals, 0);
      } finally {
        await clickhouse.close();
      }
      // The backlog at each phase's end, and how fast it grew in each: a step that stalled the writer would show as a steeper climb while the clock was back.
      const backlogAt = (t: number) => [...sampler.samples].reverse().find((x) => x.t <= t && x.jobs !== null)?.jobs ?? 0;
      const phases = [0, stepBackAt, stepForwardAt, loadEnd];
      const growth = phases.slice(1).map((t, i) => (backlogAt(t) - backlogAt(phases[i]!)) / ((t - phases[i]!) / 1000));
      const checks = {
        'every acknowledged event stored once': ingest.lost === 0 && ingest.duplicates === 0 && todos.lost === 0 && todos.duplicates === 0,
        'both processes exit 0': exits.every((e) => e.code === 0 && e.signal === null),
        '`auditflow verify` green': verify.code === 0,
        'no seal stamped earlier than the one before it': backwards === 0,
        'ranges split at the step are green and check every seal once': ranges.every((r) => r.ok) && ranges[0]!.seals + ranges[1]!.seals === allSeals,
        'the stepped-over daily report made once, for its day': daily.length === 1 && daily[0]!.start.getTime() === dayStart.getTime() && Number(daily[0]!.n) === 1,
        'the fifth failure locks once': fifth.status === 401 && lockedRow.lock_count === 1 && lockedDuring.status === 423 && locksBeforeOpen === 1 && lock.lock_count === 0,
        'Retry-After right while the clock is back': Math.abs(retryAfterDuring - retryAfterDuringExpected) <= 2,
        'Retry-After right after the step forward': lockedAfter.status === 423 && Math.abs(retryAfterAfter - retryAfterAfterExpected) <= 2,
        'unlocked on time (PostgreSQL clock), not permanent': earlyOpen.length === 0 && unlockLagMs >= 0 && unlockLagMs < 5000 && lock.locked_until !== null && lock.locked_until.getFullYear() < 9999,
        'a login while the clock is back gets a session that works': relogin.status === 200 && reloginTodos === 200,
        'a key revoked while the clock is back is refused once its cache runs out': revokedStatus === 401,
      };
      const failed = Object.entries(checks)
        .filter(([, ok]) => !ok)
        .map(([name]) => name);
      const fmt = (d: Date) => d.toISOString().slice(0, 16).replace('T', ' ');
      recordFigure({
        order: 13,
        fault: 'the wall clock stepped back 1 h, then forward 1 h (libfaketime), during ingest and todo/auth use',
        expected:
          '0 lost, 0 duplicates; `auditflow verify` green; sealed_at never goes back; the daily report whose slot was stepped over made once; one lock, lifted on time; sessions and Retry-After right',
        acknowledged: ingest.acknowledged + todos.acknowledged,
        inClickHouse: ingest.inClickHouse + todos.inClickHouse,
        lost: ingest.lost + todos.lost,
        duplicates: ingest.duplicates + todos.duplicates,
        unacknowledgedStored: ingest.unacknowledgedStored + todos.unacknowledgedStored,
        recoveryMs: reportAfterMs,
        firstAckMs: load.firstAckAfter(stepBackAt),
        statuses: `ingest ${load.statusSummary()}; todos ${clicks.summary()}`,
        ok: failed.length === 0,
        notes:
          `4 ingest clients (~${Math.round(load.offeredEvents / (durationMs / 1000))} events/s) and 2 users creating todos for ${durationMs / 1000} s; the API+worker process's clock stepped back 1 h ${(stepBackAt / 1000).toFixed(0)} s in and forward 1 h 20 s later, and so did a scheduler process's clock, set ${((Date.now() - schedulerClock.now()) / HOUR).toFixed(1)} h behind so that the 00:05 UTC slot of the daily report (period ${fmt(dayStart)} to ${fmt(dayEnd)}) fell in the 20 s it was back. ` +
          `Seals: ${seals.length} in PostgreSQL, ${backwards} stamped earlier than the seal before them${backwards ? ` (by up to ${(deepest / 1000).toFixed(0)} s)` : ''}, ${held} stamped with the same time as the seal before them (held while the clock was behind); \`auditflow verify\` exit ${verify.code}; verify --from/--to split 2 s before the step: ${ranges.map((r) => `${r.ok ? 'green' : `BROKEN (${r.breaks.join('; ')})`}, ${r.seals} seals`).join(' + ')} of ${allSeals}. ` +
          `Daily reports: ${daily.map((r) => `${fmt(r.start)}–${fmt(r.end)} ×${r.n} (${r.generated_by})`).join(', ') || 'none'}; the stepped-over one stored ${reportAfterMs === null ? 'never (within 60 s)' : `${(reportAfterMs / 1000).toFixed(1)} s after the step forward`}. ` +
          `Lockout (0.5 min locks): 3 wrong passwords before the step, 2 after; the fifth answered ${fifth.status}, the lock count is ${lock.lock_count}; Retry-After ${retryAfterDuring} s while back (expected ${retryAfterDuringExpected}), ${retryAfterAfter} s after the step forward (expected ${retryAfterAfterExpected}); the right password opened ${(unlockLagMs / 1000).toFixed(1)} s after locked_until${earlyOpen.length ? ` (early answers: ${earlyOpen.join(', ')})` : ''}. ` +
          `A login while back: ${relogin.status}, then GET /todos with its token: ${reloginTodos}. A key revoked while back, used 6.5 s later: ${revokedStatus}. ` +
          `Ingest jobs that lost their lock and were re-run (BullMQ "stalled"): ${stalls.filter((t) => t < stepBackAt).length} before the step, ${stalls.filter((t) => t >= stepBackAt && t < stepForwardAt).length} while the clock was back, ${stalls.filter((t) => t >= stepForwardAt).length} after. ` +
          `Ingest backlog ${phases.map((t) => backlogAt(t)).join(' → ')} jobs at the start, the step back, the step forward and the end of the load (${growth.map((g) => g.toFixed(1)).join(', ')} jobs/s in between), drained ${(drainMs / 1000).toFixed(1)} s after the load. ` +
          'Recovery = from the step forward until the stepped-over daily report was stored (the last thing the step had put wrong). ' +
          (failed.length ? `FAILED: ${failed.join('; ')}.` : 'Every check held.'),
      });
      expect(failed).toEqual([]);
      expect(ingest).toMatchObject({ lost: 0, duplicates: 0 });
      expect(todos).toMatchObject({ lost: 0, duplicates: 0 });
    } finally {
      await queueEvents.close();
      await pg.end();
      await tearDown({ sampler, processes: [server, scheduler], dirs: [clockDir], ns });
    }
  },
  420_000,
);

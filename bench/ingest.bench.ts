/**
 * `npm run bench`: ingest throughput and latency of auditflow on this machine.
 *
 *   (a) raw insert rate of the bench's rows straight into ClickHouse (own process, own store)
 *   (b) end-to-end events/s for 100-event posts, and 202 → visible-in-ClickHouse latency
 *   (c) req/s and latency of single-event posts, against (c-bare) a bare Express 5 handler
 *   (d) the ratios b/a and c/bare, and the server's RSS during (b) and (c)
 *
 * The server under test runs in a child process (bench/server.child.ts: the
 * product's start() with loadConfig(env)); the load generator runs here. See
 * docs/performance.md for the method and the latest figures.
 *
 * Environment knobs (defaults in brackets):
 *   BENCH_A_SECONDS [12], BENCH_B_SECONDS [30], BENCH_B_CONCURRENCY [8], BENCH_C_SECONDS [15],
 *   BENCH_C_CONCURRENCY [32];
 *   BENCH_SPLIT_ROLES=1  the server under test as two processes (ROLE=api, ROLE=worker,scheduler);
 *   BENCH_CPU_PROF=<dir> V8 CPU profiles of the server's main thread(s) during (b) and (c),
 *                        summarised by `node dist-bench/bench/profile-summary.js <file>`;
 *   BENCH_JSON=<file>    writes every figure as JSON.
 * Product settings (FLUSH_MAX_AGE_MS, WORKER_CONCURRENCY, …) pass through to the server.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isMessage, type FromServer, type RawInsertResult, type ToServer } from './ipc';
import { median, percentile, ProcessSampler, runLoad, sleep, type LoadResult } from '../traffic/load';
import { createTempNamespace } from './temp-namespace';
import { batchBody, singleBody } from '../traffic/workload';

const env = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

const SETTINGS = {
  aSeconds: env('BENCH_A_SECONDS', 12),
  bSeconds: env('BENCH_B_SECONDS', 30),
  bConcurrency: env('BENCH_B_CONCURRENCY', 8),
  bEventsPerPost: 100,
  cSeconds: env('BENCH_C_SECONDS', 15),
  cConcurrency: env('BENCH_C_CONCURRENCY', 32),
  warmupSeconds: 3,
  splitRoles: process.env.BENCH_SPLIT_ROLES === '1',
  pollIntervalMs: 100,
};

const TARGETS = { bOverA: 0.6, cOverBare: 0.8, cP99Ms: 25, visibilityP99Ms: 2000, rssGrowth: 0.2 };

const children = new Set<ChildProcess>();

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

const ns = createTempNamespace('bench', log);
const { runId, tmpDir } = ns;

// ---------------------------------------------------------------------------
// child processes

function forkChild(script: string, args: string[], childEnv: NodeJS.ProcessEnv, execArgv: string[] = []): { child: ChildProcess; output: () => string } {
  const child = fork(path.join(__dirname, script), args, { env: childEnv, execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => output };
}

function waitForMessage<T extends { type: string }>(child: ChildProcess, type: T['type'], timeoutMs: number, output: () => string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no "${type}" from child within ${timeoutMs} ms\n${output()}`)), timeoutMs);
    const onMessage = (m: unknown) => {
      if (isMessage<T>(m) && m.type === type) done(undefined, m);
    };
    const onExit = (code: number | null) => done(new Error(`child exited (code ${code}) before "${type}"\n${output()}`));
    const done = (error?: Error, message?: T) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(message!);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function stopChild(child: ChildProcess, timeoutMs = 30_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  if (child.connected) child.send({ type: 'stop' } satisfies ToServer);
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** Request/response over the server child's IPC channel. */
class ServerLink {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (m: FromServer) => void; reject: (e: Error) => void }>();

  constructor(private readonly child: ChildProcess) {
    child.on('message', (m: unknown) => {
      if (!isMessage<FromServer>(m) || m.type === 'ready') return;
      const reqId = m.reqId;
      if (reqId === undefined) return;
      const w = this.waiting.get(reqId);
      if (!w) return;
      this.waiting.delete(reqId);
      if (m.type === 'error') w.reject(new Error(m.message));
      else w.resolve(m);
    });
  }

  private ask(message: ToServer & { reqId: number }): Promise<FromServer> {
    return new Promise((resolve, reject) => {
      this.waiting.set(message.reqId, { resolve, reject });
      this.child.send(message);
    });
  }

  async visible(ids: string[]): Promise<string[]> {
    const reply = await this.ask({ type: 'visible', reqId: this.nextId++, ids });
    return reply.type === 'visible' ? reply.ids : [];
  }

  async count(): Promise<number> {
    const reply = await this.ask({ type: 'count', reqId: this.nextId++ });
    return reply.type === 'count' ? reply.count : NaN;
  }

  /** Share of wall time the server's event loop was busy since the previous call. */
  async elu(): Promise<number> {
    const reply = await this.ask({ type: 'elu', reqId: this.nextId++ });
    return reply.type === 'elu' ? reply.utilization : NaN;
  }

  async profile(action: 'start' | 'stop', file?: string): Promise<void> {
    await this.ask({ type: 'profile', reqId: this.nextId++, action, ...(file ? { file } : {}) });
  }
}

// ---------------------------------------------------------------------------
// phases

async function measureRawInsert(): Promise<RawInsertResult> {
  const dir = path.join(tmpDir, 'raw-chdb');
  const { child, output } = forkChild('raw-insert.child.js', [dir, String(SETTINGS.aSeconds), '40'], { ...process.env, LOG_LEVEL: 'warn' });
  const result = await waitForMessage<RawInsertResult>(child, 'raw-insert', 120_000, output);
  await stopChild(child);
  fs.rmSync(dir, { recursive: true, force: true });
  return result;
}

interface BatchPhase {
  load: LoadResult;
  acceptedEvents: number;
  /** Load start → the moment count() showed every accepted event. */
  e2eMs: number;
  drained: boolean;
  visibility: number[];
  unseenSamples: number;
  pollMs: number[];
  /** Rows that became visible per second, from 1 Hz count() samples during the load. */
  visiblePerSecond: number[];
}

/** (b): 100-event posts; samples one event_id per post and polls ClickHouse until each is visible. */
async function measureBatches(port: number, key: string, link: ServerLink, seconds: number, sample: boolean): Promise<BatchPhase> {
  const baseline = await link.count();
  const pending = new Map<string, number>(); // sampled event_id → time its 202 arrived
  const visibility: number[] = [];
  const pollMs: number[] = [];
  let acceptedEvents = 0;
  let loading = true;
  let drainStart = Infinity;

  const poller = (async () => {
    while (loading || pending.size > 0) {
      await sleep(SETTINGS.pollIntervalMs);
      if (pending.size === 0) continue;
      const ids = [...pending.keys()].slice(0, 2000);
      const sent = performance.now();
      const found = await link.visible(ids);
      const now = performance.now();
      pollMs.push(now - sent);
      for (const id of found) {
        const acceptedAt = pending.get(id);
        if (acceptedAt === undefined) continue;
        visibility.push(now - acceptedAt);
        pending.delete(id);
      }
      if (!loading && now - drainStart > 30_000) break;
    }
  })();

  const counts: { t: number; n: number }[] = [];
  const counter = setInterval(() => {
    const t = performance.now();
    void link.count().then(
      (n) => counts.push({ t, n }),
      () => undefined,
    );
  }, 1000);

  const started = performance.now();
  const load = await runLoad<{ ids: string[] }>({
    port,
    concurrency: SETTINGS.bConcurrency,
    durationMs: seconds * 1000,
    headers: { authorization: `Bearer ${key}` },
    next: () => {
      const { body, ids } = batchBody(SETTINGS.bEventsPerPost);
      return { body, meta: { ids } };
    },
    onResponse: (status, { ids }, doneAt) => {
      if (status !== 202) return;
      acceptedEvents += ids.length;
      if (sample) pending.set(ids[ids.length - 1]!, doneAt);
    },
  });
  loading = false;
  clearInterval(counter);
  drainStart = performance.now();

  // Drain: wait until count() holds every accepted event.
  let e2eMs = NaN;
  let drained = false;
  while (performance.now() - drainStart < 30_000) {
    const n = await link.count();
    if (n - baseline >= acceptedEvents) {
      e2eMs = performance.now() - started;
      drained = true;
      break;
    }
    await sleep(50);
  }
  await poller;

  const visiblePerSecond: number[] = [];
  for (let i = 1; i < counts.length; i++) {
    const a = counts[i - 1]!;
    const b = counts[i]!;
    visiblePerSecond.push(((b.n - a.n) / (b.t - a.t)) * 1000);
  }
  return { load, acceptedEvents, e2eMs, drained, visibility, unseenSamples: pending.size, pollMs, visiblePerSecond };
}

/** (c) and (c-bare): single-event posts at a fixed concurrency. */
function measureSingles(port: number, key: string, seconds: number): Promise<LoadResult> {
  return runLoad<null>({
    port,
    concurrency: SETTINGS.cConcurrency,
    durationMs: seconds * 1000,
    headers: { authorization: `Bearer ${key}` },
    next: () => ({ body: singleBody(), meta: null }),
  });
}

// ---------------------------------------------------------------------------
// cleanup

async function cleanup(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c, 10_000).catch(() => undefined)));
  await ns.cleanup();
}

// ---------------------------------------------------------------------------
// report

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a');

function statusSummary(load: LoadResult): string {
  return Object.entries(load.byStatus)
    .map(([status, n]) => `${status}×${n}`)
    .concat(load.errors ? [`errors×${load.errors}`] : [])
    .join(' ');
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

async function main(): Promise<void> {
  const benchStarted = Date.now();
  log(`run ${runId}: ${os.cpus().length} cores, node ${process.version}, temp ${tmpDir}`);

  // (a) before the server starts: its own process, its own chDB store.
  log(`(a) raw insert: batches of 10k rows into audit_logs for ~${SETTINGS.aSeconds} s`);
  const raw = await measureRawInsert();
  const rawRate = (raw.rows / raw.insertMs) * 1000;
  log(`(a) ${fmt(rawRate)} rows/s (${raw.batches} batches, count check ${raw.countAfter}/${raw.rows})`);

  const key = await ns.createApiKey('bench', ['ingest']);
  const serverEnv = ns.serverEnv();
  const profDir = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : undefined;
  if (profDir) fs.mkdirSync(profDir, { recursive: true });

  // Default: one process with ROLE=all, as `npm start` runs. BENCH_SPLIT_ROLES=1: a worker
  // process (owns ClickHouse, answers the visibility polls) and a separate api process.
  const servers: { name: string; child: ChildProcess; output: () => string; link: ServerLink }[] = [];
  const startServer = async (name: string, role: string) => {
    const s = forkChild('server.child.js', [], { ...serverEnv, ROLE: role });
    const ready = await waitForMessage<Extract<FromServer, { type: 'ready' }>>(s.child, 'ready', 90_000, s.output);
    servers.push({ name, ...s, link: new ServerLink(s.child) });
    log(`server under test: ${name} (ROLE=${role}) pid ${s.child.pid}${ready.port ? `, port ${ready.port}` : ''}`);
    return ready.port;
  };
  const port = SETTINGS.splitRoles ? await startServer('worker', 'worker,scheduler').then(() => startServer('api', 'api')) : await startServer('server', 'all');
  if (port === undefined) throw new Error('the server under test reported no HTTP port');
  const link = servers[0]!.link; // the process that owns ClickHouse
  const eluAll = () => Promise.all(servers.map((s) => s.link.elu()));
  const profileAll = async (action: 'start' | 'stop', phase: string) => {
    if (!profDir) return;
    await Promise.all(servers.map((s) => s.link.profile(action, path.join(profDir, `${s.name}-${phase}-${runId}.cpuprofile`))));
  };
  const eluText = (elu: number[]) => servers.map((s, i) => `${s.name} ${fmt((elu[i] ?? NaN) * 100)}%`).join(', ');

  // (b) warm-up (JIT, connections, first parts), drained, then the measured run.
  await measureBatches(port, key, link, SETTINGS.warmupSeconds, false);
  const sampler = new ProcessSampler(servers.map((s) => s.child.pid!));
  sampler.start();
  log(`(b) ${SETTINGS.bSeconds} s of ${SETTINGS.bEventsPerPost}-event posts, ${SETTINGS.bConcurrency} in flight`);
  await profileAll('start', 'b');
  await eluAll();
  const b = await measureBatches(port, key, link, SETTINGS.bSeconds, true);
  const eluB = await eluAll();
  await profileAll('stop', 'b');
  const bSamples = sampler.samples.length;
  const e2eRate = (b.acceptedEvents / b.e2eMs) * 1000;
  log(`(b) ${fmt(e2eRate)} events/s end to end, visibility p99 ${fmt(percentile(b.visibility, 99))} ms`);

  // (c) same server, single-event posts.
  log(`(c) ${SETTINGS.cSeconds} s of single-event posts, ${SETTINGS.cConcurrency} in flight`);
  await measureSingles(port, key, 2);
  const cStartSample = sampler.samples.length;
  await profileAll('start', 'c');
  await eluAll();
  const c = await measureSingles(port, key, SETTINGS.cSeconds);
  const eluC = await eluAll();
  await profileAll('stop', 'c');
  const rss = sampler.stop();
  const serverCpuB = median(rss.slice(1, bSamples).map((s) => s.cpu));
  const serverCpuC = median(rss.slice(cStartSample + 1).map((s) => s.cpu));
  for (const server of [...servers].reverse()) {
    const stopCode = await stopChild(server.child);
    if (stopCode !== 0) log(`${server.name} exited with code ${stopCode}`);
    if (server.output().trim()) log(`${server.name} output (warn and above):\n${server.output().slice(-3000)}`);
  }

  // (c-bare) same client, same concurrency, same body.
  const bare = forkChild('bare-server.child.js', [], { ...process.env, PORT: '0', HOST: '127.0.0.1' });
  const barePort = (await waitForMessage<Extract<FromServer, { type: 'ready' }>>(bare.child, 'ready', 30_000, bare.output)).port;
  if (barePort === undefined) throw new Error('the bare server reported no port');
  log(`(c-bare) ${SETTINGS.cSeconds} s against a bare Express 5 handler`);
  await measureSingles(barePort, key, 2);
  const bareSampler = new ProcessSampler([bare.child.pid!]);
  bareSampler.start();
  const cBare = await measureSingles(barePort, key, SETTINGS.cSeconds);
  const bareCpu = median(
    bareSampler
      .stop()
      .slice(1)
      .map((s) => s.cpu),
  );
  await stopChild(bare.child);

  // ---- figures
  const cRate = (c.requests / c.elapsedMs) * 1000;
  const bareRate = (cBare.requests / cBare.elapsedMs) * 1000;
  const cP99 = percentile(c.latencies, 99);
  const visP99 = percentile(b.visibility, 99);
  const rssStart = rss[0]?.rssMb ?? NaN;
  const rssEnd = rss[rss.length - 1]?.rssMb ?? NaN;
  const rssMax = Math.max(...rss.map((s) => s.rssMb));
  const rssGrowth = (rssEnd - rssStart) / rssStart;
  // Flat = no upward trend: RSS saw-tooths with every flush (buffered rows, the insert's
  // memory), so the level of the last third of (b) is compared with its first third, and the
  // end of (c) with the start of (b). The max is reported, not judged: it is a flush peak.
  const bRss = rss.slice(0, bSamples).map((s) => s.rssMb);
  const third = Math.max(1, Math.floor(bRss.length / 3));
  const rssTrend = median(bRss.slice(-third)) / median(bRss.slice(0, third));
  const bOverA = e2eRate / rawRate;
  const cOverBare = cRate / bareRate;

  const results = {
    runId,
    date: new Date().toISOString(),
    machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, memGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, load: os.loadavg() },
    settings: SETTINGS,
    a: { rowsPerSec: rawRate, medianBatchRowsPerSec: median(raw.perBatchRowsPerSec), batches: raw.batches, rows: raw.rows, countAfter: raw.countAfter, jsonBytesPerRow: raw.jsonBytesPerRow },
    b: {
      e2eEventsPerSec: e2eRate,
      acceptedEventsPerSec: (b.acceptedEvents / b.load.elapsedMs) * 1000,
      medianVisibleRowsPerSec: median(b.visiblePerSecond),
      acceptedEvents: b.acceptedEvents,
      drained: b.drained,
      drainMs: b.e2eMs - b.load.elapsedMs,
      requests: b.load.requests,
      statuses: b.load.byStatus,
      errors: b.load.errors,
      postP50Ms: percentile(b.load.latencies, 50),
      postP99Ms: percentile(b.load.latencies, 99),
      visibility: { samples: b.visibility.length, unseen: b.unseenSamples, p50Ms: percentile(b.visibility, 50), p99Ms: visP99, maxMs: Math.max(...b.visibility) },
      pollMs: { median: median(b.pollMs), p99: percentile(b.pollMs, 99) },
      clientCpu: b.load.clientCpu,
      serverCpu: serverCpuB,
      serverEventLoop: Object.fromEntries(servers.map((s, i) => [s.name, eluB[i]])),
    },
    c: {
      reqPerSec: cRate,
      p50Ms: percentile(c.latencies, 50),
      p99Ms: cP99,
      statuses: c.byStatus,
      errors: c.errors,
      clientCpu: c.clientCpu,
      serverCpu: serverCpuC,
      serverEventLoop: Object.fromEntries(servers.map((s, i) => [s.name, eluC[i]])),
    },
    cBare: {
      reqPerSec: bareRate,
      p50Ms: percentile(cBare.latencies, 50),
      p99Ms: percentile(cBare.latencies, 99),
      statuses: cBare.byStatus,
      errors: cBare.errors,
      clientCpu: cBare.clientCpu,
      serverCpu: bareCpu,
    },
    rss: { startMb: rssStart, endMb: rssEnd, maxMb: rssMax, growth: rssGrowth, bLastThirdOverFirstThird: rssTrend, samples: rss.map((s) => Math.round(s.rssMb)) },
    ratios: { bOverA, cOverBare },
  };
  const pass = {
    bOverA: bOverA >= TARGETS.bOverA,
    c: cOverBare >= TARGETS.cOverBare && cP99 <= TARGETS.cP99Ms,
    visibility: b.visibility.length > 0 && b.unseenSamples === 0 && visP99 <= TARGETS.visibilityP99Ms,
    rss: rssEnd <= rssStart * (1 + TARGETS.rssGrowth) && rssTrend <= 1 + TARGETS.rssGrowth,
  };

  const ok = (p: boolean) => (p ? 'PASS' : 'FAIL');
  const summary = table([
    ['measure', 'result', 'target', ''],
    ['(a) raw insert, 10k-row batches', `${fmt(rawRate)} rows/s (median batch ${fmt(results.a.medianBatchRowsPerSec)})`, '', ''],
    ['(b) end to end, 100-event posts', `${fmt(e2eRate)} events/s (${fmt(results.b.acceptedEventsPerSec)} accepted/s, ${statusSummary(b.load)})`, '', ''],
    ['(b) post latency p50 / p99', `${fmt(results.b.postP50Ms, 1)} / ${fmt(results.b.postP99Ms, 1)} ms`, '', ''],
    ['(b) 202 → visible p50 / p99', `${fmt(results.b.visibility.p50Ms)} / ${fmt(visP99)} ms (${b.visibility.length} samples, ${b.unseenSamples} unseen)`, '≤ 2000 ms', ok(pass.visibility)],
    ['(c) single-event posts', `${fmt(cRate)} req/s, p50 ${fmt(results.c.p50Ms, 1)} / p99 ${fmt(cP99, 1)} ms (${statusSummary(c)})`, 'p99 ≤ 25 ms', ''],
    ['(c-bare) bare Express 5', `${fmt(bareRate)} req/s, p50 ${fmt(results.cBare.p50Ms, 1)} / p99 ${fmt(results.cBare.p99Ms, 1)} ms (${statusSummary(cBare)})`, '', ''],
    ['(d) b / a', fmt(bOverA, 2), '≥ 0.60', ok(pass.bOverA)],
    ['(d) c / bare (+ c p99)', `${fmt(cOverBare, 2)} (p99 ${fmt(cP99, 1)} ms)`, '≥ 0.80, p99 ≤ 25 ms', ok(pass.c)],
    ['server RSS during (b)+(c)', `start ${fmt(rssStart)} / end ${fmt(rssEnd)} / max ${fmt(rssMax)} MB; (b) last/first third ×${fmt(rssTrend, 2)}`, 'end ≤ start+20%, no trend', ok(pass.rss)],
    ['CPU, cores: server b / c / bare', `${fmt(serverCpuB, 2)} / ${fmt(serverCpuC, 2)} / ${fmt(bareCpu, 2)} (event loop busy b: ${eluText(eluB)}; c: ${eluText(eluC)})`, '', ''],
    [
      'CPU, cores: bench client b / c / bare',
      `${fmt(b.load.clientCpu, 2)} / ${fmt(c.clientCpu, 2)} / ${fmt(cBare.clientCpu, 2)} (load avg ${os
        .loadavg()
        .map((l) => fmt(l, 1))
        .join(' ')})`,
      '',
      '',
    ],
  ]);
  process.stdout.write(
    `\nauditflow ingest bench (${SETTINGS.splitRoles ? 'api and worker in separate processes' : 'ROLE=all, one process'}) — ${results.date}, ${results.machine.cores} cores (${results.machine.cpu}), node ${process.version}, ${Math.round((Date.now() - benchStarted) / 1000)} s\n\n${summary}\n\n` +
      `RSS samples (MB, 1/s, (b) then (c)): ${results.rss.samples.join(' ')}\n` +
      `visible rows/s during (b) (1 Hz count()): ${b.visiblePerSecond.map((v) => fmt(v)).join(' ')}\n` +
      `visibility poll round trip: median ${fmt(results.b.pollMs.median, 1)} ms, p99 ${fmt(results.b.pollMs.p99, 1)} ms; poll interval ${SETTINGS.pollIntervalMs} ms\n`,
  );
  if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, `${JSON.stringify({ ...results, pass }, null, 2)}\n`);
}

let exitCode = 0;
const interrupted = () => {
  log('interrupted; cleaning up');
  void cleanup().finally(() => process.exit(130));
};
process.once('SIGINT', interrupted);
process.once('SIGTERM', interrupted);

main()
  .catch((error: unknown) => {
    exitCode = 1;
    log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  })
  .finally(async () => {
    await cleanup();
    process.exit(exitCode);
  });

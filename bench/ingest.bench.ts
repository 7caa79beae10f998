/**
 * `npm run bench`: every target of issue 15 on this machine, in one run.
 *
 *   (a)      raw insert of the bench's rows straight into ClickHouse (own process, own store)
 *   (b)      end to end, 100-event posts, 8 in flight: events/s from the first post until all are
 *            visible, 202 → visible latency, CPU per 1,000 events (app and Redis)
 *   (b-sus)  the same posts paced at (b)'s end-to-end rate, the highest rate the server sustains:
 *            202 → visible p99 there is the target
 *   (c)      single-event posts, 32 in flight, against (c-bare) a bare Express 5 handler
 *   (b-20M)  (b) again on a store with 20M preloaded rows, between (b) and a run on a new empty store
 *   verify   bench/verify.bench.ts at 200k and 1M rows: verification and writer-with-sealing rows/s
 *
 * The server under test is `node dist/main.js`, what `npm start` runs (ROLE=all,
 * WORKER_PROCESS=separate: the worker role in a child process), in a throwaway
 * namespace (DATA_DIR, PostgreSQL database, Redis prefix). The bench sees into
 * ClickHouse only through the product's /clickhouse endpoint with a `query` key.
 * CPU and RSS are read from /proc for the main process, its worker process
 * (pgrep -P) and redis-server (INFO server: process_id). See docs/performance.md.
 *
 * Environment knobs (defaults in brackets; BENCH_SHORT=1 shortens them, shown as short/full):
 *   BENCH_SHORT=1          a quick run: shorter phases, a 2M-row preload, verification at 200k only;
 *   BENCH_A_SECONDS [5/12], BENCH_B_SECONDS [10/30], BENCH_B_CONCURRENCY [8], BENCH_SUSTAINED_SECONDS [10/20],
 *   BENCH_C_SECONDS [6/15], BENCH_C_CONCURRENCY [32], BENCH_C_ROUNDS [2/3]: (c) and (c-bare) alternate in rounds
 *                          that share BENCH_C_SECONDS each, and (c)/bare is the median of the rounds' ratios;
 *   BENCH_PRELOAD_ROWS     [2000000/20000000] rows preloaded for (b-20M); 0 skips the comparison;
 *   BENCH_PRELOAD_SETTLE_SECONDS [180] longest wait for the preload's merges to finish;
 *   BENCH_PRELOAD_ROUNDS   [1] (b) runs on the preloaded store, each followed by one on a new empty store;
 *   BENCH_VERIFY_SIZES     [200000 / 200000,1000000] rows of each verify bench run; 0 skips them;
 *   BENCH_SPLIT_ROLES=1    the server as two processes (ROLE=worker,scheduler and ROLE=api);
 *   BENCH_LOG_LEVEL        [warn] the server's LOG_LEVEL (the product's default, info, logs a line per request);
 *   BENCH_CPU_PROF=<dir>   V8 CPU profiles of every server process (node --cpu-prof), with the phases' time
 *                          windows for `node dist-bench/bench/profile-summary.js <file> --from <µs> --to <µs>`;
 *   BENCH_JSON=<file>      writes every figure as JSON.
 * Product settings (FLUSH_MAX_AGE_MS, WORKER_CONCURRENCY, …) pass through to the server.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClickHouseProbe } from './clickhouse-probe';
import { isMessage, type PreloadResult, type RawInsertResult, type Ready } from './ipc';
import { CpuMeter, redisPid, RssSampler, type CpuDelta, type CpuSnapshot } from './proc';
import { freePort, liveServers, startServer, type ServerUnderTest } from './server-under-test';
import { createTempNamespace, type TempNamespace } from './temp-namespace';
import { runVerifyBench, type VerifyRun } from './verify-runs';
import { median, percentile, runLoad, sleep, type LoadResult } from '../traffic/load';
import { BENCH_TABLE, batchBody, singleBody } from '../traffic/workload';

const SHORT = process.env.BENCH_SHORT === '1';

const env = (name: string, full: number, short = full) => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : SHORT ? short : full;
};
/** A count that may be 0 (to skip a part). */
const count = (name: string, full: number, short: number) => {
  const raw = process.env[name];
  const value = Number(raw?.replace(/_/g, ''));
  return raw !== undefined && raw !== '' && Number.isInteger(value) && value >= 0 ? value : SHORT ? short : full;
};
const sizes = (name: string, full: number[], short: number[]) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return SHORT ? short : full;
  return raw
    .split(',')
    .map((s) => Number(s.trim().replace(/_/g, '')))
    .filter((n) => Number.isInteger(n) && n > 0);
};

const SETTINGS = {
  short: SHORT,
  aSeconds: env('BENCH_A_SECONDS', 12, 5),
  bSeconds: env('BENCH_B_SECONDS', 30, 10),
  bConcurrency: env('BENCH_B_CONCURRENCY', 8),
  bEventsPerPost: 100,
  sustainedSeconds: env('BENCH_SUSTAINED_SECONDS', 20, 10),
  /** Loops of the paced run: twice (b)'s, so a slow answer does not lower the offered rate. */
  sustainedConcurrency: env('BENCH_B_CONCURRENCY', 8) * 2,
  cSeconds: env('BENCH_C_SECONDS', 15, 6),
  cConcurrency: env('BENCH_C_CONCURRENCY', 32),
  cRounds: Math.max(1, Math.round(env('BENCH_C_ROUNDS', 3, 2))),
  warmupSeconds: 3,
  calibrateSeconds: 5,
  preloadRows: count('BENCH_PRELOAD_ROWS', 20_000_000, 2_000_000),
  preloadSettleSeconds: env('BENCH_PRELOAD_SETTLE_SECONDS', 180),
  /** Preloaded-store runs, each followed by an empty-store run. */
  historyRounds: env('BENCH_PRELOAD_ROUNDS', 1),
  verifySizes: sizes('BENCH_VERIFY_SIZES', [200_000, 1_000_000], [200_000]),
  splitRoles: process.env.BENCH_SPLIT_ROLES === '1',
  logLevel: process.env.BENCH_LOG_LEVEL || 'warn',
  pollIntervalMs: 200,
  countIntervalMs: 1000,
  drainTimeoutMs: 180_000,
};

const TARGETS = {
  bOverA: 0.6,
  visibilityP99Ms: 2000,
  cP99Ms: 25,
  cOverBare: 0.5,
  verifyRowsPerSec: 250_000,
  verifySizes: [200_000, 1_000_000],
  writerRowsPerSec: 50_000,
  rssGrowth: 0.2,
  preloadRows: 20_000_000,
  preloadTolerance: 0.1,
};

const forked = new Set<ChildProcess>();

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

const namespaces: TempNamespace[] = [];
function namespace(): TempNamespace {
  const ns = createTempNamespace('bench', log);
  namespaces.push(ns);
  return ns;
}

// ---------------------------------------------------------------------------
// forked children: (a), the preload, the bare server

function forkChild(script: string, args: string[], childEnv: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  const child = fork(path.join(__dirname, script), args, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  forked.add(child);
  child.once('exit', () => forked.delete(child));
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
  if (child.connected) child.send({ type: 'stop' });
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

async function measureRawInsert(tmpDir: string): Promise<RawInsertResult> {
  const dir = path.join(tmpDir, 'raw-chdb');
  const { child, output } = forkChild('raw-insert.child.js', [dir, String(SETTINGS.aSeconds), '40'], { ...process.env, LOG_LEVEL: 'warn' });
  const result = await waitForMessage<RawInsertResult>(child, 'raw-insert', 180_000, output);
  await stopChild(child);
  fs.rmSync(dir, { recursive: true, force: true });
  return result;
}

async function preload(serverEnv: NodeJS.ProcessEnv, rows: number): Promise<PreloadResult> {
  const { child, output } = forkChild('preload.child.js', [String(rows), String(SETTINGS.preloadSettleSeconds)], serverEnv);
  const result = await waitForMessage<PreloadResult>(child, 'preload', 3_600_000, output);
  await stopChild(child, 120_000);
  return result;
}

// ---------------------------------------------------------------------------
// the server under test

interface Deployment {
  label: string;
  servers: ServerUnderTest[];
  port: number;
  /** Groups whose CPU is reported: api (main process) and worker (its child), or the two split processes. */
  groups: Record<string, () => number[]>;
  pids: () => number[];
  stop: () => Promise<void>;
}

/**
 * Default: one `node dist/main.js` (ROLE=all); the worker process is its child.
 * BENCH_SPLIT_ROLES=1: ROLE=worker,scheduler (inline: no child of its own; /readyz on METRICS_PORT) and ROLE=api.
 */
async function deploy(label: string, serverEnv: NodeJS.ProcessEnv, profDir: string | undefined): Promise<Deployment> {
  const base: NodeJS.ProcessEnv = { ...serverEnv, LOG_LEVEL: SETTINGS.logLevel };
  const execArgv = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const servers: ServerUnderTest[] = [];
  let groups: Record<string, () => number[]>;
  let port: number;
  if (SETTINGS.splitRoles) {
    const opsPort = await freePort();
    const worker = await startServer(`${label} worker`, { ...base, ROLE: 'worker,scheduler', WORKER_PROCESS: 'inline', METRICS_PORT: String(opsPort), PORT: '0' }, { readyPort: opsPort, execArgv });
    servers.push(worker);
    port = await freePort();
    const api = await startServer(`${label} api`, { ...base, ROLE: 'api', PORT: String(port) }, { port, readyPort: port, execArgv });
    servers.push(api);
    groups = { api: () => api.pids(), worker: () => worker.pids() };
  } else {
    port = await freePort();
    const all = await startServer(label, { ...base, PORT: String(port) }, { port, readyPort: port, execArgv });
    servers.push(all);
    groups = { api: () => all.pids().slice(0, 1), worker: () => all.pids().slice(1) };
  }
  for (const s of servers) log(`${s.name}: pids ${s.pids().join(', ')}${s.port ? `, port ${s.port}` : ''}`);
  return {
    label,
    servers,
    port,
    groups,
    pids: () => servers.flatMap((s) => s.pids()),
    stop: async () => {
      for (const s of [...servers].reverse()) {
        const code = await s.stop();
        if (code !== 0) log(`${s.name} exited with code ${code}; its last output:\n${s.output().slice(-3000)}`);
        else if (s.output().trim()) log(`${s.name} wrote (warn and above):\n${s.output().slice(-2000)}`);
      }
    },
  };
}

// ---------------------------------------------------------------------------
// CPU of app and Redis

interface PhaseCpu {
  seconds: number;
  /** Requests the bench's probe sent to /clickhouse in the window (their cost is calibrated and subtracted for the net figure). */
  probeRequests: number;
  /** CPU seconds by group (api, worker, redis). */
  cpu: Record<string, number>;
  /** Main-thread CPU seconds by group: how busy each event loop was. */
  mainThreadCpu: Record<string, number>;
  changed: string[];
}

let redis: number | undefined;

function meter(d: Deployment): CpuMeter {
  return new CpuMeter({ ...d.groups, ...(redis ? { redis: () => [redis!] } : {}) });
}

function phaseCpu(delta: CpuDelta, probeRequests: number): PhaseCpu {
  return { seconds: delta.seconds, probeRequests, cpu: delta.cpu, mainThreadCpu: delta.mainThreadCpu, changed: delta.changed };
}

const appCpu = (c: PhaseCpu) => (c.cpu.api ?? 0) + (c.cpu.worker ?? 0);
const totalCpu = (c: PhaseCpu) => appCpu(c) + (c.cpu.redis ?? 0);

// ---------------------------------------------------------------------------
// phases

interface BatchPhase {
  load: LoadResult;
  acceptedEvents: number;
  /** Load start → the moment count() showed every accepted event. */
  e2eMs: number;
  drained: boolean;
  /** 202 → the answer of the poll that found the event (an upper bound: includes the poll's round trip). */
  visibility: number[];
  /** 202 → when that poll was sent (a lower bound, give or take one poll interval). */
  visibilityAtSend: number[];
  unseenSamples: number;
  /** Rows that became visible per second, from 1 Hz count() samples during the load. */
  visiblePerSecond: number[];
  /** From the load's start to the drain: the window of the CPU figures. */
  cpu: PhaseCpu;
  /** hrtime (µs) of the load's start and of the drain, for CPU profiles. */
  window: [number, number];
}

const hrMicros = () => Number(process.hrtime.bigint() / 1000n);

/** Probe queries that failed even after their retries (the phase goes on; they are reported). */
const probeFailures: string[] = [];

/** Waits until the probe counts `target` rows; returns when (performance.now()) or undefined after the timeout. */
async function drain(probe: ClickHouseProbe, target: number, from: number): Promise<number | undefined> {
  while (performance.now() - from < SETTINGS.drainTimeoutMs) {
    try {
      if ((await probe.count()) >= target) return performance.now();
    } catch (error) {
      probeFailures.push(String(error));
    }
    await sleep(SETTINGS.pollIntervalMs);
  }
  return undefined;
}

/** (b) and its variants: 100-event posts; one event_id per post is sampled and polled on /clickhouse until visible. */
async function measureBatches(d: Deployment, key: string, probe: ClickHouseProbe, seconds: number, options: { sample: boolean; concurrency?: number; paceMs?: number }): Promise<BatchPhase> {
  const baseline = await probe.count();
  const pending = new Map<string, number>(); // sampled event_id → time its 202 arrived
  const visibility: number[] = [];
  const visibilityAtSend: number[] = [];
  let acceptedEvents = 0;
  let loading = true;
  let drainStart = Infinity;

  const poller = (async () => {
    while (loading || pending.size > 0) {
      await sleep(SETTINGS.pollIntervalMs);
      if (pending.size === 0) continue;
      const sent = performance.now();
      let found: string[];
      try {
        found = await probe.visible([...pending.keys()].slice(0, 1000));
      } catch (error) {
        probeFailures.push(String(error));
        continue;
      }
      const now = performance.now();
      for (const id of found) {
        const acceptedAt = pending.get(id);
        if (acceptedAt === undefined) continue;
        visibility.push(now - acceptedAt);
        visibilityAtSend.push(Math.max(0, sent - acceptedAt));
        pending.delete(id);
      }
      if (!loading && now - drainStart > SETTINGS.drainTimeoutMs) break;
    }
  })();

  const counts: { t: number; n: number }[] = [];
  const counter = setInterval(() => {
    const t = performance.now();
    void probe.count().then(
      (n) => counts.push({ t, n }),
      (error: unknown) => probeFailures.push(String(error)),
    );
  }, SETTINGS.countIntervalMs);

  const cpuMeter = meter(d);
  const cpuBefore = cpuMeter.snapshot();
  const requestsBefore = probe.requests;
  const windowStart = hrMicros();
  const started = performance.now();
  const load = await runLoad<{ ids: string[] }>({
    port: d.port,
    concurrency: options.concurrency ?? SETTINGS.bConcurrency,
    durationMs: seconds * 1000,
    headers: { authorization: `Bearer ${key}` },
    ...(options.paceMs ? { paceMs: options.paceMs } : {}),
    next: () => {
      const { body, ids } = batchBody(SETTINGS.bEventsPerPost);
      return { body, meta: { ids } };
    },
    onResponse: (status, { ids }, doneAt) => {
      if (status !== 202) return;
      acceptedEvents += ids.length;
      if (options.sample) pending.set(ids[ids.length - 1]!, doneAt);
    },
  });
  loading = false;
  clearInterval(counter);
  drainStart = performance.now();
  const drainedAt = await drain(probe, baseline + acceptedEvents, drainStart);
  const cpuAfter = cpuMeter.snapshot();
  const windowEnd = hrMicros();
  await poller;

  const visiblePerSecond: number[] = [];
  // In the order the counts were asked for: their answers may arrive out of order.
  counts.sort((x, y) => x.t - y.t);
  for (let i = 1; i < counts.length; i++) {
    const a = counts[i - 1]!;
    const b = counts[i]!;
    visiblePerSecond.push(((b.n - a.n) / (b.t - a.t)) * 1000);
  }
  return {
    load,
    acceptedEvents,
    e2eMs: drainedAt === undefined ? NaN : drainedAt - started,
    drained: drainedAt !== undefined,
    visibility,
    visibilityAtSend,
    unseenSamples: pending.size,
    visiblePerSecond,
    cpu: phaseCpu(CpuMeter.delta(cpuBefore, cpuAfter), probe.requests - requestsBefore),
    window: [windowStart, windowEnd],
  };
}

interface SinglePhase {
  load: LoadResult;
  acceptedEvents: number;
  drained: boolean;
  cpu: PhaseCpu;
  window: [number, number];
}

/** (c): single-event posts at a fixed concurrency; the CPU window runs until the worker has stored them. */
async function measureSingles(d: Deployment, key: string, probe: ClickHouseProbe, seconds: number): Promise<SinglePhase> {
  const baseline = await probe.count();
  const cpuMeter = meter(d);
  const before = cpuMeter.snapshot();
  const requestsBefore = probe.requests;
  const windowStart = hrMicros();
  let acceptedEvents = 0;
  const load = await runLoad<null>({
    port: d.port,
    concurrency: SETTINGS.cConcurrency,
    durationMs: seconds * 1000,
    headers: { authorization: `Bearer ${key}` },
    next: () => ({ body: singleBody(), meta: null }),
    onResponse: (status) => {
      if (status === 202) acceptedEvents++;
    },
  });
  const drainedAt = await drain(probe, baseline + acceptedEvents, performance.now());
  const cpu = phaseCpu(CpuMeter.delta(before, cpuMeter.snapshot()), probe.requests - requestsBefore);
  return { load, acceptedEvents, drained: drainedAt !== undefined, cpu, window: [windowStart, hrMicros()] };
}

/** Requests answered per second of a load. */
function rate(load: LoadResult): number {
  return (load.requests / load.elapsedMs) * 1000;
}

/** Loads run one after another, as one: their answers and time added up. */
function mergeLoads(loads: LoadResult[]): LoadResult {
  const byStatus: Record<string, number> = {};
  for (const load of loads) for (const [status, n] of Object.entries(load.byStatus)) byStatus[status] = (byStatus[status] ?? 0) + n;
  const elapsedMs = loads.reduce((ms, l) => ms + l.elapsedMs, 0);
  return {
    requests: loads.reduce((n, l) => n + l.requests, 0),
    byStatus,
    errors: loads.reduce((n, l) => n + l.errors, 0),
    latencies: loads.flatMap((l) => l.latencies),
    elapsedMs,
    bytesSent: loads.reduce((n, l) => n + l.bytesSent, 0),
    clientCpu: loads.reduce((cpu, l) => cpu + l.clientCpu * l.elapsedMs, 0) / elapsedMs,
  };
}

/** CPU deltas of windows one after another, as one window: seconds and each group's CPU added up. */
function mergeCpu<T extends CpuDelta>(deltas: T[]): T {
  const add = (key: 'cpu' | 'mainThreadCpu') => {
    const out: Record<string, number> = {};
    for (const d of deltas) for (const [group, seconds] of Object.entries(d[key])) out[group] = (out[group] ?? 0) + seconds;
    return out;
  };
  return { ...deltas[0]!, seconds: deltas.reduce((s, d) => s + d.seconds, 0), cpu: add('cpu'), mainThreadCpu: add('mainThreadCpu'), changed: deltas.flatMap((d) => d.changed) };
}

/** (c) rounds as one phase; its window spans them all, the bare rounds between them included. */
function mergeSingles(rounds: SinglePhase[]): SinglePhase {
  const cpu = mergeCpu(rounds.map((r) => r.cpu));
  cpu.probeRequests = rounds.reduce((n, r) => n + r.cpu.probeRequests, 0);
  return {
    load: mergeLoads(rounds.map((r) => r.load)),
    acceptedEvents: rounds.reduce((n, r) => n + r.acceptedEvents, 0),
    drained: rounds.every((r) => r.drained),
    cpu,
    window: [rounds[0]!.window[0], rounds[rounds.length - 1]!.window[1]],
  };
}

/** (c-bare): the same client against a process that only parses the body. */
function bareLoad(port: number, seconds: number): Promise<LoadResult> {
  return runLoad<null>({ port, concurrency: SETTINGS.cConcurrency, durationMs: seconds * 1000, headers: { authorization: 'Bearer bare' }, next: () => ({ body: singleBody(), meta: null }) });
}

/**
 * What the server costs doing nothing, and what each of the bench's polls
 * costs it: CPU of app and Redis over an idle window, then over a window in
 * which the probe polls as in (b) (a visibility query every poll interval,
 * a count every second). The difference per request to /clickhouse is
 * subtracted from each phase's CPU for the net figure. Redis is shared with
 * whatever else runs on the machine, so its idle figure is that background.
 */
async function calibrate(d: Deployment, probe: ClickHouseProbe): Promise<{ idle: PhaseCpu; probed: PhaseCpu; cpuPerProbeRequest: number }> {
  const m = meter(d);
  let before: CpuSnapshot = m.snapshot();
  await sleep(SETTINGS.calibrateSeconds * 1000);
  const idle = phaseCpu(CpuMeter.delta(before, m.snapshot()), 0);
  const absent = [randomUUID()];
  let nextCount = performance.now();
  before = m.snapshot();
  const requestsBefore = probe.requests;
  const end = performance.now() + SETTINGS.calibrateSeconds * 1000;
  while (performance.now() < end) {
    await sleep(SETTINGS.pollIntervalMs);
    await probe.visible(absent);
    if (performance.now() >= nextCount) {
      nextCount += SETTINGS.countIntervalMs;
      await probe.count();
    }
  }
  const probed = phaseCpu(CpuMeter.delta(before, m.snapshot()), probe.requests - requestsBefore);
  const extra = totalCpu(probed) - (totalCpu(idle) / idle.seconds) * probed.seconds;
  return { idle, probed, cpuPerProbeRequest: Math.max(0, extra) / probed.probeRequests };
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

const e2eRate = (b: BatchPhase) => (b.acceptedEvents / b.e2eMs) * 1000;
const perThousand = (cpuSeconds: number, events: number) => (cpuSeconds / events) * 1000;

/** CPU seconds (app and Redis) that one request of the bench's probe costs, from the calibration. */
let cpuPerProbeRequest = 0;

/** A phase's CPU of app and Redis, less what the bench's polls cost (calibrated). */
const netCpu = (c: PhaseCpu) => totalCpu(c) - cpuPerProbeRequest * c.probeRequests;
const probeShare = (c: PhaseCpu) => (cpuPerProbeRequest * c.probeRequests) / totalCpu(c);

function cpuPerThousand(c: PhaseCpu, events: number) {
  return {
    net: perThousand(netCpu(c), events),
    raw: perThousand(totalCpu(c), events),
    api: perThousand(c.cpu.api ?? 0, events),
    worker: perThousand(c.cpu.worker ?? 0, events),
    redis: perThousand(c.cpu.redis ?? NaN, events),
    probeShare: probeShare(c),
  };
}

function cpuText(c: PhaseCpu, events: number): string {
  const k = cpuPerThousand(c, events);
  return `${fmt(k.net, 3)} s net of the bench's polls; ${fmt(k.raw, 3)} s measured (api ${fmt(k.api, 3)} + worker ${fmt(k.worker, 3)} + redis ${fmt(k.redis, 3)}; polls ${fmt(k.probeShare * 100)} %)`;
}

function batchFigures(b: BatchPhase) {
  return {
    e2eEventsPerSec: e2eRate(b),
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
    visibility: {
      samples: b.visibility.length,
      unseen: b.unseenSamples,
      p50Ms: percentile(b.visibility, 50),
      p99Ms: percentile(b.visibility, 99),
      maxMs: Math.max(...b.visibility),
      atPollSentP50Ms: percentile(b.visibilityAtSend, 50),
      atPollSentP99Ms: percentile(b.visibilityAtSend, 99),
    },
    clientCpu: b.load.clientCpu,
    cpu: b.cpu,
    cpuSecondsPer1000Events: cpuPerThousand(b.cpu, b.acceptedEvents),
    window: b.window,
  };
}

async function main(): Promise<void> {
  const benchStarted = Date.now();
  const loadAtStart = os.loadavg();
  // Every row the bench posts has occurred_at after this; the preloaded history ends an hour before it.
  const since = new Date(benchStarted - 60_000);
  const ns = namespace();
  log(`run ${ns.runId}${SHORT ? ' (BENCH_SHORT)' : ''}: ${os.cpus().length} cores, node ${process.version}, load average ${loadAtStart.map((l) => fmt(l, 1)).join(' ')}, temp ${ns.tmpDir}`);
  redis = await redisPid(ns.redisUrl);
  log(redis ? `redis-server pid ${redis} (INFO server process_id)` : 'redis-server is not a local process: its CPU is not counted');
  const profDir = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : undefined;
  if (profDir) fs.mkdirSync(profDir, { recursive: true });

  // (a) before any server: its own process, its own chDB store.
  log(`(a) raw insert: batches of 10k rows for ~${SETTINGS.aSeconds} s`);
  const raw = await measureRawInsert(ns.tmpDir);
  const rawRate = (raw.rows / raw.insertMs) * 1000;
  log(`(a) ${fmt(rawRate)} rows/s (${raw.batches} batches, count check ${raw.countAfter}/${raw.rows})`);

  // The preloaded store is filled before any server runs, so neither its insert nor its merges overlap a measurement.
  let pre: { ns: TempNamespace; result: PreloadResult } | undefined;
  if (SETTINGS.preloadRows > 0) {
    const preNs = namespace();
    log(`preload: ${fmt(SETTINGS.preloadRows)} rows into ${BENCH_TABLE} of a second store (${preNs.tmpDir}), by INSERT … SELECT FROM numbers()`);
    const result = await preload(preNs.serverEnv(), SETTINGS.preloadRows);
    log(
      `preload: inserted in ${fmt(result.insertMs / 1000, 1)} s, merges ${result.settled ? 'settled' : 'STILL RUNNING'} after ${fmt(result.settleMs / 1000, 1)} s more; ` +
        `${fmt(result.rowsInTable)} rows in ${result.parts} parts (${result.partsAfterInsert} after the insert), ${result.partitions} partitions, ${fmt(result.bytesOnDisk / 2 ** 20)} MiB`,
    );
    pre = { ns: preNs, result };
  }

  const ingestKey = await ns.createApiKey('bench', ['ingest']);
  const queryKey = await ns.createApiKey('bench-query', ['query']);

  // ---- the server on an empty store: (b), (b-sus), (c)
  let server = await deploy('server', ns.serverEnv(), profDir);
  let probe = new ClickHouseProbe(server.port, queryKey, since);
  const firstProbe = probe;
  const probes = [probe];
  const phases: Record<string, { pids: number[]; window: [number, number] }> = {};
  await measureBatches(server, ingestKey, probe, SETTINGS.warmupSeconds, { sample: false });
  log(`calibration: ${SETTINGS.calibrateSeconds} s idle, then ${SETTINGS.calibrateSeconds} s of the bench's polls only`);
  const calibration = await calibrate(server, probe);
  cpuPerProbeRequest = calibration.cpuPerProbeRequest;
  const partsBefore = await probe.parts();

  const rss = new RssSampler(server.pids);
  rss.start();
  log(`(b) ${SETTINGS.bSeconds} s of ${SETTINGS.bEventsPerPost}-event posts, ${SETTINGS.bConcurrency} in flight`);
  const b = await measureBatches(server, ingestKey, probe, SETTINGS.bSeconds, { sample: true });
  const bSamples = rss.samples.length;
  phases.b = { pids: server.pids(), window: b.window };
  log(`(b) ${fmt(e2eRate(b))} events/s end to end, visibility p99 ${fmt(percentile(b.visibility, 99))} ms, ${fmt(perThousand(totalCpu(b.cpu), b.acceptedEvents), 3)} CPU s per 1,000 events`);

  // (b-sus): paced at (b)'s end-to-end rate.
  let sustained: (BatchPhase & { offeredRate: number }) | undefined;
  const bRate = e2eRate(b);
  if (Number.isFinite(bRate) && bRate > 0) {
    const paceMs = (SETTINGS.sustainedConcurrency * SETTINGS.bEventsPerPost * 1000) / bRate;
    log(`(b-sus) ${SETTINGS.sustainedSeconds} s of posts offered at ${fmt(bRate)} events/s (${SETTINGS.sustainedConcurrency} loops, one post every ${fmt(paceMs)} ms each)`);
    sustained = { ...(await measureBatches(server, ingestKey, probe, SETTINGS.sustainedSeconds, { sample: true, concurrency: SETTINGS.sustainedConcurrency, paceMs })), offeredRate: bRate };
    phases.sustained = { pids: server.pids(), window: sustained.window };
    log(`(b-sus) ${fmt((sustained.acceptedEvents / sustained.load.elapsedMs) * 1000)} events/s accepted, visibility p99 ${fmt(percentile(sustained.visibility, 99))} ms`);
  } else {
    log('(b-sus) skipped: (b) did not drain, so there is no sustained rate to offer');
  }

  // (c) and (c-bare) alternate, round by round: they used to run a minute apart, in which this
  // machine's speed moved bare Express alone by a quarter. The bare server idles while (c) runs,
  // and the product is paused while bare runs.
  const bare = forkChild('bare-server.child.js', [], { ...process.env, PORT: '0', HOST: '127.0.0.1' });
  const barePort = (await waitForMessage<Ready>(bare.child, 'ready', 30_000, bare.output)).port;
  const roundSeconds = SETTINGS.cSeconds / SETTINGS.cRounds;
  log(`(c) and (c-bare): ${SETTINGS.cRounds} rounds of ${fmt(roundSeconds, 1)} s each, single-event posts, ${SETTINGS.cConcurrency} in flight`);
  await runLoad<null>({ port: server.port, concurrency: SETTINGS.cConcurrency, durationMs: 2000, headers: { authorization: `Bearer ${ingestKey}` }, next: () => ({ body: singleBody(), meta: null }) });
  await bareLoad(barePort, 2);
  const bareMeter = new CpuMeter({ bare: () => [bare.child.pid!] });
  const cRounds: SinglePhase[] = [];
  const bareRounds: { load: LoadResult; cpu: CpuDelta }[] = [];
  for (let round = 1; round <= SETTINGS.cRounds; round++) {
    cRounds.push(await measureSingles(server, ingestKey, probe, roundSeconds));
    // Paused while bare runs, as it was stopped when bare ran after it: its merges and timers would
    // otherwise take cores from bare. Resumed with a moment to catch up before the next (c) round.
    for (const s of server.servers) s.pause();
    const bareBefore = bareMeter.snapshot();
    let load: LoadResult;
    try {
      load = await bareLoad(barePort, roundSeconds);
    } finally {
      for (const s of server.servers) s.resume();
    }
    bareRounds.push({ load, cpu: CpuMeter.delta(bareBefore, bareMeter.snapshot()) });
    await sleep(500);
    log(`(c) round ${round}: ${fmt(rate(cRounds[round - 1]!.load))} posts/s, bare ${fmt(rate(load))} req/s`);
  }
  await stopChild(bare.child);
  const c = mergeSingles(cRounds);
  const cBare = mergeLoads(bareRounds.map((r) => r.load));
  const bareCpu = mergeCpu(bareRounds.map((r) => r.cpu));
  const singlesRatios = cRounds.map((r, i) => rate(r.load) / rate(bareRounds[i]!.load));
  phases.c = { pids: server.pids(), window: c.window };
  const rssSamples = rss.stop();
  // Which process grew: RSS of each group's processes at the start and end of (b)…(c).
  const rssByGroup = Object.fromEntries(
    Object.entries(server.groups).map(([group, pids]) => {
      const of = (sample: (typeof rssSamples)[number] | undefined) => pids().reduce((sum, pid) => sum + (sample?.byPid[pid] ?? 0), 0);
      return [group, { startMb: of(rssSamples[0]), endMb: of(rssSamples[rssSamples.length - 1]), maxMb: Math.max(...rssSamples.map(of)) }];
    }),
  );
  const partsAfter = await probe.parts();
  await probe.close();
  await server.stop();

  // ---- (b) on the preloaded store, then on a new empty store: the empty-store runs bracket each preloaded one.
  let history: { pre: BatchPhase[]; again: BatchPhase[]; partsPre: { parts: number; rows: number } } | undefined;
  if (pre) {
    const preIngest = await pre.ns.createApiKey('bench', ['ingest']);
    const preQuery = await pre.ns.createApiKey('bench-query', ['query']);
    history = { pre: [], again: [], partsPre: { parts: NaN, rows: NaN } };
    for (let round = 1; round <= SETTINGS.historyRounds; round++) {
      server = await deploy('server on the preloaded store', pre.ns.serverEnv(), profDir);
      probe = new ClickHouseProbe(server.port, preQuery, since);
      probes.push(probe);
      const partsPre = await probe.parts();
      if (round === 1) history.partsPre = partsPre;
      await measureBatches(server, preIngest, probe, SETTINGS.warmupSeconds, { sample: false });
      log(`(b-20M) ${SETTINGS.bSeconds} s of (b) on ${fmt(partsPre.rows)} rows in ${partsPre.parts} parts (round ${round} of ${SETTINGS.historyRounds})`);
      const bPre = await measureBatches(server, preIngest, probe, SETTINGS.bSeconds, { sample: true });
      phases[`bPreloaded${round}`] = { pids: server.pids(), window: bPre.window };
      history.pre.push(bPre);
      log(`(b-20M) ${fmt(e2eRate(bPre))} events/s end to end`);
      await probe.close();
      await server.stop();

      // A fresh namespace: the first store now holds (b)…(c)'s rows, and its Redis prefix their idempotency records.
      const emptyNs = namespace();
      const emptyIngest = await emptyNs.createApiKey('bench', ['ingest']);
      const emptyQuery = await emptyNs.createApiKey('bench-query', ['query']);
      server = await deploy('server on a new empty store', emptyNs.serverEnv(), profDir);
      probe = new ClickHouseProbe(server.port, emptyQuery, since);
      probes.push(probe);
      await measureBatches(server, emptyIngest, probe, SETTINGS.warmupSeconds, { sample: false });
      log(`(b-again) ${SETTINGS.bSeconds} s of (b) on a new empty store (round ${round} of ${SETTINGS.historyRounds})`);
      const bAgain = await measureBatches(server, emptyIngest, probe, SETTINGS.bSeconds, { sample: true });
      phases[`bAgain${round}`] = { pids: server.pids(), window: bAgain.window };
      history.again.push(bAgain);
      log(`(b-again) ${fmt(e2eRate(bAgain))} events/s end to end`);
      await probe.close();
      await server.stop();
    }
  }

  // ---- verification and the writer with sealing
  const verify: VerifyRun[] = [];
  for (const rows of SETTINGS.verifySizes) {
    log(`verify bench: ${fmt(rows)} sealed rows (write, then three verifications)`);
    const run = await runVerifyBench(rows, log);
    verify.push(run);
    log(
      `verify bench: ${fmt(rows)} rows: write ${fmt(run.writeRowsPerSec)} rows/s fed (${fmt(run.serialWriteRowsPerSec)} one write at a time), verify median ${fmt(run.verifyRowsPerSec)} rows/s (${fmt(run.seconds)} s)`,
    );
  }
  const loadAtEnd = os.loadavg();

  // ---- figures
  const cRate = (c.load.requests / c.load.elapsedMs) * 1000;
  const bareRate = (cBare.requests / cBare.elapsedMs) * 1000;
  const cP99 = percentile(c.load.latencies, 99);
  const susP99 = sustained ? percentile(sustained.visibility, 99) : NaN;
  const rssStart = rssSamples[0]?.rssMb ?? NaN;
  const rssEnd = rssSamples[rssSamples.length - 1]?.rssMb ?? NaN;
  const rssMax = Math.max(...rssSamples.map((s) => s.rssMb));
  // Flat = no upward trend: RSS saw-tooths with every flush, so the last third of (b) is compared with its first
  // third, and the end of (c) with the start of (b). The max is reported, not judged: it is a flush peak.
  const bRss = rssSamples.slice(0, bSamples).map((s) => s.rssMb);
  const third = Math.max(1, Math.floor(bRss.length / 3));
  const rssTrend = median(bRss.slice(-third)) / median(bRss.slice(0, third));
  const bOverA = bRate / rawRate;
  // Each round's ratio is taken side by side; their median is the verdict's figure.
  const cOverBare = median(singlesRatios);
  // The empty-store runs, in order: (b), then one after each preloaded run. Each preloaded run is compared with
  // the mean of the two that bracket it; the verdict takes the mean of those ratios.
  const mean = (xs: number[]) => xs.reduce((sum, x) => sum + x, 0) / xs.length;
  const emptyRates = history ? [bRate, ...history.again.map(e2eRate)] : [];
  const preRates = history ? history.pre.map(e2eRate) : [];
  const roundRatios = preRates.map((r, i) => r / mean([emptyRates[i]!, emptyRates[i + 1]!]));
  const preOverEmpty = history ? mean(roundRatios) : NaN;
  const emptySpread = history ? (Math.max(...emptyRates) - Math.min(...emptyRates)) / mean(emptyRates) : NaN;

  const verifyAt = (rows: number) => verify.find((v) => v.rows === rows);
  const verifyPass = TARGETS.verifySizes.map((rows) => verifyAt(rows)).every((v) => v !== undefined && v.verifyRowsPerSec >= TARGETS.verifyRowsPerSec);
  const writerPass = verify.length > 0 && verify.every((v) => v.writeRowsPerSec >= TARGETS.writerRowsPerSec);

  const results = {
    runId: ns.runId,
    date: new Date(benchStarted).toISOString(),
    durationSeconds: Math.round((Date.now() - benchStarted) / 1000),
    machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, memGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadAtStart, loadAtEnd },
    settings: SETTINGS,
    server: SETTINGS.splitRoles ? 'ROLE=worker,scheduler + ROLE=api, node dist/main.js each' : 'node dist/main.js (ROLE=all, WORKER_PROCESS=separate)',
    a: { rowsPerSec: rawRate, medianBatchRowsPerSec: median(raw.perBatchRowsPerSec), batches: raw.batches, rows: raw.rows, countAfter: raw.countAfter, jsonBytesPerRow: raw.jsonBytesPerRow },
    b: batchFigures(b),
    sustained: sustained ? { offeredEventsPerSec: sustained.offeredRate, ...batchFigures(sustained) } : null,
    c: {
      reqPerSec: cRate,
      p50Ms: percentile(c.load.latencies, 50),
      p99Ms: cP99,
      statuses: c.load.byStatus,
      errors: c.load.errors,
      drained: c.drained,
      clientCpu: c.load.clientCpu,
      cpu: c.cpu,
      cpuSecondsPer1000Events: cpuPerThousand(c.cpu, c.acceptedEvents),
    },
    cBare: {
      reqPerSec: bareRate,
      p50Ms: percentile(cBare.latencies, 50),
      p99Ms: percentile(cBare.latencies, 99),
      statuses: cBare.byStatus,
      errors: cBare.errors,
      clientCpu: cBare.clientCpu,
      serverCores: (bareCpu.cpu.bare ?? NaN) / bareCpu.seconds,
    },
    calibration,
    probe: {
      roundTripMs: { median: median(firstProbe.roundTrips), p99: percentile(firstProbe.roundTrips, 99), queries: firstProbe.roundTrips.length },
      internalErrorsRetried: probes.map((p) => p.internalErrors),
      failures: probeFailures.length,
    },
    parts: { beforeB: partsBefore, afterC: partsAfter },
    preload: pre ? { ...pre.result, partsAtServerStart: history?.partsPre } : null,
    history: history ? { preloaded: history.pre.map(batchFigures), emptyAgain: history.again.map(batchFigures), roundRatios, preloadedOverEmpty: preOverEmpty, emptyRunsSpread: emptySpread } : null,
    rss: { startMb: rssStart, endMb: rssEnd, maxMb: rssMax, bLastThirdOverFirstThird: rssTrend, byProcess: rssByGroup, samples: rssSamples.map((s) => Math.round(s.rssMb)) },
    verify: verify.map(({ output: _output, ...v }) => v),
    ratios: { bOverA, cOverBare, cOverBareRounds: singlesRatios },
    phases,
  };
  const pass = {
    bOverA: bOverA >= TARGETS.bOverA,
    visibility: sustained !== undefined && sustained.visibility.length > 0 && sustained.unseenSamples === 0 && susP99 <= TARGETS.visibilityP99Ms,
    cP99: cP99 <= TARGETS.cP99Ms,
    cOverBare: cOverBare >= TARGETS.cOverBare,
    verify: verifyPass,
    writer: writerPass,
    rss: rssEnd <= rssStart * (1 + TARGETS.rssGrowth) && rssTrend <= 1 + TARGETS.rssGrowth,
    history: history !== undefined && Math.abs(1 - preOverEmpty) <= TARGETS.preloadTolerance,
  };

  const ok = (p: boolean) => (p ? 'PASS' : 'FAIL');
  const visText = (p: BatchPhase) =>
    `p50 ${fmt(percentile(p.visibility, 50))} / p99 ${fmt(percentile(p.visibility, 99))} ms (${p.visibility.length} samples, ${p.unseenSamples} unseen; ` +
    `by the finding poll's send time ${fmt(percentile(p.visibilityAtSend, 50))} / ${fmt(percentile(p.visibilityAtSend, 99))} ms)`;
  const drainText = (p: BatchPhase) => (p.drained ? `drained ${fmt((p.e2eMs - p.load.elapsedMs) / 1000, 1)} s after the load` : `NOT drained within ${SETTINGS.drainTimeoutMs / 1000} s`);
  const rows: string[][] = [
    ['measure', 'result', 'target', 'verdict'],
    ['(a) raw insert, 10k-row batches', `${fmt(rawRate)} rows/s (median batch ${fmt(results.a.medianBatchRowsPerSec)})`, '', ''],
    ['(b) end to end, 100-event posts', `${fmt(bRate)} events/s (${fmt(results.b.acceptedEventsPerSec)} accepted/s, ${statusSummary(b.load)}; ${drainText(b)})`, '', ''],
    ['(b) / (a)', fmt(bOverA, 2), '≥ 0.60', ok(pass.bOverA)],
    ['(b) post latency p50 / p99', `${fmt(results.b.postP50Ms, 1)} / ${fmt(results.b.postP99Ms, 1)} ms`, '', ''],
    ['(b) 202 → visible, closed loop', visText(b), '', ''],
    [
      '(b) 202 → visible at the sustained rate',
      sustained
        ? `${visText(sustained)}; offered ${fmt(sustained.offeredRate)}, accepted ${fmt(results.sustained!.acceptedEventsPerSec)} events/s, ${statusSummary(sustained.load)}; ${drainText(sustained)}`
        : 'not measured',
      'p99 ≤ 2,000 ms',
      ok(pass.visibility),
    ],
    ['(c) single-event posts, 32 in flight', `${fmt(cRate)} req/s, p50 ${fmt(results.c.p50Ms, 1)} / p99 ${fmt(cP99, 1)} ms (${statusSummary(c.load)})`, 'p99 ≤ 25 ms', ok(pass.cP99)],
    ['(c-bare) bare Express 5', `${fmt(bareRate)} req/s, p50 ${fmt(results.cBare.p50Ms, 1)} / p99 ${fmt(results.cBare.p99Ms, 1)} ms (${statusSummary(cBare)})`, '', ''],
    [
      '(c) / bare',
      `${fmt(cOverBare, 2)} (median of ${singlesRatios.length} rounds side by side: ${singlesRatios.map((r) => fmt(r, 2)).join(', ')}; all rounds together ${fmt(cRate / bareRate, 2)})`,
      '≥ 0.50',
      ok(pass.cOverBare),
    ],
    ...verify.map((v) => [
      `verification, ${fmt(v.rows)} sealed rows`,
      `median ${fmt(v.verifyRowsPerSec)} rows/s (${v.verifyRuns.map((r) => fmt(r)).join(' / ')}), peak heap ${fmt(v.peakHeapMb)} MB`,
      '≥ 250,000 rows/s',
      ok(v.verifyRowsPerSec >= TARGETS.verifyRowsPerSec),
    ]),
    ...TARGETS.verifySizes.filter((rows) => !verifyAt(rows)).map((rows) => [`verification, ${fmt(rows)} sealed rows`, 'not run (BENCH_VERIFY_SIZES)', '≥ 250,000 rows/s', 'n/a']),
    [
      'writer with sealing, fed as the worker feeds it (400 slots of 100-row jobs, 5,000-row flushes)',
      verify.length ? verify.map((v) => `${fmt(v.writeRowsPerSec)} rows/s (${fmt(v.rows)}-row run)`).join(', ') : 'not run',
      '≥ 50,000 rows/s',
      verify.length ? ok(writerPass) : 'n/a',
    ],
    [
      '… one 10k-row write at a time (the measure before 2026-12-07)',
      verify.length ? verify.map((v) => `${fmt(v.serialWriteRowsPerSec)} rows/s (${fmt(v.rows)}-row run)`).join(', ') : 'not run',
      '',
      '',
    ],
    [
      'RSS, main + worker, during (b)…(c)',
      `start ${fmt(rssStart)} / end ${fmt(rssEnd)} / max ${fmt(rssMax)} MB; (b) last/first third ×${fmt(rssTrend, 2)}; ` +
        Object.entries(rssByGroup)
          .map(([g, r]) => `${g} ${fmt(r.startMb)} → ${fmt(r.endMb)} (max ${fmt(r.maxMb)})`)
          .join(', '),
      'flat: end ≤ start+20 %, no trend',
      ok(pass.rss),
    ],
    ['CPU s per 1,000 events, app + Redis: (b)', cpuText(b.cpu, b.acceptedEvents), '', ''],
    ...(sustained ? [['… at the sustained rate', cpuText(sustained.cpu, sustained.acceptedEvents), '', '']] : []),
    ['… (c) single events', cpuText(c.cpu, c.acceptedEvents), '', ''],
    [
      "… the bench's polls (calibrated idle)",
      `${fmt(cpuPerProbeRequest * 1000, 1)} ms of CPU (app + Redis) per /clickhouse request; (b) sent ${b.cpu.probeRequests}, (c) ${c.cpu.probeRequests}`,
      '',
      '',
    ],
    [
      'idle server / Redis (background)',
      `app ${fmt(appCpu(calibration.idle) / calibration.idle.seconds, 3)} cores, redis ${fmt((calibration.idle.cpu.redis ?? NaN) / calibration.idle.seconds, 3)} cores (Redis is shared: others' load counts here)`,
      '',
      '',
    ],
  ];
  if (history && pre) {
    const label = pre.result.rows >= 1e6 ? `${fmt(pre.result.rows / 1e6, pre.result.rows % 1e6 ? 1 : 0)}M` : `${fmt(pre.result.rows / 1e3)}k`;
    rows.push(
      ...history.pre.map((p, i) => [
        `(b) on ${label} preloaded rows${history.pre.length > 1 ? `, round ${i + 1}` : ''}`,
        `${fmt(e2eRate(p))} events/s (${drainText(p)}); visible ${visText(p)}`,
        '',
        '',
      ]),
      ...history.again.map((p, i) => [`(b) on a new empty store${history.again.length > 1 ? `, round ${i + 1}` : ''}`, `${fmt(e2eRate(p))} events/s (${drainText(p)}); visible ${visText(p)}`, '', '']),
      [
        `e2e, ${label} preloaded / empty`,
        `${fmt(preOverEmpty, 2)} (${roundRatios.map((r) => fmt(r, 2)).join(', ')} against the empty runs either side: ${emptyRates.map((r) => fmt(r)).join(', ')} events/s, which spread over ${fmt(emptySpread * 100)} %)`,
        'within 10 % at 20M rows',
        `${pre.result.rows >= TARGETS.preloadRows ? ok(pass.history) : `${ok(pass.history)} at ${label} only`}${emptySpread > TARGETS.preloadTolerance ? ' (noise between identical runs exceeds 10 %)' : ''}`,
      ],
      [
        '… CPU s per 1,000 events there',
        `preloaded ${history.pre.map((p) => cpuText(p.cpu, p.acceptedEvents)).join(' | ')}; empty again ${history.again.map((p) => cpuText(p.cpu, p.acceptedEvents)).join(' | ')}`,
        '',
        '',
      ],
    );
  } else {
    rows.push(['e2e, 20M preloaded / empty', 'not run (BENCH_PRELOAD_ROWS=0)', 'within 10 %', 'n/a']);
  }
  const busy = (p: PhaseCpu) =>
    Object.keys(p.mainThreadCpu)
      .filter((g) => g !== 'redis')
      .map((g) => `${g} ${fmt(((p.mainThreadCpu[g] ?? NaN) / p.seconds) * 100)} %`)
      .join(', ');
  const cores = (p: PhaseCpu) =>
    Object.keys(p.cpu)
      .map((g) => `${g} ${fmt((p.cpu[g] ?? NaN) / p.seconds, 2)}`)
      .join(', ');
  rows.push(
    ['cores used: (b) / (c) / bare', `(b) ${cores(b.cpu)}; (c) ${cores(c.cpu)}; bare ${fmt(results.cBare.serverCores, 2)}`, '', ''],
    ['main-thread CPU, share of a core: (b) / (c)', `(b) ${busy(b.cpu)}; (c) ${busy(c.cpu)}`, '', ''],
    ['bench client, cores: (b) / (c) / bare', `${fmt(b.load.clientCpu, 2)} / ${fmt(c.load.clientCpu, 2)} / ${fmt(cBare.clientCpu, 2)}`, '', ''],
  );
  const restarts = [b, sustained, c, ...(history?.pre ?? []), ...(history?.again ?? [])].flatMap((p) => p?.cpu.changed ?? []);
  process.stdout.write(
    `\nauditflow bench ${ns.runId}${SHORT ? ' (BENCH_SHORT)' : ''}: ${results.server} — ${results.date}, ${results.machine.cores} cores (${results.machine.cpu}), node ${process.version}, ` +
      `${results.durationSeconds} s; load average ${loadAtStart.map((l) => fmt(l, 1)).join(' ')} at the start, ${loadAtEnd.map((l) => fmt(l, 1)).join(' ')} at the end\n\n${table(rows)}\n\n` +
      `RSS samples (MB, 1/s, (b) then (b-sus) and (c)): ${results.rss.samples.join(' ')}\n` +
      `visible rows/s during (b) (1 Hz count()): ${b.visiblePerSecond.map((v) => fmt(v)).join(' ')}\n` +
      `probe (/clickhouse, relayed to the worker process): round trip median ${fmt(median(firstProbe.roundTrips), 1)} / p99 ${fmt(percentile(firstProbe.roundTrips, 99), 1)} ms on the first server ` +
      `(${firstProbe.roundTrips.length} queries); poll interval ${SETTINGS.pollIntervalMs} ms; ` +
      `"Internal error" answers retried: ${probes.map((p) => p.internalErrors).join(' / ')} (per server); queries failed after retries: ${probeFailures.length}${probeFailures.length ? ` (first: ${probeFailures[0]})` : ''}\n` +
      `parts of ${BENCH_TABLE}: ${partsBefore.parts} before (b), ${partsAfter.parts} after (c)` +
      (pre
        ? `; preloaded store: ${pre.result.parts} parts, ${pre.result.partitions} partitions, ${fmt(pre.result.bytesOnDisk / 2 ** 20)} MiB, merges ${pre.result.settled ? 'settled' : 'still running'} at its start`
        : '') +
      '\n' +
      (restarts.length ? `process changes during a phase (a worker restart?): ${restarts.join('; ')}\n` : '') +
      (profDir ? `CPU profiles in ${profDir}; phase windows (µs, as in the profiles): ${JSON.stringify(phases)}\n` : ''),
  );
  if (profDir) fs.writeFileSync(path.join(profDir, `phases-${ns.runId}.json`), `${JSON.stringify(phases, null, 2)}\n`);
  if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, `${JSON.stringify({ ...results, pass }, null, 2)}\n`);
}

// ---------------------------------------------------------------------------
// cleanup

async function cleanup(): Promise<void> {
  await Promise.all(liveServers().map((s) => s.stop(20_000).catch(() => undefined)));
  await Promise.all([...forked].map((c) => stopChild(c, 10_000).catch(() => undefined)));
  for (const ns of namespaces) await ns.cleanup();
}

let exitCode = 0;
const interrupted = () => {
  log('interrupted; cleaning up');
  void cleanup().finally(() => process.exit(130));
};
process.once('SIGINT', interrupted);
process.once('SIGTERM', interrupted);
// A promise nobody awaited failed: stop the servers and drop the namespaces rather than leave them running.
process.once('unhandledRejection', (reason) => {
  log(`bench failed: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
  void cleanup().finally(() => process.exit(1));
});

main()
  .catch((error: unknown) => {
    exitCode = 1;
    log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    for (const s of liveServers()) log(`${s.name}'s last output:\n${s.output().slice(-3000)}`);
  })
  .finally(async () => {
    await cleanup();
    process.exit(exitCode);
  });

/**
 * Phase (c), single-event posts with 32 in flight, measured side by side for
 * two or more builds (or one build under different settings) on a noisy
 * machine.
 *
 *   node dist-bench/bench/singles-ab.js <distDir> [<distDir> ...]
 *
 * Each distDir is a build of src/ inside its checkout (`tsc -p
 * tsconfig.build.json`; its parent holds migrations/ and clickhouse/). A
 * dir may be given more than once, with AB_ENV_<n> (1-based, JSON) adding
 * settings to server n, e.g. AB_ENV_2='{"WORKER_CONCURRENCY":"1000"}'.
 *
 * All servers run at once, each on its own namespace (database, Redis
 * prefix, chDB directory), idle while another is measured. Each round loads
 * every server in turn for AB_SECONDS [5] (the order reversed every other
 * round), after AB_PAUSE_MS [1500] of rest; the report is the median over
 * AB_ROUNDS [6]. Figures of one round are taken minutes apart at most, so a
 * machine whose speed drifts (shared cores) moves all of them together,
 * which a comparison of two full `npm run bench` runs cannot promise.
 *
 * Per server and round: 202s per second, latency p50/p99 over every answer
 * (a 429 from lag admission is an answer too: the status counts show them),
 * and CPU per 202 of the API process and of the worker process.
 *
 * AB_NODE_ARGS adds node flags to every server (e.g. '--cpu-prof
 * --cpu-prof-dir=/tmp/prof'; the worker process inherits them).
 * AB_NODE_<n> runs server n on another node binary (its worker process
 * too), to compare Node versions on one build: give the dir twice.
 *
 * AB_EVENTS_PER_POST [1] and AB_CONCURRENCY [32] turn it into phase (b)'s
 * shape (100 and 8): rates and CPU are then per accepted event. Accepted is
 * not drained, but lag admission keeps the two within a few seconds, so CPU
 * per event compares builds fairly.
 */
import path from 'node:path';
import { median, percentile, runLoad, sleep } from '../traffic/load';
import { batchBody, singleBody } from '../traffic/workload';
import { CpuMeter } from './proc';
import { freePort, startServer, type ServerUnderTest } from './server-under-test';
import { createTempNamespace, type TempNamespace } from './temp-namespace';

const ROUNDS = Number(process.env.AB_ROUNDS ?? 6);
const SECONDS = Number(process.env.AB_SECONDS ?? 5);
const PAUSE_MS = Number(process.env.AB_PAUSE_MS ?? 1500);
const CONCURRENCY = Number(process.env.AB_CONCURRENCY ?? 32);
const EVENTS_PER_POST = Number(process.env.AB_EVENTS_PER_POST ?? 1);

interface Contender {
  label: string;
  ns: TempNamespace;
  key: string;
  server: ServerUnderTest;
  rounds: Round[];
}

interface Round {
  rate: number;
  p50: number;
  p99: number;
  apiUs: number;
  workerUs: number;
  statuses: Record<string, number>;
}

function log(line: string): void {
  process.stderr.write(`[singles-ab ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** Server n's node binary, when AB_NODE_<n> names one. */
function nodePath(n: number): string | undefined {
  return process.env[`AB_NODE_${n}`] || undefined;
}

function nodeLabel(n: number): string {
  const path = nodePath(n);
  return path ? ` on ${path}` : '';
}

function extraEnv(n: number): Record<string, string> {
  const text = process.env[`AB_ENV_${n}`];
  return text ? (JSON.parse(text) as Record<string, string>) : {};
}

async function start(n: number, distDir: string): Promise<Contender> {
  const label = `#${n}`;
  const ns = createTempNamespace('ab', log);
  const key = await ns.createApiKey('bench', ['ingest']);
  const port = await freePort();
  const env = { ...ns.serverEnv(), PORT: String(port), LOG_LEVEL: 'warn', ...extraEnv(n) };
  const execArgv = process.env.AB_NODE_ARGS ? process.env.AB_NODE_ARGS.split(' ') : [];
  const node = nodePath(n);
  const server = await startServer(label, env, { port, readyPort: port, distDir, execArgv, ...(node ? { nodePath: node } : {}) });
  log(`${label}: ${distDir} ${JSON.stringify(extraEnv(n))}${nodeLabel(n)}, pids ${server.pids().join(', ')}`);
  return { label, ns, key, server, rounds: [] };
}

function load(c: Contender, seconds: number) {
  return runLoad<null>({
    port: c.server.port!,
    concurrency: CONCURRENCY,
    durationMs: seconds * 1000,
    headers: { authorization: `Bearer ${c.key}` },
    next: () => ({ body: EVENTS_PER_POST === 1 ? singleBody() : batchBody(EVENTS_PER_POST).body, meta: null }),
  });
}

async function measure(c: Contender): Promise<Round> {
  const pids = c.server.pids();
  const meter = new CpuMeter({ api: () => pids.slice(0, 1), worker: () => pids.slice(1) });
  const before = meter.snapshot();
  const result = await load(c, SECONDS);
  const cpu = CpuMeter.delta(before, meter.snapshot()).cpu;
  const accepted = (result.byStatus['202'] ?? 0) * EVENTS_PER_POST;
  return {
    rate: (accepted / result.elapsedMs) * 1000,
    p50: percentile(result.latencies, 50),
    p99: percentile(result.latencies, 99),
    apiUs: (cpu.api! / accepted) * 1e6,
    workerUs: (cpu.worker! / accepted) * 1e6,
    statuses: result.byStatus,
  };
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const dirs = process.argv.slice(2).map((d) => path.resolve(d));
  if (dirs.length === 0) throw new Error('usage: node dist-bench/bench/singles-ab.js <distDir> [<distDir> ...]');
  const contenders: Contender[] = [];
  try {
    for (const [i, dir] of dirs.entries()) contenders.push(await start(i + 1, dir));
    // Warm-up: JIT, connections, the first parts of each store.
    for (const c of contenders) await load(c, 3);
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? contenders : [...contenders].reverse();
      for (const c of order) {
        await sleep(PAUSE_MS);
        const r = await measure(c);
        c.rounds.push(r);
        log(
          `round ${round + 1}/${ROUNDS} ${c.label}: ${fmt(r.rate)} events/s, p50 ${fmt(r.p50, 1)} / p99 ${fmt(r.p99, 1)} ms, api ${fmt(r.apiUs)} µs + worker ${fmt(r.workerUs)} µs per event, ${JSON.stringify(r.statuses)}`,
        );
      }
    }
    const of = (c: Contender, f: (r: Round) => number) => median(c.rounds.map(f));
    console.log(`${EVENTS_PER_POST}-event posts, ${CONCURRENCY} in flight: medians of ${ROUNDS} rounds of ${SECONDS} s; rates and CPU per accepted event`);
    console.log('build  evts/s   p50 ms  p99 ms  api µs  worker µs  non-202');
    for (const c of contenders) {
      const other = c.rounds.reduce((n, r) => n + Object.entries(r.statuses).reduce((m, [s, k]) => m + (s === '202' ? 0 : k), 0), 0);
      const cells = [
        fmt(of(c, (r) => r.rate)),
        fmt(
          of(c, (r) => r.p50),
          1,
        ),
        fmt(
          of(c, (r) => r.p99),
          1,
        ),
        fmt(of(c, (r) => r.apiUs)),
        fmt(of(c, (r) => r.workerUs)),
        String(other),
      ];
      console.log([c.label.padEnd(5), ...cells.map((cell, i) => cell.padStart([5, 7, 6, 6, 9, 7][i]!))].join('  '));
    }
    for (const [i, dir] of dirs.entries()) console.log(`#${i + 1}: ${dir} ${JSON.stringify(extraEnv(i + 1))}${nodeLabel(i + 1)}`);
  } finally {
    for (const c of contenders) {
      const code = await c.server.stop();
      if (code !== 0) log(`${c.label} exited with code ${code}:\n${c.server.output().slice(-2000)}`);
      await c.ns.cleanup();
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

/**
 * `npm run simulate`: labelled login traffic through the real ingest API —
 * normal users and five attacks — and how the risk worker scored it:
 * detection per attack, false positives on normal logins, event → decision
 * time, and the risk state's Redis footprint per user and per IP.
 *
 * By default it starts auditflow in this process (the product's start() as
 * `node dist/main.js` runs it, ROLE=all) on a temporary namespace: its own
 * DATA_DIR and chDB store, PostgreSQL database and Redis prefix, all removed
 * afterwards. Needs only Redis and PostgreSQL (REDIS_URL, BENCH_PG_URL).
 *
 *   --url <base>              target a running server on this machine instead, with the
 *                             API key in AUDITFLOW_KEY (ingest and query scopes); an
 *                             environment variable, so npm's banner never echoes it
 *   --redis-prefix <prefix>   with --url: its QUEUE_PREFIX, to measure the footprint
 *   --scale <x>               1 (default): 1000 normal users, 200 instances of each attack
 *   --seed <n>                traffic seed (default 1)
 *   --concurrency <n>         requests in flight (default 16)
 *   --rate <n>                events per second at most (default 200; 0: as fast as accepted)
 *   --json <file>             every figure as JSON
 *
 * Exits 1 when a target is missed. See docs/security-analytics.md for the figures.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { product } from '../traffic/product';
import { measureRiskFootprint, type RiskFootprint } from '../traffic/simulation/footprint';
import { formatResult, runSimulation } from '../traffic/simulation/run-simulation';
import { createTempNamespace, type TempNamespace } from './temp-namespace';

function log(line: string): void {
  process.stderr.write(`[simulate ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    key: { type: 'string' },
    'redis-prefix': { type: 'string' },
    scale: { type: 'string', default: '1' },
    seed: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '16' },
    rate: { type: 'string', default: '200' },
    json: { type: 'string' },
  },
});

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, not ${JSON.stringify(value)}`);
  return n;
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

function formatFootprint(f: RiskFootprint): string {
  const row = (name: string, s: RiskFootprint['perUser']) =>
    `${name}: ${s.owners} measured, ${s.keys} keys; bytes mean ${Math.round(s.meanBytes)}, p50 ${s.p50Bytes}, p99 ${s.p99Bytes}, max ${s.maxBytes}`;
  const kinds = Object.entries(f.byKind).map(([kind, k]) => `${kind} ${k.keys} × ${k.meanBytes}`);
  return [row('per user', f.perUser), row('per IP', f.perIp), row('per event (1 h)', f.perEvent), `keys (count × mean bytes): ${kinds.join(', ')}`].join('\n');
}

let ns: TempNamespace | undefined;
let stop: (() => Promise<boolean>) | undefined;

async function shutDown(): Promise<void> {
  if (stop && !(await stop())) log('auditflow did not stop cleanly');
  stop = undefined;
  await ns?.cleanup();
  ns = undefined;
}

async function main(): Promise<number> {
  const scale = positive('scale', args.scale!);
  const started = Date.now();
  const loadBefore = os.loadavg();
  let url = args.url;
  let key = process.env.AUDITFLOW_KEY;
  let prefix = args['redis-prefix'];
  try {
    if (url) {
      if (args.key) throw new Error('--key is gone: a key on the command line is echoed by npm and kept in shell history; set AUDITFLOW_KEY instead');
      if (!key) throw new Error('--url needs AUDITFLOW_KEY set to an API key with the ingest and query scopes');
      // Simulated attacks go to this machine only.
      if (!isLoopback(url)) throw new Error(`--url must be a loopback address (127.0.0.1, localhost, ::1), not ${url}`);
    } else {
      ns = createTempNamespace('simulate', log);
      key = await ns.createApiKey('simulator', ['ingest', 'query']);
      product.zodConfig().configureZod();
      const config = product.env().loadConfig(ns.serverEnv());
      const running = await product.start().start(config, product.logger().createLogger(config.logLevel, { simulate: true }));
      stop = running.stop;
      url = `http://127.0.0.1:${running.port}`;
      prefix = ns.queuePrefix;
      log(`auditflow started in this process at ${url} (namespace ${ns.queuePrefix}, temp ${ns.tmpDir})`);
    }

    const options = {
      runTag: `sim${randomBytes(3).toString('hex')}`,
      normalUsers: Math.round(1000 * scale),
      attacksPerScenario: Math.max(1, Math.round(200 * scale)),
      attemptsPerAttack: 10,
      seed: positive('seed', args.seed!),
      concurrency: positive('concurrency', args.concurrency!),
      rate: Number(args.rate) >= 0 ? Number(args.rate) : positive('rate', args.rate!),
      timeoutMs: 10 * 60_000,
      log,
    };
    log(
      `${options.normalUsers} normal users, ${options.attacksPerScenario} instances of each attack, ${options.concurrency} requests in flight, ${options.rate > 0 ? `at most ${options.rate} events/s` : 'as fast as accepted'}, ${os.cpus().length} cores, load ${loadBefore.map((l) => l.toFixed(1)).join(' ')}`,
    );
    // In-process, the API, the worker and the simulator share this event loop: its delay shows how much of
    // event → decision is this process waiting for the CPU or for synchronous work.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const result = await runSimulation({ url, key: key! }, options);
    loopDelay.disable();
    const loop = { p50Ms: loopDelay.percentile(50) / 1e6, p99Ms: loopDelay.percentile(99) / 1e6, maxMs: loopDelay.max / 1e6 };

    const stack = ns !== undefined;
    let footprint: RiskFootprint | undefined;
    if (prefix) {
      const redis = new Redis(ns?.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
      try {
        footprint = await measureRiskFootprint(redis, prefix);
      } finally {
        await redis.quit();
      }
    }
    const loadAfter = os.loadavg();
    process.stdout.write(
      `\nauditflow risk simulation — ${new Date().toISOString()}, ${os.cpus().length} cores (${os.cpus()[0]?.model}), node ${process.version}, ` +
        `${Math.round((Date.now() - started) / 1000)} s; load average ${loadBefore.map((l) => l.toFixed(1)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(1)).join(' ')} after\n` +
        `${result.events.sent} events sent (${options.rate > 0 ? `at most ${options.rate}/s` : 'closed loop, as fast as accepted'}; ${result.events.retried} retries after 429/503): history ${(result.elapsedMs.history / 1000).toFixed(1)} s, live ${(result.elapsedMs.live / 1000).toFixed(1)} s, ` +
        `last decisions ${(result.elapsedMs.decisions / 1000).toFixed(1)} s later; event-loop delay of this process ${stack ? '(API, worker and simulator) ' : ''}` +
        `p50 ${loop.p50Ms.toFixed(0)} ms, p99 ${loop.p99Ms.toFixed(0)} ms, max ${loop.maxMs.toFixed(0)} ms\n\n${formatResult(result)}\n\n` +
        (footprint ? `Redis footprint of the risk state (MEMORY USAGE):\n${formatFootprint(footprint)}\n` : 'Redis footprint: not measured (give --redis-prefix with --url)\n'),
    );
    if (args.json)
      fs.writeFileSync(
        args.json,
        `${JSON.stringify({ date: new Date().toISOString(), cores: os.cpus().length, loadBefore, loadAfter, options: { ...options, log: undefined }, eventLoopDelay: loop, result, footprint }, null, 2)}\n`,
      );
    return result.pass.detection && result.pass.falsePositives && result.pass.latency ? 0 : 1;
  } finally {
    await shutDown();
  }
}

const interrupted = () => {
  log('interrupted; cleaning up');
  void shutDown().finally(() => process.exit(130));
};
process.once('SIGINT', interrupted);
process.once('SIGTERM', interrupted);

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`simulation failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(2);
  },
);

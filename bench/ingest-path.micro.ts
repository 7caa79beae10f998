/**
 * Micro-benchmark of the API's hot path: what the main thread spends per
 * accepted event in `IngestService.ingestDecoded` and the producer, against
 * the real Redis, without HTTP or the worker (docs/performance.md, "API hot
 * path").
 *
 *   node dist-bench/bench/ingest-path.micro.js [distDir ...]
 *
 * Each distDir is a build of src/ (`tsc -p tsconfig.build.json`; default: this
 * tree's dist/). To compare two builds on a noisy machine they are measured
 * side by side: each round runs one child process per build, in turn, and the
 * report is the median over rounds. Knobs: MICRO_ROUNDS [5], MICRO_EVENTS
 * [20000] (events per measure), BENCH_CPU_PROF=<dir> (V8 CPU profile of each
 * child, for bench/profile-summary.ts), REDIS_URL.
 *
 * Measures, per event (µs; cpu = the process's user+system time, wall = elapsed):
 *   hostile   hostileJsonProblem(raw)                          (cpu)
 *   parse     parseEvent(raw)                                  (cpu)
 *   queued    toQueuedEvent(parsed, raw) (+ content hash)      (cpu)
 *   service   ingestDecoded, 100-event bodies, producer stubbed (cpu; JSON.parse of the body included)
 *   batches   ingestDecoded + IngestProducer + Redis, 100-event bodies, 8 in flight (cpu, wall)
 *   singles   the same, one-event bodies, 32 in flight (cpu, wall)
 *   access    the API's own api_access events: 32 "requests" in flight, each publishing one
 *             event and waiting for it as requestContext does (cpu, wall, jobs per 1000 requests)
 */
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { auditEvent } from '../traffic/workload';

type Product = {
  event: typeof import('../src/schemas/event');
  zod: typeof import('../src/schemas/zod-config');
  hostile: typeof import('../src/lib/hostile-json-value');
  queued: typeof import('../src/domain/queued-event');
  service: typeof import('../src/features/ingest/ingest.service');
  producer: typeof import('../src/queues/ingest.producer');
  publisher: typeof import('../src/queues/event-publisher');
  spool: typeof import('../src/queues/spool/event-spool');
  metrics: typeof import('../src/lib/metrics');
  logger: typeof import('../src/lib/logger');
};

function loadProduct(dist: string): Product {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = (rel: string) => require(path.join(dist, rel));
  return {
    event: load('schemas/event.js'),
    zod: load('schemas/zod-config.js'),
    // The walk moved to lib/ (one file per concept); older builds, compared side by side, have it in http/.
    hostile: fs.existsSync(path.join(dist, 'lib/hostile-json-value.js')) ? load('lib/hostile-json-value.js') : load('http/hostile-json.js'),
    queued: load('domain/queued-event.js'),
    service: load('features/ingest/ingest.service.js'),
    producer: load('queues/ingest.producer.js'),
    publisher: load('queues/event-publisher.js'),
    spool: load('queues/spool/event-spool.js'),
    metrics: load('lib/metrics.js'),
    logger: load('lib/logger.js'),
  };
}

type Figures = Record<string, number>;

const ROUNDS = Number(process.env.MICRO_ROUNDS ?? 5);
const EVENTS = Number(process.env.MICRO_EVENTS ?? 20_000);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Runs `fn` over `items` once to warm up, then measured; µs of CPU per item. */
function cpuPerItem<T>(items: T[], fn: (item: T) => unknown): number {
  for (let i = 0; i < Math.min(items.length, 2000); i++) fn(items[i]!);
  const start = cpuMicros();
  for (const item of items) fn(item);
  return (cpuMicros() - start) / items.length;
}

/** Runs `count` tasks with `concurrency` in flight; cpu and wall µs per `unit`. */
async function closedLoop(count: number, concurrency: number, task: (i: number) => Promise<void>, units: number): Promise<{ cpu: number; wall: number }> {
  let next = 0;
  const cpu = cpuMicros();
  const wall = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
  return { cpu: (cpuMicros() - cpu) / units, wall: ((performance.now() - wall) * 1000) / units };
}

async function measure(dist: string): Promise<Figures> {
  const p = loadProduct(dist);
  p.zod.configureZod();
  const { Queue } = await import('bullmq');
  const { Redis } = await import('ioredis');
  const figures: Figures = {};

  // Parts, on bodies as express.json hands them over (fresh objects from JSON.parse).
  const raws = Array.from({ length: EVENTS }, () => JSON.parse(JSON.stringify(auditEvent())) as Record<string, unknown>);
  figures['hostile cpu'] = cpuPerItem(raws, (raw) => p.hostile.hostileJsonProblem(raw));
  figures['parse cpu'] = cpuPerItem(raws, (raw) => p.event.parseEvent(raw));
  const parsed = raws.map((raw) => {
    const r = p.event.parseEvent(raw);
    if (!r.ok) throw new Error(`bench event does not validate: ${JSON.stringify(r.issues)}`);
    return { event: r.event, raw };
  });
  figures['queued cpu'] = cpuPerItem(parsed, ({ event, raw }) => p.queued.toQueuedEvent(event, raw));

  const metrics = new p.metrics.AppMetrics();
  const open = { refusal: () => null, admit: () => null } as never;
  const bodies = (perBody: number) => {
    const out: string[] = [];
    for (let i = 0; i < EVENTS; i += perBody) out.push(JSON.stringify(perBody === 1 ? auditEvent() : Array.from({ length: perBody }, () => auditEvent())));
    return out;
  };
  const decode = (text: string) => {
    const body = JSON.parse(text) as unknown;
    return (Array.isArray(body) ? body : [body]).map((raw) => ({ raw }));
  };

  const stubProducer = { submit: async (batch: { events: unknown[] }) => batch.events.map(() => 'accepted') } as never;
  const stubbed = new p.service.IngestService(stubProducer, open, metrics);
  const hundreds = bodies(100);
  await closedLoop(20, 1, (i) => stubbed.ingestDecoded('micro', decode(hundreds[i]!)).then(() => undefined), 1);
  figures['service cpu'] = (await closedLoop(hundreds.length, 1, (i) => stubbed.ingestDecoded('micro', decode(hundreds[i]!)).then(() => undefined), EVENTS)).cpu;

  const prefix = `micro-${randomBytes(4).toString('hex')}`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('ingest', { connection: redis, prefix, defaultJobOptions: { removeOnComplete: true, removeOnFail: false }, streams: { events: { maxLen: 1000 } } });
  let jobs = 0;
  const producer = new p.producer.IngestProducer(queue as never, redis, { prefix, idempotencyWindowMinutes: 10, onJobAdded: () => jobs++ });
  const service = new p.service.IngestService(producer, open, metrics);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'auditflow-micro-'));
  try {
    const warm = bodies(100).slice(0, 10);
    await closedLoop(warm.length, 4, (i) => service.ingestDecoded('micro', decode(warm[i]!)).then(() => undefined), 1);
    const batchBodies = bodies(100);
    const b = await closedLoop(batchBodies.length, 8, (i) => service.ingestDecoded('micro', decode(batchBodies[i]!)).then(() => undefined), EVENTS);
    figures['batches cpu'] = b.cpu;
    figures['batches wall'] = b.wall;
    const singleBodies = bodies(1).slice(0, Math.min(EVENTS, 5000));
    const c = await closedLoop(singleBodies.length, 32, (i) => service.ingestDecoded('micro', decode(singleBodies[i]!)).then(() => undefined), singleBodies.length);
    figures['singles cpu'] = c.cpu;
    figures['singles wall'] = c.wall;

    const logger = p.logger.createLogger('silent');
    const spool = await p.spool.EventSpool.open({ dir: tmp, maxBytes: 64 * 1024 * 1024, logger });
    const publisher = new p.publisher.EventPublisher(producer, { sourceApp: 'auditflow', spool, redisReady: () => redis.status === 'ready', logger, orphanCheckMs: 0 });
    const requests = Math.min(EVENTS, 5000);
    const request = async (i: number) => {
      const acks = new p.publisher.Acknowledgements();
      publisher.recording(acks, () => publisher.publish(accessEvent(i)));
      publisher.sendNow();
      const failure = await acks.settled();
      if (failure) throw failure;
    };
    await closedLoop(200, 32, request, 1);
    jobs = 0;
    const a = await closedLoop(requests, 32, request, requests);
    figures['access cpu'] = a.cpu;
    figures['access wall'] = a.wall;
    figures['access jobs/1000'] = (jobs * 1000) / requests;
    await publisher.close();
  } finally {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await deleteKeys(redis, `${prefix}:*`);
    await redis.quit();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return figures;
}

/** An api_access event as requestContext builds it. */
function accessEvent(i: number) {
  return {
    kind: 'api_access' as const,
    method: 'POST',
    endpoint: '/v1/events',
    response_status: 202,
    response_time_ms: i % 40,
    bytes_sent: 120,
    bytes_received: 650,
    ip_address: '127.0.0.1',
    user_agent: 'okhttp/4.12.0',
    user_id: null,
    api_key_id: randomUUID(),
    request_headers: { 'content-type': 'application/json', 'x-request-id': randomUUID() },
  };
}

async function deleteKeys(redis: import('ioredis').Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = nextCursor;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

function runChild(dist: string): Promise<Figures> {
  const prof = process.env.BENCH_CPU_PROF;
  const execArgv = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--child', dist], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: Figures | undefined;
    child.on('message', (m) => (result = m as Figures));
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`child for ${dist} exited with ${code}`))));
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    const figures = await measure(path.resolve(args[1]!));
    process.send!(figures, () => process.exit(0));
    return;
  }
  const dists = (args.length > 0 ? args : [path.resolve(__dirname, '..', '..', 'dist')]).map((d) => path.resolve(d));
  const all = dists.map(() => [] as Figures[]);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [i, dist] of dists.entries()) {
      all[i]!.push(await runChild(dist));
      process.stderr.write(`round ${round}/${ROUNDS}: ${dist} done\n`);
    }
  }
  const names = Object.keys(all[0]![0]!);
  const width = Math.max(...names.map((n) => n.length));
  process.stdout.write(`µs per event (median of ${ROUNDS} rounds, ${EVENTS} events per measure; load average ${os.loadavg()[0]!.toFixed(1)})\n`);
  process.stdout.write(`${''.padEnd(width)}  ${dists.map((_, i) => `#${i + 1}`.padStart(9)).join('')}\n`);
  for (const name of names) {
    process.stdout.write(
      `${name.padEnd(width)}  ${all
        .map((runs) =>
          median(runs.map((r) => r[name]!))
            .toFixed(1)
            .padStart(9),
        )
        .join('')}\n`,
    );
  }
  dists.forEach((d, i) => {
    process.stdout.write(`#${i + 1}: ${d}\n`);
  });
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

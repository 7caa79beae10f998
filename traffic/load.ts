import http from 'node:http';
import fs from 'node:fs';

/**
 * A closed-loop HTTP load generator: `concurrency` loops, each with its own
 * keep-alive connection, post a body, wait for the whole response, post the
 * next. node:http with a keep-alive Agent is used for every target, so the
 * product and the bare baseline see the very same client.
 */
export interface LoadOptions<M> {
  port: number;
  concurrency: number;
  durationMs: number;
  headers: Record<string, string>;
  /** Builds the next request body (and what the caller wants back with its response). */
  next: () => { body: Buffer; meta: M };
  /** Called when a response has been read completely. */
  onResponse?: (status: number, meta: M, doneAt: number) => void;
  /** A request unanswered after this long is abandoned (counted as an error). Default: none. */
  timeoutMs?: number;
  /** Called when a request fails without an answer (connection refused or reset, timeout). */
  onError?: (error: Error, meta: M) => void;
  /** Shortest time between the starts of one loop's posts, to offer a set rate instead of all it can take. Default 0. */
  paceMs?: number;
}

export interface LoadResult {
  requests: number;
  byStatus: Record<string, number>;
  errors: number;
  /** Latency of every completed request, ms (request start → last byte of the response). */
  latencies: number[];
  elapsedMs: number;
  bytesSent: number;
  /** CPU the bench process itself used during the run, as a share of one core. */
  clientCpu: number;
}

export async function runLoad<M>(options: LoadOptions<M>): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency, maxFreeSockets: options.concurrency });
  const latencies: number[] = [];
  const byStatus: Record<string, number> = {};
  let errors = 0;
  let bytesSent = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + options.durationMs;

  const post = (body: Buffer) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: options.port,
          method: 'POST',
          path: '/v1/events',
          agent,
          headers: { ...options.headers, 'content-type': 'application/json', 'content-length': String(body.length) },
        },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (options.timeoutMs) req.setTimeout(options.timeoutMs, () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
      req.end(body);
    });

  const loop = async () => {
    while (performance.now() < deadline) {
      const { body, meta } = options.next();
      const t = performance.now();
      try {
        const status = await post(body);
        const done = performance.now();
        latencies.push(done - t);
        byStatus[status] = (byStatus[status] ?? 0) + 1;
        bytesSent += body.length;
        options.onResponse?.(status, meta, done);
        if (status === 429 || status === 503) await sleep(50);
        const rest = (options.paceMs ?? 0) - (performance.now() - t);
        if (rest > 0) await sleep(rest);
      } catch (error) {
        errors++;
        options.onError?.(error as Error, meta);
        await sleep(20);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  agent.destroy();
  return {
    requests: latencies.length,
    byStatus,
    errors,
    latencies,
    elapsedMs,
    bytesSent,
    clientCpu: (cpu.user + cpu.system) / 1000 / elapsedMs,
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Samples the summed RSS (MB) and CPU (cores) of one or more processes once a second from /proc. */
export class ProcessSampler {
  readonly samples: { t: number; rssMb: number; cpu: number }[] = [];
  private timer?: NodeJS.Timeout;
  private lastTicks?: { ticks: number; t: number };

  constructor(private readonly pids: number[]) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), 1000);
  }

  stop(): { t: number; rssMb: number; cpu: number }[] {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return this.samples;
  }

  private sample(): void {
    try {
      const t = performance.now();
      let rssKb = 0;
      let ticks = 0;
      for (const pid of this.pids) {
        const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
        rssKb += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
        // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks (100 Hz on Linux), counted after the ")".
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        ticks += Number(fields[11]) + Number(fields[12]);
      }
      const cpu = this.lastTicks ? (ticks - this.lastTicks.ticks) / 100 / ((t - this.lastTicks.t) / 1000) : NaN;
      this.lastTicks = { ticks, t };
      this.samples.push({ t, rssMb: rssKb / 1024, cpu });
    } catch {
      // a process has exited
    }
  }
}

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runLoad, type LoadResult } from '../../traffic/load';
import { batchBody } from '../../traffic/workload';

export interface IngestLoadOptions {
  port: number;
  key: string;
  concurrency: number;
  durationMs: number;
  /** Events per post. Default 100. */
  eventsPerPost?: number;
  /** Shortest time between one loop's posts (see traffic/load.ts). Default 0: as fast as answers come. */
  paceMs?: number;
  /** A post unanswered after this long is abandoned (and counted as `timeout`), so the load always ends. Default 30 s. */
  timeoutMs?: number;
}

interface Post {
  body: Buffer;
  ids: string[];
}

/**
 * Sustained ingest through the bench's load generator, as an idempotent
 * client sends it: client-chosen event_ids, and a post answered 429 or 503
 * is sent again, the same body, before any new one. Counts what the API
 * acknowledged (a 202 acknowledges every event of its post) and when.
 */
export class IngestLoad {
  readonly acked = new Set<string>();
  readonly statuses: Record<string, number> = {};
  /** Every answer's time (ms since the load started) and status, in order. */
  readonly timeline: { t: number; status: number }[] = [];
  offeredEvents = 0;
  resent = 0;
  private readonly retry: Post[] = [];
  private started = 0;

  constructor(private readonly options: IngestLoadOptions) {}

  /** ms since the load started. */
  now(): number {
    return performance.now() - this.started;
  }

  async run(): Promise<LoadResult> {
    const size = this.options.eventsPerPost ?? 100;
    this.started = performance.now();
    const result = await runLoad<Post>({
      port: this.options.port,
      concurrency: this.options.concurrency,
      durationMs: this.options.durationMs,
      paceMs: this.options.paceMs,
      timeoutMs: this.options.timeoutMs ?? 30_000,
      onError: (error) => {
        const kind = /no answer within/.test(error.message) ? 'timeout' : 'connection_error';
        this.statuses[kind] = (this.statuses[kind] ?? 0) + 1;
      },
      headers: { authorization: `Bearer ${this.options.key}` },
      next: () => {
        const again = this.retry.shift();
        if (again) this.resent++;
        const post = again ?? batchBody(size);
        this.offeredEvents += post.ids.length;
        return { body: post.body, meta: post };
      },
      onResponse: (status, post) => {
        this.statuses[status] = (this.statuses[status] ?? 0) + 1;
        this.timeline.push({ t: this.now(), status });
        if (status === 202) for (const id of post.ids) this.acked.add(id);
        else if (status === 429 || status === 503) this.retry.push(post);
      },
    });
    return result;
  }

  /** ms from `since` to the first 202 at or after it (null: none came). */
  firstAckAfter(since: number): number | null {
    const hit = this.timeline.find((r) => r.t >= since && r.status === 202);
    return hit ? hit.t - since : null;
  }

  /** Status codes as `202×1200, 503×40`. */
  statusSummary(): string {
    return Object.entries(this.statuses)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([status, n]) => `${status}×${n}`)
      .join(', ');
  }
}

/** What one load process reports when it is done (see flood-client.js). */
export interface LoadProcessResult {
  acked: string[];
  statuses: Record<string, number>;
  offeredEvents: number;
  resent: number;
  /** Wall-clock start and end of its run (ms since the epoch). */
  startedAt: number;
  endedAt: number;
}

/**
 * Runs `processes` IngestLoads at once, each in a process of its own, so the
 * load is not capped by what one event loop can send (one process on these
 * 2 cores offered 2–6× the sustainable rate). Resolves with their merged figures.
 */
export async function runLoadProcesses(
  processes: number,
  options: IngestLoadOptions,
): Promise<{ acked: Set<string>; statuses: Record<string, number>; offeredEvents: number; resent: number; elapsedMs: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-flood-'));
  try {
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: processes }, (_, i) => {
        const out = path.join(dir, `${i}.json`);
        const child = spawn(process.execPath, [path.join(__dirname, 'flood-client.js'), JSON.stringify({ ...options, out })], { stdio: ['ignore', 'inherit', 'inherit'] });
        const timer = setTimeout(() => child.kill('SIGKILL'), options.durationMs + (options.timeoutMs ?? 30_000) + 60_000);
        return new Promise<LoadProcessResult>((resolve, reject) =>
          child.once('exit', (code) => {
            clearTimeout(timer);
            if (code !== 0) reject(new Error(`load process ${i} exited with ${code}`));
            else resolve(JSON.parse(fs.readFileSync(out, 'utf8')) as LoadProcessResult);
          }),
        );
      }),
    );
    const merged = { acked: new Set<string>(), statuses: {} as Record<string, number>, offeredEvents: 0, resent: 0, elapsedMs: performance.now() - started };
    for (const r of results) {
      for (const id of r.acked) merged.acked.add(id);
      for (const [status, n] of Object.entries(r.statuses)) merged.statuses[status] = (merged.statuses[status] ?? 0) + n;
      merged.offeredEvents += r.offeredEvents;
      merged.resent += r.resent;
    }
    return merged;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Status codes as `202×1200, 503×40`. */
export function statusSummary(statuses: Record<string, number>): string {
  return Object.entries(statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, n]) => `${status}×${n}`)
    .join(', ');
}

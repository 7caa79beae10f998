import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { saturatedAllowance, withinFairShare } from '../../domain/fair-share';
import { AppError } from '../../lib/errors/app-error';
import { ApiProcessRoll, apiProcessesKey } from './api-process-roll';
import { AppIntake } from './app-intake';
import { HELD_SINCE_FRESH_MS, heldSinceKey, OLDEST_UNWRITTEN } from './held-jobs';
import { PostsInFlight, type PostInFlight } from './posts-in-flight';
import { storeDiskLow, writerStalled, type WriterHealthState } from './writer/writer-health';

/**
 * `fair`: saturated for a reason that admitting a little more cannot turn
 * into loss (the backlog, the workers' lag): the apps within their share of
 * the recent events are still admitted (fair shedding). The others (Redis
 * memory, Redis down, the store failing) refuse every app.
 */
export type PipelineState = { state: 'ok' } | Shedding;
type Shedding = { state: 'saturated' | 'unavailable'; reason: string; retryAfterSeconds: number; fair?: boolean };

export interface BackpressureOptions {
  /** Waiting + delayed ingest jobs' events above which new events are refused with 429. */
  maxBacklogEvents: number;
  /**
   * Refuse new events (429) while the oldest events not yet written were
   * queued longer ago than this (INGEST_MAX_LAG_MS): those waiting for a
   * worker, and those a worker holds until its writer flushes them
   * (publishHeldSince). The workers are behind, and what is accepted now
   * would only wait longer. 0 or unset: never.
   */
  maxLagMs?: number;
  /**
   * Refuse a share of new posts (429) while this process's event loop is
   * busy more than this percentage of the time (INGEST_MAX_BUSY_PERCENT):
   * the API itself is then the bottleneck, and every post it takes on makes
   * every answer later. The share adapts (see sampleEventLoop), so the API
   * keeps taking what it can handle. The refusal comes before the body is
   * read, so it stays cheap however hard the flood. 0 or unset: never.
   */
  maxBusyPercent?: number;
  /**
   * Refuse new events once Redis uses this share of its maxmemory (when one
   * is set). Default 0.75: the rest is headroom for writes that no ingest
   * check gates, the workers' own (BullMQ moving jobs, the risk worker's
   * state) and the API's own events.
   */
  maxMemoryRatio?: number;
  /**
   * What one admitted event is reckoned to add to Redis until the next sample
   * measures it: its share of the job payload, its idempotency record (~60 B)
   * and the command buffer it passes through. Default 1 KiB.
   */
  bytesPerEvent?: number;
  /** How often the queue and Redis are sampled. Default 100 ms: between two samples a burst of posts can add megabytes. */
  intervalMs?: number;
  /**
   * Refuse new events (503) once the ClickHouse writer has failed every flush
   * for this long (WRITER_STALL_MS): queueing what cannot be written only
   * grows a backlog nobody is told about. 0 or unset: never.
   */
  writerStallMs?: number;
  /** Refuse new events (503) while the store's disk has less free space than this (DISK_MIN_FREE_BYTES). Unset: never. */
  minFreeBytes?: number;
  /** The writer's state, where the worker runs in this process (ROLE=all). */
  writerHealth?: () => WriterHealthState;
  /** Else the Redis key a worker publishes it under (`writerHealthKey`), read with each sample. */
  writerHealthKey?: string;
}

/** Whether a Redis error is its refusal of a write over maxmemory (`OOM command not allowed ...`). */
export function isRedisOutOfMemory(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('OOM ');
}

const STORE_FAILING: Shedding = { state: 'unavailable', reason: 'the event store cannot be written (its disk is full, or every write fails)', retryAfterSeconds: 10 };

/**
 * Busy shedding waits for a flood: this many posts in flight in the process.
 * A few clients that keep a saturated API busy (the bench's 8 and 32 in
 * flight) are served as fast as it can, not refused; measured, shedding them
 * cost a quarter to a third of the throughput. Uploads left hanging (a
 * slowloris) stop counting after a second (PostsInFlight).
 */
const BUSY_MIN_IN_FLIGHT = 64;

const BUSY: Shedding = { state: 'saturated', reason: 'this API process is saturated (its event loop has no idle time to spare)', retryAfterSeconds: 1 };

const FULL: Shedding = { state: 'saturated', reason: 'Redis memory is nearly full', retryAfterSeconds: 5 };

/**
 * Samples the ingest queue's backlog, the age of its oldest unwritten events and
 * Redis memory in the background, so the request path can shed load (429)
 * before Redis runs out of memory or the workers fall far behind, without a
 * Redis round trip per request.
 *
 * Between two samples, every batch the producer is about to write is
 * counted against the memory left (`admit`): under a flood, hundreds of
 * posts are admitted within one interval, and judging them all by a sample
 * taken before any of them was written is what carried Redis past its limit.
 *
 * Shedding is fair between source apps (src/domain/fair-share.ts): while
 * the backlog is full, the workers are behind or the process is busy, the
 * posts of apps within their share of the events accepted in the last
 * seconds (AppIntake) are still admitted, so one app's flood does not
 * refuse every other app. Bounded: while saturated, those admissions add up
 * to at most `saturatedAllowance` of the backlog, split between the API
 * processes of the deployment (ApiProcessRoll), and count against Redis
 * memory like any; while busy, at most BUSY_MIN_IN_FLIGHT of them are in
 * flight at once.
 */
export class IngestBackpressure {
  private current: PipelineState = { state: 'ok' };
  private timer?: NodeJS.Timeout;
  /** Average events per queued job, learned from what the producer sends. */
  private eventsPerJob = 100;
  /** used_memory and maxmemory at the last sample. */
  private used = 0;
  private max = 0;
  /** Bytes admitted since the start (reckoned with bytesPerEvent). */
  private admittedTotal = 0;
  /** admittedTotal when the last sample that succeeded was sent, and when the one before it was. */
  private markLast = 0;
  private markBefore = 0;
  /** The writer's state as last read from Redis (other roles). */
  private remoteWriter: WriterHealthState | null = null;
  /** The event loop's use at the last sample, and the share of new posts admitted while it is too busy. */
  private loop: EventLoopUtilization = performance.eventLoopUtilization();
  private admittedShare = 1;
  private busySamples = 0;
  /** The posts this process is working on, and those of them that busy shedding let through for being within their app's share. */
  private readonly inFlight = new PostsInFlight();
  private readonly exemptInFlight = new PostsInFlight();
  /** Events accepted per app in the last seconds the pipeline was open (moved on with each open sample). */
  private readonly intake = new AppIntake();
  /** Events admitted within their app's share since the pipeline was last open. */
  private admittedSaturated = 0;
  /** The deployment's API processes, and how many there were at the last sample: each admits its part of the allowance. */
  private readonly roll: ApiProcessRoll;
  private apiProcesses = 1;
  /** Where the workers publish since when their held jobs have waited (the queue's prefix). */
  private readonly heldSinceKey: string;

  constructor(
    private readonly queue: Queue,
    private readonly redis: Redis,
    private readonly options: BackpressureOptions,
  ) {
    this.heldSinceKey = heldSinceKey(queue.opts.prefix ?? 'bull');
    this.roll = new ApiProcessRoll(redis, apiProcessesKey(queue.opts.prefix ?? 'bull'));
  }

  start(): void {
    this.intake.advance(performance.now());
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.options.intervalMs ?? 100);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    void this.roll.leave();
  }

  state(): PipelineState {
    if (this.redis.status !== 'ready') {
      return { state: 'unavailable', reason: 'Redis is unavailable', retryAfterSeconds: 5 };
    }
    if (this.writerStalled()) return STORE_FAILING;
    if (this.current.state === 'ok' && this.memoryFull(0)) return FULL;
    return this.current;
  }

  private writerStalled(): boolean {
    const state = this.options.writerHealth?.() ?? this.remoteWriter;
    return writerStalled(state, this.options.writerStallMs ?? 0) || (this.options.minFreeBytes !== undefined && storeDiskLow(state, this.options.minFreeBytes));
  }

  /**
   * The error that refuses `events` new events of `app` while the pipeline
   * sheds load (429 saturated, 503 unavailable); null when they may come in.
   * Asked again once the body is decoded; counts nothing (see `admit`).
   */
  refusal(app: string, events: number): AppError | null {
    const pipeline = this.state();
    if (pipeline.state === 'ok') return this.busyRefuses() ? this.busyRefusal(app, events) : null;
    return this.saturatedRefusal(pipeline, app, events);
  }

  /**
   * Asked for each sheddable batch just before it is written: its refusal,
   * or null, in which case its events count against the memory left until
   * the next sample, and to its app's share.
   */
  admit(app: string, events: number): AppError | null {
    const pipeline = this.state();
    const refusal = pipeline.state === 'ok' ? null : this.saturatedRefusal(pipeline, app, events);
    if (refusal) return refusal;
    const bytes = events * (this.options.bytesPerEvent ?? 1024);
    if (this.memoryFull(bytes)) return toRefusal(FULL);
    this.admittedTotal += bytes;
    if (pipeline.state !== 'ok') this.admittedSaturated += events;
    this.intake.record(app, events);
    return null;
  }

  /**
   * A new post of `app`, before its body is read: its refusal (429/503), or
   * the post, counted in flight (see PostsInFlight).
   */
  enter(app: string): AppError | PostInFlight {
    const pipeline = this.state();
    if (pipeline.state !== 'ok') return this.saturatedRefusal(pipeline, app, 1) ?? this.inFlight.admit();
    if (!this.busyRefuses()) return this.inFlight.admit();
    const refusal = this.busyRefusal(app, 1);
    if (refusal) return refusal;
    const post = this.inFlight.admit();
    const counted = this.exemptInFlight.admit();
    return {
      bodyArrived: () => {
        post.bodyArrived();
        counted.bodyArrived();
      },
      done: () => {
        post.done();
        counted.done();
      },
    };
  }

  /** Busy shedding's draw: whether this post would be refused for the process being busy (see sampleEventLoop). */
  private busyRefuses(): boolean {
    return this.admittedShare < 1 && this.inFlight.count() >= BUSY_MIN_IN_FLIGHT && Math.random() >= this.admittedShare;
  }

  /** A post that busy shedding drew is still let through while its app is within its share, BUSY_MIN_IN_FLIGHT such posts at most at once. */
  private busyRefusal(app: string, events: number): AppError | null {
    if (!withinFairShare(this.intake.share(app), events)) return toRefusal(BUSY, 'over share');
    return this.exemptInFlight.count() < BUSY_MIN_IN_FLIGHT ? null : toRefusal(BUSY);
  }

  /** `events` of `app` still come in while the pipeline is saturated if it is so for a fair reason, the app is within its share, and the allowance is not spent. */
  private saturatedRefusal(pipeline: Shedding, app: string, events: number): AppError | null {
    if (!pipeline.fair) return toRefusal(pipeline);
    if (!withinFairShare(this.intake.share(app), events)) return toRefusal(pipeline, 'over share');
    const allowance = Math.floor(saturatedAllowance(this.options.maxBacklogEvents) / this.apiProcesses);
    return this.admittedSaturated + events <= allowance ? null : toRefusal(pipeline);
  }

  noteJobSize(events: number): void {
    // The backlog is counted in jobs times their average size: the small jobs that fair shedding lets
    // through while saturated would drag the average down and reopen the pipeline to the flood, so
    // it holds still until the pipeline is open again (overcounting the backlog a little, not under).
    if (this.admittedSaturated > 0) return;
    this.eventsPerJob = this.eventsPerJob * 0.9 + events * 0.1;
  }

  private memoryFull(extraBytes: number): boolean {
    // A batch admitted just before a sample may still be on its way to Redis when INFO runs: admissions
    // stay counted until a sample sent after the next one, so none is missed (some count twice for a moment).
    const unmeasured = this.admittedTotal - this.markBefore;
    return this.max > 0 && (this.used + unmeasured + extraBytes) / this.max > (this.options.maxMemoryRatio ?? 0.75);
  }

  /**
   * The share of new posts to admit, from how busy the event loop was since
   * the last sample: halved after each busy interval from the second in a
   * row on (one busy interval is a burst, such as start-up, not a flood),
   * down to 1 in 20, and raised by a tenth after each one with time to
   * spare. Refusing every post while busy would not do: answering a flood's
   * refusals keeps the loop busy by itself, and the API would then take
   * almost nothing.
   */
  private sampleEventLoop(): void {
    const max = this.options.maxBusyPercent ?? 0;
    if (max <= 0) return;
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, this.loop).utilization * 100;
    this.loop = now;
    this.busySamples = busy > max ? this.busySamples + 1 : 0;
    if (this.busySamples >= 2) this.admittedShare = Math.max(0.05, this.admittedShare / 2);
    else if (this.busySamples === 0) this.admittedShare = Math.min(1, this.admittedShare + 0.1);
  }

  private async sample(): Promise<void> {
    this.sampleEventLoop();
    const mark = this.admittedTotal;
    // INFO is answered even over maxmemory; the job counts are a script, which Redis then refuses.
    const key = this.options.writerHealth ? undefined : this.options.writerHealthKey;
    const [info, counts, writer, oldest, processes] = await Promise.allSettled([
      this.redis.info('memory'),
      this.queue.getJobCounts('waiting', 'delayed', 'prioritized'),
      key ? this.redis.get(key) : Promise.resolve(null),
      this.options.maxLagMs ? this.redis.eval(OLDEST_UNWRITTEN, 2, this.queue.keys.wait!, this.heldSinceKey, this.queue.toKey(''), Date.now(), HELD_SINCE_FRESH_MS) : Promise.resolve(null),
      this.roll.count(),
    ]);
    // Unanswered, the last count stands: Redis refusing scripts (maxmemory) shuts the pipeline anyway.
    if (processes.status === 'fulfilled') this.apiProcesses = Math.max(1, processes.value);
    // No key (no worker has published for 10 s): nothing is known against the store.
    if (writer.status === 'fulfilled') this.remoteWriter = writer.value ? (JSON.parse(writer.value) as WriterHealthState) : null;
    if (info.status === 'fulfilled') {
      this.used = Number(/used_memory:(\d+)/.exec(info.value)?.[1] ?? 0);
      this.max = Number(/maxmemory:(\d+)/.exec(info.value)?.[1] ?? 0);
      this.markBefore = this.markLast;
      this.markLast = mark;
    }
    if (info.status === 'fulfilled' && this.memoryFull(0)) {
      this.current = FULL;
    } else if (counts.status === 'rejected') {
      // Refused for memory, Redis is overloaded, not down: 429, so clients back off and retry rather than fail over.
      this.current = isRedisOutOfMemory(counts.reason) ? FULL : { state: 'unavailable', reason: 'Redis is unavailable', retryAfterSeconds: 5 };
    } else if (info.status === 'rejected') {
      this.current = { state: 'unavailable', reason: 'Redis is unavailable', retryAfterSeconds: 5 };
    } else {
      const c = counts.value;
      const backlog = ((c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0)) * this.eventsPerJob;
      const lagMs = oldest.status === 'fulfilled' && oldest.value ? Date.now() - Number(oldest.value) : 0;
      if (backlog > this.options.maxBacklogEvents) this.current = { state: 'saturated', reason: 'the ingest backlog is full', retryAfterSeconds: 2, fair: true };
      else if (this.options.maxLagMs && lagMs > this.options.maxLagMs) {
        this.current = {
          state: 'saturated',
          reason: `the workers are behind (the oldest events not yet written were queued ${Math.round(lagMs / 1000)} s ago)`,
          retryAfterSeconds: 2,
          fair: true,
        };
      } else this.current = { state: 'ok' };
    }
    // The shares move on only while the pipeline is open (AppIntake).
    if (this.current.state === 'ok') {
      this.intake.advance(performance.now());
      this.admittedSaturated = 0;
    }
  }
}

/** The refusal; `over share` when other apps are still served and this one is not, which it says without telling how much the others send. */
function toRefusal(pipeline: Shedding, overShare?: 'over share'): AppError {
  const share = overShare ? ', and this app has sent at least its share of the recent events (apps that sent less are still served)' : '';
  return new AppError(pipeline.state === 'saturated' ? 'RATE_LIMITED' : 'UNAVAILABLE', `${pipeline.reason}${share}; retry later`, {
    retryAfterSeconds: pipeline.retryAfterSeconds,
  });
}

import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppError } from '../../lib/errors/app-error';
import { PostsInFlight, type PostInFlight } from './posts-in-flight';
import { storeDiskLow, writerStalled, type WriterHealthState } from './writer/writer-health';

export type PipelineState = { state: 'ok' } | { state: 'saturated' | 'unavailable'; reason: string; retryAfterSeconds: number };

export interface BackpressureOptions {
  /** Waiting + delayed ingest jobs' events above which new events are refused with 429. */
  maxBacklogEvents: number;
  /**
   * Refuse new events (429) while the oldest ingest job waiting for a worker
   * is older than this (INGEST_MAX_LAG_MS): the workers are behind, and what
   * is accepted now would only wait longer. 0 or unset: never.
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

const STORE_FAILING: PipelineState = { state: 'unavailable', reason: 'the event store cannot be written (its disk is full, or every write fails)', retryAfterSeconds: 10 };

/**
 * Busy shedding waits for a flood: this many posts in flight in the process.
 * A few clients that keep a saturated API busy (the bench's 8 and 32 in
 * flight) are served as fast as it can, not refused; measured, shedding them
 * cost a quarter to a third of the throughput. Uploads left hanging (a
 * slowloris) stop counting after a second (PostsInFlight).
 */
const BUSY_MIN_IN_FLIGHT = 64;

const BUSY: PipelineState = { state: 'saturated', reason: 'this API process is saturated (its event loop has no idle time to spare)', retryAfterSeconds: 1 };

const FULL: PipelineState = { state: 'saturated', reason: 'Redis memory is nearly full', retryAfterSeconds: 5 };

/** The enqueue time of the job a worker takes next: BullMQ pushes new jobs at the head of `wait` and workers take them from its tail. */
const OLDEST_WAITING = `
local id = redis.call('LINDEX', KEYS[1], -1)
if not id then return false end
return redis.call('HGET', ARGV[1] .. id, 'timestamp')`;

/**
 * Samples the ingest queue's backlog, the age of its oldest waiting job and
 * Redis memory in the background, so the request path can shed load (429)
 * before Redis runs out of memory or the workers fall far behind, without a
 * Redis round trip per request.
 *
 * Between two samples, every batch the producer is about to write is
 * counted against the memory left (`admit`): under a flood, hundreds of
 * posts are admitted within one interval, and judging them all by a sample
 * taken before any of them was written is what carried Redis past its limit.
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
  /** The posts this process is working on. */
  private readonly inFlight = new PostsInFlight();

  constructor(
    private readonly queue: Queue,
    private readonly redis: Redis,
    private readonly options: BackpressureOptions,
  ) {}

  start(): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.options.intervalMs ?? 100);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
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

  /** The error that refuses new events while the pipeline sheds load (429 saturated, 503 unavailable); null when open. */
  refusal(): AppError | null {
    const pipeline = this.state();
    if (pipeline.state === 'ok' && this.admittedShare < 1 && this.inFlight.count() >= BUSY_MIN_IN_FLIGHT && Math.random() >= this.admittedShare) return toRefusal(BUSY);
    return toRefusal(pipeline);
  }

  /**
   * Asked for each sheddable batch just before it is written: its refusal,
   * or null, in which case its events count against the memory left until
   * the next sample.
   */
  admit(events: number): AppError | null {
    const pipeline = this.state();
    if (pipeline.state !== 'ok') return toRefusal(pipeline);
    const bytes = events * (this.options.bytesPerEvent ?? 1024);
    if (this.memoryFull(bytes)) return toRefusal(FULL);
    this.admittedTotal += bytes;
    return null;
  }

  /** Counts an admitted post as in flight (see PostsInFlight). */
  enter(): PostInFlight {
    return this.inFlight.admit();
  }

  noteJobSize(events: number): void {
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
    const [info, counts, writer, oldest] = await Promise.allSettled([
      this.redis.info('memory'),
      this.queue.getJobCounts('waiting', 'delayed', 'prioritized'),
      key ? this.redis.get(key) : Promise.resolve(null),
      this.options.maxLagMs ? this.redis.eval(OLDEST_WAITING, 1, this.queue.keys.wait!, this.queue.toKey('')) : Promise.resolve(null),
    ]);
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
      if (backlog > this.options.maxBacklogEvents) this.current = { state: 'saturated', reason: 'the ingest backlog is full', retryAfterSeconds: 2 };
      else if (this.options.maxLagMs && lagMs > this.options.maxLagMs) {
        this.current = { state: 'saturated', reason: `the workers are behind (the oldest waiting events were queued ${Math.round(lagMs / 1000)} s ago)`, retryAfterSeconds: 2 };
      } else this.current = { state: 'ok' };
    }
  }
}

function toRefusal(pipeline: PipelineState): AppError | null {
  if (pipeline.state === 'ok') return null;
  return new AppError(pipeline.state === 'saturated' ? 'RATE_LIMITED' : 'UNAVAILABLE', `${pipeline.reason}; retry later`, {
    retryAfterSeconds: pipeline.retryAfterSeconds,
  });
}

import { AsyncLocalStorage } from 'node:async_hooks';
import type { QueuedEvent } from '../domain/event-row';
import { toQueuedEvent } from '../domain/queued-event';
import type { Logger } from '../lib/logger';
import type { SpoolMetrics } from '../lib/metrics';
import { parseEvent, type RawEvent } from '../schemas/event';
import type { EventSpool } from './spool/event-spool';
import type { IngestProducer } from './ingest.producer';
import type { IngestBatch } from './queue-names';
import { SpoolFullError } from '../lib/errors/spool-full-error';

/** What became of one published event: undefined once it is in Redis or synced to the spool, else why not. */
type Outcome = Error | undefined;

/** The events published while serving one request, so that its response can wait until they are recorded. */
export class Acknowledgements {
  private readonly pending: Promise<Outcome>[] = [];

  add(outcome: Promise<Outcome>): void {
    this.pending.push(outcome);
  }

  /** Resolves once every event added so far is recorded or has failed: the first failure, if any. */
  async settled(): Promise<Error | undefined> {
    return (await Promise.all(this.pending)).find((o) => o !== undefined);
  }
}

export interface EventPublisherOptions {
  /** Recorded as source_app on every event this process emits. */
  sourceApp: string;
  /** Longest an event waits to share a job with others, unless a response is waiting for it. Default 25 ms. */
  maxDelayMs?: number;
  /** A batch is sent at once when it reaches this size. Default 500. */
  maxBatch?: number;
  /** Events held in memory when neither Redis nor the spool takes them, before the oldest are dropped (and logged). Default 100 000. */
  maxBuffered?: number;
  /** Where events are kept, on disk, while Redis is unreachable. */
  spool: EventSpool;
  /** Whether the Redis connection is up; while it is not, batches go straight to the spool. */
  redisReady: () => boolean;
  /** Longest wait for Redis to take a batch before it is spooled instead. Default 2000 ms. */
  submitTimeoutMs?: number;
  /** How often a replay of the spool is tried while it holds events. Default 1000 ms. */
  replayIntervalMs?: number;
  /**
   * How often the spool is looked at for segments other processes left (a
   * CLI command that ran while Redis was down), while this one is not
   * spooling. Default 5000 ms; 0 turns it off (a CLI command's own publisher).
   */
  orphanCheckMs?: number;
  metrics?: SpoolMetrics;
  logger: Logger;
}

export interface PublishOptions {
  /**
   * The event of a request that was refused (4xx) or failed (5xx): nothing
   * was acknowledged on the strength of it. While Redis is down it is spooled only while the spool is
   * less than half full, so that a flood of refused requests (apps retrying
   * ingest) cannot use up the room the API's acknowledged actions need.
   */
  bestEffort?: boolean;
}

interface Pending {
  event: QueuedEvent;
  settle: (outcome: Outcome) => void;
  bestEffort?: boolean;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * How the API's own actions become events: validated against the same
 * schemas as the ingest API, then micro-batched into one BullMQ job, never
 * one job per event.
 *
 * An event is recorded once it is in Redis or, while Redis is unreachable,
 * appended and synced to the spool. Requests wait for that before they are
 * answered (see `requestContext`), through {@link Acknowledgements} gathered
 * in an AsyncLocalStorage scope, so no call site has to await its events.
 *
 * Order is kept: once one batch has gone to the spool, every later batch
 * goes there too until the spool has been replayed, oldest segment first;
 * appends and replay steps take turns in one loop, so neither starves.
 */
export class EventPublisher {
  private buffer: Pending[] = [];
  private timer?: NodeJS.Timeout;
  private sendSoon?: NodeJS.Immediate;
  private replayTimer?: NodeJS.Timeout;
  private orphanTimer?: NodeJS.Timeout;
  private pumping = false;
  private idle: (() => void)[] = [];
  /** Batches go to the spool (Redis failed once, or an earlier process left events there). */
  private spooling = false;
  /** A replay should be tried on the next turn. */
  private replayDue = false;
  /** The last append failed (spool full or disk error): wait for the next replay tick before trying again. */
  private blocked = false;
  /** The spool refused an append: until a replay frees room, new actions could not be recorded. */
  private unrecordable = false;
  private closed = false;
  /** close() has begun: nothing new is started (an orphan check in flight must not restart replay). */
  private closing = false;
  private readonly scope = new AsyncLocalStorage<Acknowledgements>();
  private readonly maxDelayMs: number;
  private readonly maxBatch: number;
  private readonly maxBuffered: number;
  private readonly submitTimeoutMs: number;

  constructor(
    private readonly producer: IngestProducer,
    private readonly options: EventPublisherOptions,
  ) {
    this.maxDelayMs = options.maxDelayMs ?? 25;
    this.maxBatch = options.maxBatch ?? 500;
    this.maxBuffered = options.maxBuffered ?? 100_000;
    this.submitTimeoutMs = options.submitTimeoutMs ?? 2000;
    if (options.spool.segmentCount > 0) {
      this.startSpooling();
      this.replayDue = true;
      this.kick();
    }
    const orphanCheckMs = options.orphanCheckMs ?? 5000;
    if (orphanCheckMs > 0) {
      this.orphanTimer = setInterval(() => void this.adoptOrphans(), orphanCheckMs);
      this.orphanTimer.unref();
    }
  }

  /** Replays segments that exited processes left in the spool, in order with this one's events (they go to the spool meanwhile). */
  private async adoptOrphans(): Promise<void> {
    if (this.spooling || this.closing || !this.options.redisReady()) return;
    try {
      if (!(await this.options.spool.hasOrphans()) || this.spooling || this.closing) return;
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not look for events other processes left in the spool');
      return;
    }
    this.options.logger.info('events left in the spool by another process; replaying them');
    this.startSpooling();
    this.replayDue = true;
    this.kick();
  }

  /** Runs `fn` so that every event published in it, and in what it awaits, is added to `acks`. */
  recording<T>(acks: Acknowledgements, fn: () => T): T {
    return this.scope.run(acks, fn);
  }

  /** False while Redis is unreachable and the spool refused its last append (full, or a disk error): a new action could not be recorded. */
  canRecord(): boolean {
    return !this.closed && !(this.spooling && this.unrecordable);
  }

  /** Queues an event for the pipeline. An invalid event is a bug in our code: it is logged, not thrown at the user. */
  publish(event: RawEvent, options: PublishOptions = {}): void {
    const parsed = parseEvent(event);
    if (!parsed.ok) {
      this.options.logger.error({ kind: event.kind, issues: parsed.issues }, 'the API built an invalid event; it was not published');
      // The action it records is not reported done as if it were recorded: its request answers 503, its command fails.
      if (!options.bestEffort) this.scope.getStore()?.add(Promise.resolve(new Error(`an invalid ${event.kind} event could not be recorded`)));
      return;
    }
    let settle!: (outcome: Outcome) => void;
    const outcome = new Promise<Outcome>((resolve) => (settle = resolve));
    this.scope.getStore()?.add(outcome);
    if (this.closed) {
      this.options.logger.error({ kind: event.kind }, 'an event was published after the publisher closed; it was not recorded');
      settle(new Error('the event publisher is closed'));
      return;
    }
    this.buffer.push({ event: toQueuedEvent(parsed.event, event), settle, bestEffort: options.bestEffort });
    if (this.buffer.length >= this.maxBatch) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.maxDelayMs);
  }

  publishAll(events: RawEvent[]): void {
    for (const e of events) this.publish(e);
  }

  /**
   * Sends what is buffered without waiting for the batching delay: a response
   * is waiting for it. Not at once, but when this turn of the event loop is
   * done: a group of ingest posts is stored in one write, and their responses
   * all end in the same turn, so their api_access events go as one batch
   * rather than the first alone and the rest one write later.
   */
  sendNow(): void {
    this.sendSoon ??= setImmediate(() => {
      this.sendSoon = undefined;
      this.kick();
    });
  }

  /** Sends what is buffered and waits until it is recorded (or has failed). */
  async flush(): Promise<void> {
    this.kick();
    while (this.pumping) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  /** Records what is still buffered (to the spool if Redis is down) and closes the spool. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.sendSoon) clearImmediate(this.sendSoon);
    this.sendSoon = undefined;
    if (this.replayTimer) clearInterval(this.replayTimer);
    if (this.orphanTimer) clearInterval(this.orphanTimer);
    this.replayTimer = undefined;
    this.replayDue = false;
    await this.flush();
    this.closed = true;
    if (this.buffer.length > 0) {
      this.options.logger.error({ events: this.buffer.length }, 'events neither in Redis nor in the spool at shutdown; they are lost');
      for (const p of this.buffer) p.settle(new Error('the event publisher closed'));
      this.buffer = [];
    }
    await this.options.spool.close();
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pumping) return;
    this.pumping = true;
    void this.pump();
  }

  /** The one loop that sends, spools and replays, so they never run at once. */
  private async pump(): Promise<void> {
    try {
      for (;;) {
        let worked = false;
        if (this.buffer.length > 0 && !this.blocked) {
          await this.deliver(this.buffer.splice(0, this.buffer.length));
          worked = true;
        }
        if (this.spooling && this.replayDue) {
          await this.replayOne();
          worked = true;
        }
        if (!worked) break;
      }
    } catch (error) {
      this.options.logger.error({ err: error }, 'event publisher loop failed');
    } finally {
      this.pumping = false;
      for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  private batchOf(pending: Pending[]): IngestBatch {
    return { sourceApp: this.options.sourceApp, receivedAt: new Date().toISOString(), events: pending.map((p) => p.event) };
  }

  private async deliver(pending: Pending[]): Promise<void> {
    if (!this.spooling) {
      if (this.options.redisReady()) {
        try {
          await withTimeout(this.producer.submit(this.batchOf(pending)), this.submitTimeoutMs, 'adding the job to Redis');
          for (const p of pending) p.settle(undefined);
          return;
        } catch (error) {
          // If the job did reach Redis after all, the replayed copy is dropped by event_id.
          this.options.logger.warn({ err: error }, 'could not publish events to Redis');
        }
      }
      this.startSpooling();
      this.options.logger.warn({ events: pending.length }, 'Redis is unreachable: spooling the API’s events to disk until it is back');
    }
    const spool = this.options.spool;
    // The second half of the spool is kept for events that acknowledged actions depend on.
    if (spool.bytes >= spool.maxBytes / 2 && pending.some((p) => p.bestEffort)) {
      const left = pending.filter((p) => p.bestEffort);
      for (const p of left) p.settle(undefined);
      this.options.metrics?.spoolDropped(left.length);
      pending = pending.filter((p) => !p.bestEffort);
      if (pending.length === 0) return;
    }
    const started = performance.now();
    try {
      await spool.append(this.batchOf(pending));
      this.options.metrics?.spooled(pending.length, (performance.now() - started) / 1000);
      for (const p of pending) p.settle(undefined);
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      this.unrecordable = true;
      this.blocked = true;
      const reason = error instanceof SpoolFullError ? 'the spool is full' : 'the spool could not be written';
      this.options.logger.error({ err, events: pending.length }, `could not spool events (${reason}); requests are refused (503) until there is room`);
      this.options.metrics?.spoolRefused(pending.length);
      for (const p of pending) p.settle(err);
      // Their requests were refused, but the actions may have happened: keep trying to record them.
      const kept = [...pending.map((p) => ({ ...p, settle: () => undefined })), ...this.buffer];
      const dropped = Math.max(0, kept.length - this.maxBuffered);
      if (dropped > 0) this.options.logger.error({ dropped }, 'event buffer full while neither Redis nor the spool takes events; oldest events dropped');
      this.buffer = kept.slice(dropped);
    }
  }

  private startSpooling(): void {
    this.spooling = true;
    this.replayDue = false;
    this.replayTimer ??= setInterval(() => {
      this.replayDue = true;
      this.blocked = false;
      this.kick();
    }, this.options.replayIntervalMs ?? 1000);
    this.replayTimer.unref();
  }

  /** Replays the oldest segment into Redis, then deletes it; back to Redis directly once the spool is empty. */
  private async replayOne(): Promise<void> {
    if (!this.options.redisReady()) {
      this.replayDue = false;
      return;
    }
    try {
      const segment = await this.options.spool.oldest();
      if (!segment) {
        this.spooling = false;
        this.replayDue = false;
        this.unrecordable = false;
        if (this.replayTimer) clearInterval(this.replayTimer);
        this.replayTimer = undefined;
        this.options.logger.info('spool replayed; events go to Redis directly again');
        return;
      }
      // Submitted together, the batches are written as one group, in order.
      await withTimeout(Promise.all(segment.batches.map((b) => this.producer.submit(b))), this.submitTimeoutMs * 5, 'replaying a spool segment');
      // Counted once the events are in Redis, before the file goes: a reader that sees the segment gone sees it counted.
      this.options.metrics?.replayed(segment.events, segment.skipped);
      await this.options.spool.remove(segment);
      this.unrecordable = false;
      this.blocked = false;
      this.options.logger.info({ segment: segment.name, events: segment.events, skipped: segment.skipped }, 'spool segment replayed');
    } catch (error) {
      this.replayDue = false;
      this.options.logger.warn({ err: error }, 'could not replay the spool yet; will retry');
    }
  }
}

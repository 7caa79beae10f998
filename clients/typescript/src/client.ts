import { backoffMs, isRetryableStatus, retryAfterMs } from './backoff';
import type { AuditflowClientOptions, AuditflowEvent, DropReason, Rejection } from './types';
import { userAuditEvent, type UserEventOptions, type UserEventParams } from './user-event';
import { uuidv7 } from './uuidv7';

/** A batch the server refused as a whole, or that ran out of retries. */
export class AuditflowHttpError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'AuditflowHttpError';
  }
}

interface EventResult {
  index: number;
  status: string;
  errors?: { path: string; message: string }[];
  message?: string;
}

type Required_ = Required<Omit<AuditflowClientOptions, 'onRejected' | 'onDropped' | 'onError' | 'fetch'>>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Batches events and posts them to `POST /v1/events`. One request is in flight
 * at a time, so events arrive in order and a retry never races a newer batch.
 */
export class AuditflowClient {
  /** Events dropped so far (buffer full or client closed). */
  droppedCount = 0;
  private readonly options: Required_;
  private readonly fetch: typeof fetch;
  private queue: AuditflowEvent[] = [];
  /** Enqueue time of each queued event, so the age timer counts from the oldest one. */
  private queuedAt: number[] = [];
  private inFlight = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private draining: Promise<void> | undefined;
  private closed = false;
  private readonly exitHook = () => void this.flush();

  constructor(private readonly config: AuditflowClientOptions) {
    const batchSize = config.batchSize ?? 100;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1000) throw new RangeError('batchSize must be 1-1000 (the server takes at most 1000 events per request)');
    this.options = {
      url: config.url.replace(/\/+$/, ''),
      apiKey: config.apiKey,
      batchSize,
      flushIntervalMs: config.flushIntervalMs ?? 1000,
      maxBufferSize: config.maxBufferSize ?? 10_000,
      maxRetries: config.maxRetries ?? 10,
      initialBackoffMs: config.initialBackoffMs ?? 200,
      maxBackoffMs: config.maxBackoffMs ?? 30_000,
      flushOnExit: config.flushOnExit ?? true,
    };
    this.fetch = config.fetch ?? globalThis.fetch;
    // Bound, so `export const logUserEvent = audit.logUserEvent` replaces seed 004's free function as is.
    this.log = this.log.bind(this);
    this.logUserEvent = this.logUserEvent.bind(this) as AuditflowClient['logUserEvent'];
    if (this.options.flushOnExit && typeof process !== 'undefined') process.on('beforeExit', this.exitHook);
  }

  /** Events held: queued plus in flight. */
  get bufferedCount(): number {
    return this.queue.length + this.inFlight;
  }

  /**
   * Queues one event and returns its `event_id`, or null when it was dropped.
   * The id (UUIDv7) and `occurred_at` are set here, once, so every retry
   * sends identical content and the server stores the event once.
   */
  log(event: AuditflowEvent): string | null {
    if (this.closed) return this.drop(event, 'closed');
    // Drop-newest: what is already buffered is older and keeps its place.
    if (this.bufferedCount >= this.options.maxBufferSize) return this.drop(event, 'buffer_full');
    const record = event as Record<string, unknown>;
    const stamped = { ...event } as Record<string, unknown>;
    if (record.event_id === undefined && record.id === undefined) stamped.event_id = uuidv7();
    if (record.occurred_at === undefined && record.created_at === undefined && record.timestamp === undefined) stamped.occurred_at = new Date().toISOString();
    this.queue.push(stamped as AuditflowEvent);
    this.queuedAt.push(Date.now());
    if (this.queue.length >= this.options.batchSize) void this.drain(false);
    else this.timer ??= this.startTimer();
    return (stamped.event_id ?? stamped.id) as string;
  }

  /** Seed 004's helper: positional, or its object form `logUserEvent({ userId, eventType, ... })`. */
  logUserEvent(params: UserEventParams): string | null;
  logUserEvent(
    userId: UserEventParams['userId'],
    eventType: string,
    previousValue?: UserEventParams['previousValue'],
    newValue?: UserEventParams['newValue'],
    options?: UserEventOptions,
  ): string | null;
  logUserEvent(
    first: UserEventParams | UserEventParams['userId'],
    eventType?: string,
    previousValue?: UserEventParams['previousValue'],
    newValue?: UserEventParams['newValue'],
    options: UserEventOptions = {},
  ): string | null {
    const params: UserEventParams =
      eventType === undefined && typeof first === 'object' && first !== null
        ? (first as UserEventParams)
        : { ...options, userId: first as UserEventParams['userId'], eventType: eventType!, previousValue, newValue };
    return this.log(userAuditEvent(params));
  }

  /** Sends everything buffered; resolves when it was delivered, refused or given up. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.draining) await this.drain(true);
  }

  /** Flushes, then refuses new events (they go to `onDropped` with `closed`). Call it on SIGTERM. */
  async close(): Promise<void> {
    this.closed = true;
    if (typeof process !== 'undefined') process.off('beforeExit', this.exitHook);
    await this.flush();
  }

  private drop(event: AuditflowEvent, reason: DropReason): null {
    this.droppedCount++;
    this.config.onDropped?.(event, reason);
    return null;
  }

  private startTimer() {
    const age = Date.now() - (this.queuedAt[0] ?? Date.now());
    const timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.drain(true);
      },
      Math.max(0, this.options.flushIntervalMs - age),
    );
    // The age timer alone must not keep the process alive: beforeExit flushes instead.
    timer.unref?.();
    return timer;
  }

  /** Sends batches until the queue is empty (`all`) or below a full batch. One drain runs at a time. */
  private drain(all: boolean): Promise<void> {
    if (this.draining) return this.draining;
    const run = async () => {
      try {
        while (this.queue.length >= (all ? 1 : this.options.batchSize)) {
          if (this.timer) clearTimeout(this.timer);
          this.timer = undefined;
          const batch = this.queue.splice(0, this.options.batchSize);
          this.queuedAt.splice(0, batch.length);
          this.inFlight = batch.length;
          try {
            await this.send(batch);
          } finally {
            this.inFlight = 0;
          }
        }
      } finally {
        this.draining = undefined;
        // Events that arrived during the last send wait for their own age timer.
        if (this.queue.length > 0) {
          if (this.queue.length >= this.options.batchSize) void this.drain(false);
          else this.timer ??= this.startTimer();
        }
      }
    };
    this.draining = run();
    return this.draining;
  }

  private async send(batch: AuditflowEvent[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let status: number | undefined;
      let body: unknown;
      let wait: number | undefined;
      try {
        const response = await this.fetch(`${this.options.url}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.apiKey}` },
          body: JSON.stringify(batch),
        });
        status = response.status;
        body = await response.json().catch(() => undefined);
        if (status === 202) return;
        if (status === 207 || status === 400 || status === 409) {
          const rejections = this.rejections(batch, body);
          // A 400 without per-event results (e.g. the body as a whole) refuses the batch.
          if (rejections.length > 0) {
            this.config.onRejected?.(rejections);
            return;
          }
        }
        if (!isRetryableStatus(status)) {
          this.config.onError?.(new AuditflowHttpError(`auditflow answered ${status}; the batch is not retried`, status, body), batch);
          return;
        }
        wait = retryAfterMs(response.headers.get('retry-after'));
      } catch (error) {
        // Network error: the request may or may not have landed; the event ids make resending safe.
        body = error;
      }
      if (attempt >= this.options.maxRetries) {
        const cause = status === undefined ? ` (${String((body as Error)?.message ?? body)})` : ` (last answer ${status})`;
        this.config.onError?.(new AuditflowHttpError(`gave up after ${attempt + 1} attempts${cause}`, status, body), batch);
        return;
      }
      await sleep(wait ?? backoffMs(attempt, this.options.initialBackoffMs, this.options.maxBackoffMs));
    }
  }

  private rejections(batch: AuditflowEvent[], body: unknown): Rejection[] {
    const results = (body as { events?: EventResult[] } | undefined)?.events;
    if (!Array.isArray(results)) return [];
    return results
      .filter((r) => (r.status === 'rejected' || r.status === 'conflict') && batch[r.index] !== undefined)
      .map((r) => ({
        event: batch[r.index]!,
        status: r.status as Rejection['status'],
        errors: r.errors ?? [{ path: 'event_id', message: r.message ?? r.status }],
      }));
  }
}

import type { QueuedEvent } from '../domain/event-row';
import { toQueuedEvent } from '../domain/queued-event';
import type { Logger } from '../lib/logger';
import { parseEvent, type RawEvent } from '../schemas/event';
import type { IngestProducer } from './ingest.producer';

export interface EventPublisherOptions {
  /** Recorded as source_app on every event this process emits. */
  sourceApp: string;
  /** Longest an event waits to share a job with others. Default 25 ms. */
  maxDelayMs?: number;
  /** A batch is sent at once when it reaches this size. Default 500. */
  maxBatch?: number;
  /** Events held in memory while Redis is unreachable, before the oldest are dropped (and logged). */
  maxBuffered?: number;
  logger: Logger;
}

/**
 * How the API's own actions become events: validated against the same
 * schemas as the ingest API, then micro-batched (up to `maxDelayMs`) into
 * one BullMQ job, never one job per event. Publishing never blocks or fails
 * a user's request; if Redis is unreachable the batch is kept and retried.
 */
export class EventPublisher {
  private buffer: QueuedEvent[] = [];
  private timer?: NodeJS.Timeout;
  private inFlight: Promise<void> = Promise.resolve();
  private readonly maxDelayMs: number;
  private readonly maxBatch: number;
  private readonly maxBuffered: number;
  private closed = false;

  constructor(
    private readonly producer: IngestProducer,
    private readonly options: EventPublisherOptions,
  ) {
    this.maxDelayMs = options.maxDelayMs ?? 25;
    this.maxBatch = options.maxBatch ?? 500;
    this.maxBuffered = options.maxBuffered ?? 100_000;
  }

  /** Queues an event for the pipeline. An invalid event is a bug in our code: it is logged, not thrown at the user. */
  publish(event: RawEvent): void {
    const parsed = parseEvent(event);
    if (!parsed.ok) {
      this.options.logger.error({ kind: event.kind, issues: parsed.issues }, 'the API built an invalid event; it was not published');
      return;
    }
    this.buffer.push(toQueuedEvent(parsed.event, event));
    if (this.buffer.length >= this.maxBatch) this.send();
    else if (!this.timer && !this.closed) this.timer = setTimeout(() => this.send(), this.maxDelayMs);
  }

  publishAll(events: RawEvent[]): void {
    for (const e of events) this.publish(e);
  }

  /** Sends what is buffered and waits until it is in Redis (or has failed). */
  async flush(): Promise<void> {
    this.send();
    await this.inFlight;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private send(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.buffer.length === 0) return;
    const events = this.buffer;
    this.buffer = [];
    this.inFlight = this.inFlight.then(() => this.submit(events));
  }

  private async submit(events: QueuedEvent[]): Promise<void> {
    try {
      await this.producer.submit({ sourceApp: this.options.sourceApp, receivedAt: new Date().toISOString(), events });
    } catch (error) {
      // Redis is unreachable: keep the events (bounded) and try again shortly.
      const kept = [...events, ...this.buffer];
      const dropped = Math.max(0, kept.length - this.maxBuffered);
      if (dropped > 0) this.options.logger.error({ dropped }, 'event buffer full while Redis is unreachable; oldest events dropped');
      this.buffer = kept.slice(dropped);
      this.options.logger.warn({ err: error, buffered: this.buffer.length }, 'could not publish events; retrying');
      if (!this.closed && !this.timer) this.timer = setTimeout(() => this.send(), 1000);
    }
  }
}

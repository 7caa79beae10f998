import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueuedEvent } from '../domain/event-row';
import { contentTagHex, IdempotencyRecords, type IdempotencyEntry } from './idempotency-records';
import type { IngestBatch, IngestJob } from './queue-names';

/** What happened to one event handed to the producer. */
export type SubmitOutcome = 'accepted' | 'duplicate' | 'conflict';

export interface IngestProducerOptions {
  /** Redis key namespace (the queue prefix). */
  prefix: string;
  /** IDEMPOTENCY_WINDOW_MINUTES: a client-chosen event_id is recognised here for at least this long, at most twice it. */
  idempotencyWindowMinutes: number;
  /** The idempotency records' clock. Default Date.now; tests move it. */
  now?: () => number;
  /** Largest job the producer builds; bigger groups are split. */
  maxEventsPerJob?: number;
  /** Told the size of each job added, so backpressure can count the backlog in events. */
  onJobAdded?: (events: number) => void;
  /**
   * Asked for each sheddable batch just before its group is written: the
   * error that refuses it now (backpressure, fair between source apps), or
   * null, which admits it (and counts it against what Redis has left and to
   * its app's share). Requests admitted a moment ago may have waited seconds
   * behind a slow group; under a burst, writing all of them at once is what
   * carries Redis past its maxmemory.
   */
  refusal?: (sourceApp: string, events: number) => Error | null;
  /**
   * Event-loop turns the producer lets pass after writing a group before it
   * takes the next (default 5). In them the posts just answered publish their
   * api_access events and newly arrived posts are parsed, so both share the
   * next job instead of each taking one. Idle, a turn costs microseconds.
   */
  gatherTurns?: number;
}

interface Pending {
  batch: IngestBatch;
  sheddable: boolean;
  resolve: (outcomes: SubmitOutcome[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Puts accepted events into the ingest queue, safely, in few round trips.
 *
 * Group commit: while one group is being written to Redis, new requests
 * wait and are written together as the next group, so a burst of
 * single-event posts becomes a few jobs rather than one job each, with no
 * timer adding latency when the API is idle. The next group is taken a few
 * event-loop turns after the last one was written (`gatherTurns`), so the
 * api_access events of the posts just answered go with it.
 *
 * Idempotency: a client-chosen event_id is remembered per source app (two
 * apps may choose the same id; neither can see or block the other's) with a
 * tag of its content, for one to two `idempotencyWindowMinutes`
 * (IdempotencyRecords). A repost with the same content is answered
 * `duplicate` and not queued again; the same id with other content is a
 * `conflict`. The record is written only after the job is in Redis, so a
 * failure in between can never make a lost event look already accepted;
 * the answers do not wait for it (see writeGroup).
 * Past the window the ClickHouse writer still drops the repeat (within its
 * lookback, or at any age with the same occurred_at): no second row.
 */
export class IngestProducer {
  private pending: Pending[] = [];
  private flushing = false;
  private readonly maxEventsPerJob: number;
  private readonly gatherTurns: number;
  private readonly records: IdempotencyRecords;

  constructor(
    private readonly queue: Queue<IngestJob>,
    redis: Redis,
    private readonly options: IngestProducerOptions,
  ) {
    this.maxEventsPerJob = options.maxEventsPerJob ?? 5000;
    this.gatherTurns = options.gatherTurns ?? 5;
    this.records = new IdempotencyRecords(redis, { prefix: options.prefix, windowMinutes: options.idempotencyWindowMinutes, now: options.now });
  }

  /**
   * Resolves once every accepted event of the batch is in Redis; rejects if it could not be stored.
   * `sheddable` (clients' ingest, which can retry): refused with `refusal()` while the pipeline sheds load.
   * The API's own events are not: they have nowhere else to go.
   */
  submit(batch: IngestBatch, options: { sheddable?: boolean } = {}): Promise<SubmitOutcome[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ batch, sheddable: options.sheddable ?? false, resolve, reject });
      if (!this.flushing) void this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        let group = this.pending;
        this.pending = [];
        const refusal = this.options.refusal;
        if (refusal) {
          group = group.filter((p) => {
            if (!p.sheddable) return true;
            const refused = refusal(p.batch.sourceApp, p.batch.events.length);
            if (refused) p.reject(refused);
            return !refused;
          });
          if (group.length === 0) continue;
        }
        try {
          const outcomes = await this.writeGroup(group.map((p) => p.batch));
          group.forEach((p, i) => {
            p.resolve(outcomes[i]!);
          });
        } catch (error) {
          for (const p of group) p.reject(error);
        }
        for (let turn = 0; turn < this.gatherTurns; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.flushing = false;
    }
  }

  private async writeGroup(batches: IngestBatch[]): Promise<SubmitOutcome[][]> {
    const keyed: IdempotencyEntry[] = [];
    const ids: string[] = [];
    for (const b of batches) {
      for (const e of b.events) {
        if (!e.client_event_id) continue;
        keyed.push({ sourceApp: b.sourceApp, eventId: e.event_id, contentHash: e.content_hash });
        ids.push(identity(b.sourceApp, e));
      }
    }
    // Content tags of the ids the window holds.
    const known = new Map<string, string>();
    for (const [index, tag] of await this.records.lookup(keyed)) known.set(ids[index]!, tag);

    const outcomes: SubmitOutcome[][] = [];
    const toQueue: IngestBatch[] = [];
    const fresh = new Map<string, IdempotencyEntry>();
    for (const batch of batches) {
      const batchOutcomes: SubmitOutcome[] = [];
      const events: QueuedEvent[] = [];
      for (const event of batch.events) {
        if (!event.client_event_id) {
          events.push(event);
          batchOutcomes.push('accepted');
          continue;
        }
        const id = identity(batch.sourceApp, event);
        const tag = known.get(id);
        const first = fresh.get(id);
        if (tag !== undefined) {
          batchOutcomes.push(tag === contentTagHex(event.content_hash) ? 'duplicate' : 'conflict');
        } else if (first) {
          batchOutcomes.push(first.contentHash === event.content_hash ? 'duplicate' : 'conflict');
        } else {
          events.push(event);
          fresh.set(id, { sourceApp: batch.sourceApp, eventId: event.event_id, contentHash: event.content_hash });
          batchOutcomes.push('accepted');
        }
      }
      outcomes.push(batchOutcomes);
      if (events.length > 0) toQueue.push({ ...batch, events });
    }

    const jobs = splitIntoJobs(toQueue, this.maxEventsPerJob);
    if (jobs.length === 1) await this.queue.add('events', jobs[0]!);
    else if (jobs.length > 1) await this.queue.addBulk(jobs.map((data) => ({ name: 'events', data })));
    for (const job of jobs) this.options.onJobAdded?.(job.batches.reduce((n, b) => n + b.events.length, 0));

    // Not awaited: the answers need not wait a round trip for it. Its commands
    // are sent now, on the connection every later lookup of this producer
    // uses, so Redis runs them first: a repost answered by this process is
    // still a duplicate. The events are already safe in the queue; a record
    // that fails only means a repost is dropped later, by the writer.
    void this.records.remember([...fresh.values()]).catch(() => undefined);
    return outcomes;
  }
}

/** An event's identity: its id within its source app. */
function identity(sourceApp: string, event: QueuedEvent): string {
  return `${sourceApp}:${event.event_id}`;
}

function splitIntoJobs(batches: IngestBatch[], maxEvents: number): IngestJob[] {
  const jobs: IngestJob[] = [];
  let current: IngestBatch[] = [];
  let size = 0;
  for (const batch of batches) {
    for (let start = 0; start < batch.events.length; start += maxEvents) {
      const events = batch.events.slice(start, start + maxEvents);
      if (size + events.length > maxEvents && current.length > 0) {
        jobs.push({ batches: current });
        current = [];
        size = 0;
      }
      current.push({ ...batch, events });
      size += events.length;
    }
  }
  if (current.length > 0) jobs.push({ batches: current });
  return jobs;
}

import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueuedEvent } from '../domain/event-row';
import type { IngestBatch, IngestJob } from './queue-names';

/** What happened to one event handed to the producer. */
export type SubmitOutcome = 'accepted' | 'duplicate' | 'conflict';

export interface IngestProducerOptions {
  /** Redis key namespace (the queue prefix). */
  prefix: string;
  idempotencyTtlSeconds: number;
  /** Largest job the producer builds; bigger groups are split. */
  maxEventsPerJob?: number;
  /** Told the size of each job added, so backpressure can count the backlog in events. */
  onJobAdded?: (events: number) => void;
  /**
   * Asked for each sheddable batch just before its group is written: the
   * error that refuses it now (backpressure), or null, which admits it (and
   * counts it against what Redis has left). Requests admitted a moment ago
   * may have waited seconds behind a slow group; under a burst, writing all
   * of them at once is what carries Redis past its maxmemory.
   */
  refusal?: (events: number) => Error | null;
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
 * timer adding latency when the API is idle.
 *
 * Idempotency: a client-chosen event_id is remembered per source app (two
 * apps may choose the same id; neither can see or block the other's) with the hash of its
 * content for `idempotencyTtlSeconds`. A repost with the same content is
 * answered `duplicate` and not queued again; the same id with other content
 * is a `conflict`. The record is written only after the job is in Redis, so
 * a failure in between can never make a lost event look already accepted.
 * Past the TTL the ClickHouse writer still drops the repeat: no second row.
 */
export class IngestProducer {
  private pending: Pending[] = [];
  private flushing = false;
  private readonly maxEventsPerJob: number;

  constructor(
    private readonly queue: Queue<IngestJob>,
    private readonly redis: Redis,
    private readonly options: IngestProducerOptions,
  ) {
    this.maxEventsPerJob = options.maxEventsPerJob ?? 5000;
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
            const refused = refusal(p.batch.events.length);
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
      }
    } finally {
      this.flushing = false;
    }
  }

  /** App names cannot contain ':' (see the api_keys check), so app and id cannot run into each other. */
  private idempotencyKey(identity: string): string {
    return `${this.options.prefix}:idem:${identity}`;
  }

  private async writeGroup(batches: IngestBatch[]): Promise<SubmitOutcome[][]> {
    const keyed = batches.flatMap((b) => b.events.filter((e) => e.client_event_id).map((e) => identity(b.sourceApp, e)));
    const known = new Map<string, string>();
    if (keyed.length > 0) {
      const stored = await this.redis.mget(keyed.map((id) => this.idempotencyKey(id)));
      keyed.forEach((id, i) => {
        const hash = stored[i];
        if (hash) known.set(id, hash);
      });
    }

    const outcomes: SubmitOutcome[][] = [];
    const toQueue: IngestBatch[] = [];
    const fresh = new Map<string, string>();
    for (const batch of batches) {
      const batchOutcomes: SubmitOutcome[] = [];
      const events: QueuedEvent[] = [];
      for (const event of batch.events) {
        const id = identity(batch.sourceApp, event);
        const seen = event.client_event_id ? (known.get(id) ?? fresh.get(id)) : undefined;
        if (seen === undefined) {
          events.push(event);
          if (event.client_event_id) fresh.set(id, event.content_hash);
          batchOutcomes.push('accepted');
        } else {
          batchOutcomes.push(seen === event.content_hash ? 'duplicate' : 'conflict');
        }
      }
      outcomes.push(batchOutcomes);
      if (events.length > 0) toQueue.push({ ...batch, events });
    }

    const jobs = splitIntoJobs(toQueue, this.maxEventsPerJob);
    if (jobs.length === 1) await this.queue.add('events', jobs[0]!);
    else if (jobs.length > 1) await this.queue.addBulk(jobs.map((data) => ({ name: 'events', data })));
    for (const job of jobs) this.options.onJobAdded?.(job.batches.reduce((n, b) => n + b.events.length, 0));

    if (fresh.size > 0) {
      const pipeline = this.redis.pipeline();
      for (const [id, hash] of fresh) {
        pipeline.set(this.idempotencyKey(id), hash, 'EX', this.options.idempotencyTtlSeconds, 'NX');
      }
      // The events are already safe in the queue; a failed record only means a
      // repost is deduplicated later, by the writer, instead of here.
      await pipeline.exec().catch(() => undefined);
    }
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

import { AppError } from '../../lib/errors/app-error';
import type { IngestMetrics } from '../../lib/metrics';
import type { QueuedEvent } from '../../domain/event-row';
import { toQueuedEvent } from '../../domain/queued-event';
import { isRedisOutOfMemory, type IngestBackpressure } from './backpressure';
import type { PostInFlight } from './posts-in-flight';
import type { UploadBudget } from './upload-budget';
import type { IngestProducer, SubmitOutcome } from '../../queues/ingest.producer';
import { isCatalogued } from '../../schemas/event-catalog';
import { parseEvent, type EventIssue } from '../../schemas/event';
import type { DecodedEvent } from './formats/decoded-event';
import { hostileJsonProblem } from '../../lib/hostile-json-value';

export const MAX_EVENTS_PER_REQUEST = 1000;

export type EventResult =
  | { index: number; event_id: string; status: Exclude<SubmitOutcome, 'conflict'>; warnings?: string[] }
  | { index: number; event_id: string; status: 'conflict'; message: string }
  | { index: number; status: 'rejected'; errors: EventIssue[] };

export interface IngestResponse {
  status: 202 | 207 | 400 | 409;
  body: {
    accepted: number;
    duplicates: number;
    rejected: number;
    events: EventResult[];
    /** Present on 400: every problem, flat, with the index of its event. */
    errors?: (EventIssue & { index: number })[];
    error?: { code: string; message: string };
  };
}

/**
 * Validates a posted body (one event or an array), queues the valid events,
 * and says what happened to each. Nothing is acknowledged that is not in Redis.
 */
export class IngestService {
  constructor(
    private readonly producer: IngestProducer,
    private readonly backpressure: IngestBackpressure,
    private readonly metrics?: IngestMetrics,
    /** Bounds the bytes of bodies being read at once, per app and in all (see UploadBudget); unset, none. */
    private readonly uploads?: UploadBudget,
  ) {}

  /**
   * Admits a post of `sourceApp` and counts it in flight (see PostsInFlight),
   * or throws 429/503 while the pipeline sheds load. The route calls it before
   * reading the body: under overload, parsing megabytes of JSON only to refuse
   * them is what the API can least afford. (Counted as one event: the body,
   * and so its size, is never read.)
   */
  admit(sourceApp: string, bodyBytes = 0): PostInFlight {
    const entered = this.backpressure.enter(sourceApp);
    if (entered instanceof AppError) throw this.refused(entered, 1);
    if (!this.uploads) return entered;
    // What its body will hold in memory while it arrives: an upload left hanging keeps it until it is cut.
    const release = this.uploads.reserve(sourceApp, bodyBytes);
    if (typeof release === 'string') {
      entered.done();
      const message =
        release === 'app'
          ? 'this app has too many request bodies being uploaded at once; finish or close them, or retry later'
          : 'this API process is reading too many request bodies at once; retry later';
      throw this.refused(new AppError('RATE_LIMITED', message, { retryAfterSeconds: 1 }), 1);
    }
    return {
      bodyArrived: () => {
        release();
        entered.bodyArrived();
      },
      done: () => {
        release();
        entered.done();
      },
    };
  }

  /**
   * Throws 413 beyond MAX_EVENTS_PER_REQUEST. Format decoders call it as soon
   * as they know how many events a body holds, before decoding each one: a
   * body of a million tiny NDJSON lines is refused without parsing them.
   */
  readonly checkCount = (events: number): void => {
    if (events <= MAX_EVENTS_PER_REQUEST) return;
    this.metrics?.rejected('too_large', events);
    throw new AppError('PAYLOAD_TOO_LARGE', `at most ${MAX_EVENTS_PER_REQUEST} events per request (got ${events})`);
  };

  private refuseWhileShedding(sourceApp: string, events: number): void {
    const refusal = this.backpressure.refusal(sourceApp, events);
    if (!refusal) return;
    throw this.refused(refusal, events);
  }

  private refused(error: AppError, events: number): AppError {
    this.metrics?.rejected(error.code === 'RATE_LIMITED' ? 'rate_limited' : 'unavailable', events);
    return error;
  }

  async ingest(sourceApp: string, body: unknown): Promise<IngestResponse> {
    const raws = Array.isArray(body) ? body : [body];
    return this.ingestDecoded(
      sourceApp,
      raws.map((raw) => ({ raw })),
    );
  }

  /**
   * The same, for events a format decoder (CloudEvents, OTLP, NDJSON) turned
   * into envelopes; the ones it refused keep their place as rejected.
   */
  async ingestDecoded(sourceApp: string, raws: DecodedEvent[]): Promise<IngestResponse> {
    if (raws.length === 0) throw new AppError('VALIDATION_FAILED', 'the body holds no events (an empty array, batch or NDJSON body)');
    this.checkCount(raws.length);

    this.refuseWhileShedding(sourceApp, raws.length);

    const results: EventResult[] = new Array(raws.length);
    // The valid events, as queued, and where each stands in the body.
    const events: QueuedEvent[] = [];
    const positions: number[] = [];
    for (let index = 0; index < raws.length; index++) {
      const decoded = raws[index]!;
      if ('issues' in decoded) {
        results[index] = { index, status: 'rejected', errors: decoded.issues };
        continue;
      }
      const raw = decoded.raw;
      // Too deep, NUL, lone surrogate, an integer its parse altered: refused here, per event, not dead-lettered or stored altered after a 202.
      const hostile = hostileJsonProblem(raw, { lossyNumber: decoded.lossyNumber });
      if (hostile) {
        results[index] = { index, status: 'rejected', errors: [{ path: hostile.path.slice(0, 200), message: hostile.message }] };
        continue;
      }
      const parsed = parseEvent(raw);
      if (!parsed.ok) {
        results[index] = { index, status: 'rejected', errors: parsed.issues };
        continue;
      }
      events.push(toQueuedEvent(parsed.event, raw));
      positions.push(index);
    }

    if (events.length > 0) {
      let outcomes: SubmitOutcome[];
      try {
        outcomes = await this.producer.submit({ sourceApp, receivedAt: new Date().toISOString(), events }, { sheddable: true });
      } catch (error) {
        // Refused at the last moment by backpressure (see IngestProducer's `refusal`): nothing was queued.
        if (error instanceof AppError) throw this.refused(error, raws.length);
        // Redis refused the write for memory: overloaded, not down, and nothing was queued (the job add is one script).
        if (isRedisOutOfMemory(error)) throw this.refused(new AppError('RATE_LIMITED', 'Redis memory is full; retry later', { retryAfterSeconds: 5, cause: error }), raws.length);
        this.metrics?.rejected('unavailable', raws.length);
        throw new AppError('UNAVAILABLE', 'the event queue is unavailable; nothing was accepted, retry later', { retryAfterSeconds: 5, cause: error });
      }
      const acceptedKinds: string[] = [];
      for (let i = 0; i < events.length; i++) {
        const event = events[i]!;
        const index = positions[i]!;
        const outcome = outcomes[i]!;
        if (outcome === 'conflict') {
          results[index] = { index, event_id: event.event_id, status: 'conflict', message: 'this event_id was already accepted with different content' };
          continue;
        }
        const result: EventResult = { index, event_id: event.event_id, status: outcome };
        if (!isCatalogued(event.kind, event.event_type)) result.warnings = [`event_type "${event.event_type}" is not in the catalog; it was stored as sent`];
        results[index] = result;
        if (outcome === 'accepted') acceptedKinds.push(event.kind);
      }
      this.metrics?.accepted(acceptedKinds);
    }

    let accepted = 0;
    let duplicates = 0;
    let conflicts = 0;
    let invalid = 0;
    for (const result of results) {
      if (result.status === 'accepted') accepted++;
      else if (result.status === 'duplicate') duplicates++;
      else if (result.status === 'conflict') conflicts++;
      else invalid++;
    }
    this.metrics?.rejected('invalid', invalid);
    this.metrics?.rejected('conflict', conflicts);
    this.metrics?.rejected('duplicate', duplicates);
    const body$ = { accepted, duplicates, rejected: invalid + conflicts, events: results };
    if (invalid + conflicts === 0) return { status: 202, body: body$ };
    if (accepted + duplicates > 0) return { status: 207, body: body$ };
    if (conflicts > 0) {
      return { status: 409, body: { ...body$, error: { code: 'CONFLICT', message: 'event_id reused with different content' } } };
    }
    return {
      status: 400,
      body: {
        ...body$,
        error: { code: 'VALIDATION_FAILED', message: raws.length === 1 ? 'the event is invalid' : 'no event in the batch is valid' },
        errors: results.flatMap((r) => (r.status === 'rejected' ? r.errors.map((e) => ({ index: r.index, ...e })) : [])),
      },
    };
  }
}

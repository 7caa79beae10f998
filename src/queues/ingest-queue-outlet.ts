import { OWN_SOURCE_APP } from '../domain/own-source-app';
import { toQueuedEvent } from '../domain/queued-event';
import type { Logger } from '../lib/logger';
import { parseEvent, type RawEvent } from '../schemas/event';
import type { IngestProducer } from './ingest.producer';

/**
 * The audit outlet of a process that has neither the API's publisher nor a
 * writer of its own (ROLE=scheduler alone): each event goes straight into the
 * ingest queue, as one of auditflow's own. No spool: such a process records
 * only its start, and a failure is logged.
 */
export class IngestQueueOutlet {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly producer: IngestProducer,
    private readonly logger: Logger,
  ) {}

  publish(event: RawEvent): void {
    const parsed = parseEvent(event);
    if (!parsed.ok) {
      this.logger.error({ kind: event.kind, issues: parsed.issues }, 'an invalid event of our own was not published');
      return;
    }
    const batch = { sourceApp: OWN_SOURCE_APP, receivedAt: new Date().toISOString(), events: [toQueuedEvent(parsed.event, event)] };
    const sent: Promise<unknown> = this.producer
      .submit(batch)
      .catch((error: unknown) => this.logger.error({ err: error, kind: event.kind, event_type: event.event_type }, 'an event of our own could not be queued'))
      .finally(() => this.pending.delete(sent));
    this.pending.add(sent);
  }

  /** Resolves when every event published so far is in the queue (or its failure logged). */
  async close(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}

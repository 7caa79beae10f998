// Type-only: erased at build time, so none of the server's runtime code ships with the SDK.
import type { EventKind, RawEvent } from '../../../src/schemas/event';

/** An event as the ingest API takes it: the server's own input type, not a copy. */
export type AuditflowEvent = RawEvent;
export type AuditflowEventKind = EventKind;
/** The `audit` kind's input, which `logUserEvent` produces. */
export type AuditEventInput = Extract<RawEvent, { kind: 'audit' }>;

/** One event the server refused (207/400/409), with the event itself so the app can log or fix it. */
export interface Rejection {
  event: AuditflowEvent;
  /** `rejected` (invalid) or `conflict` (event_id reused with other content). */
  status: 'rejected' | 'conflict';
  errors: { path: string; message: string }[];
}

export type DropReason = 'buffer_full' | 'closed';

export interface AuditflowClientOptions {
  /** Base URL of the API, e.g. `http://localhost:3000`. */
  url: string;
  /** An API key with the `ingest` scope. */
  apiKey: string;
  /** Events per request (default 100, at most 1000: the server's limit). */
  batchSize?: number;
  /** A batch is sent at the latest this long after its first event was enqueued (default 1000 ms). */
  flushIntervalMs?: number;
  /** Events held (queued and in flight) before new ones are dropped (default 10 000). */
  maxBufferSize?: number;
  /** Retries of one batch before it is given up (default 10). */
  maxRetries?: number;
  /** First backoff ceiling (default 200 ms); doubles per retry up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  /** Backoff ceiling (default 30 000 ms). */
  maxBackoffMs?: number;
  /** Per-event refusals from a 207, 400 or 409 answer. Those events are not retried. */
  onRejected?: (rejections: Rejection[]) => void;
  /** An event that was not buffered: the buffer was full (drop-newest) or the client closed. */
  onDropped?: (event: AuditflowEvent, reason: DropReason) => void;
  /** A whole batch given up: a non-retryable answer (401, 403, 413, 415…) or retries exhausted. */
  onError?: (error: Error, events: AuditflowEvent[]) => void;
  /** Flush when the event loop empties (`process.on('beforeExit')`). Default true. */
  flushOnExit?: boolean;
  /** For tests or custom agents; default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

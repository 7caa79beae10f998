import type { LossyNumberCheck } from '../../../lib/hostile-json-value';
import type { EventIssue } from '../../../schemas/event';

/**
 * One event as a format decoder hands it to the ingest service: an envelope
 * to validate as if it had been posted as JSON, or the reasons the format
 * itself refused it (a line that is not JSON, a CloudEvent without `id`).
 * Either way it keeps its place, so per-event results line up with the body.
 * `lossyNumber` reads the JSON text the envelope came from, should its
 * value hold an integer beyond 2^53 (hostileJsonProblem).
 */
export type DecodedEvent = { raw: unknown; lossyNumber?: LossyNumberCheck } | { issues: EventIssue[] };

/** Refuses a body holding more events than one request may carry (IngestService.checkCount); throws. */
export type CheckCount = (events: number) => void;

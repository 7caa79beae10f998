import { authOutcomeOf } from './auth-outcome';
import { defineEventKind } from './define-event-kind';
import { int, ipAddress, jsonObject, text, timestamp, upperLabel, userId, uuid } from './fields';

/**
 * `auth`: logins, logouts, password and token events. Covers auth_audit_log
 * and auth_user_event, whose `timestamp` is `occurred_at` (docs/data-model.md).
 * The integrity columns of auth_audit_log (blockchain_hash, previous_hash,
 * signature) are computed by the pipeline, never taken from a client.
 */
export const authEventSchema = defineEventKind(
  'auth',
  {
    user_id: userId().nullish(),
    /**
     * SUCCESS or FAILURE. When absent, inferred from the event type
     * (`authOutcomeOf`: `login_failed` is a FAILURE) and stored as inferred.
     */
    event_status: upperLabel(32).nullish(),
    ip_address: ipAddress().nullish(),
    user_agent: text(2048).nullish(),
    device_fingerprint: text(255).nullish(),
    /** Where the request came from, e.g. `{ country, city, lat, lon }`. */
    location: jsonObject().optional(),
    details: jsonObject().optional(),
    /** A score the sending app already computed (0-100); the risk worker keeps its own. */
    risk_score: int(0, 100).default(0),
    session_id: text(255).nullish(),
    /** Ties together the events of one flow; generated when absent, as auth_audit_log does. */
    correlation_id: uuid().optional(),
    processed_at: timestamp().nullish(),
  },
  { table: 'auth_audit_log', eventType: 'required', fromEventType: (type) => ({ event_status: authOutcomeOf(type) }) },
);

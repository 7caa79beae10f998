import { randomUUID } from 'node:crypto';
import type { ClickHouseRow, QueuedEvent } from '../src/domain/event-row';
import { product } from './product';

/**
 * The events the bench sends: `audit` events (table audit_logs, the widest
 * table, with three JSON columns), shaped like the seed-004 user audit log,
 * with a client-chosen event_id as an idempotent client would send.
 */
export const BENCH_TABLE = 'audit_logs';

const EVENT_TYPES = ['status_changed', 'profile_updated', 'login_success', 'role_changed', 'data_exported', 'email_changed', 'permission_granted', 'account_suspended'];
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'okhttp/4.12.0',
];

let sequence = 0;

/** One raw audit event as a client posts it (~650 bytes of JSON). */
export function auditEvent(eventId: string = randomUUID()): Record<string, unknown> {
  const n = sequence++;
  const user = `user-${n % 5000}`;
  return {
    kind: 'audit',
    event_id: eventId,
    event_type: EVENT_TYPES[n % EVENT_TYPES.length],
    occurred_at: new Date().toISOString(),
    user_id: user,
    action_type: 'UPDATE',
    entity_type: 'USER_ACCOUNT',
    entity_id: `acct-${n % 20000}`,
    triggered_by_type: n % 10 === 0 ? 'admin' : 'user',
    triggered_by_id: n % 10 === 0 ? 'admin-1' : user,
    previous_value: { status: 'active', plan: 'pro' },
    new_value: { status: n % 2 ? 'suspended' : 'active', plan: 'pro', changed_fields: ['status'] },
    reason: 'Policy violation',
    operation_status: 'SUCCESS',
    ip_address: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
    user_agent: USER_AGENTS[n % USER_AGENTS.length],
    session_id: `sess-${n % 50000}`,
    duration_ms: n % 500,
    metadata: { request_id: `req-${n}`, region: 'eu-west-1', client: 'web', tags: ['bench'] },
  };
}

/** A JSON array body of `count` events; returns the ids it holds. */
export function batchBody(count: number): { body: Buffer; ids: string[] } {
  const ids: string[] = [];
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    ids.push(id);
    parts.push(JSON.stringify(auditEvent(id)));
  }
  return { body: Buffer.from(`[${parts.join(',')}]`), ids };
}

/** A single-event body (an object, not an array). */
export function singleBody(): Buffer {
  return Buffer.from(JSON.stringify(auditEvent()));
}

/**
 * The row the pipeline writes for a raw event: the same steps as
 * IngestService (parse, JSON round trip, content hash) and the ingest
 * processor (toClickHouseRow), using the product's own functions.
 */
export function pipelineRow(raw: Record<string, unknown>, sourceApp: string, receivedAt: string): ClickHouseRow {
  const { parseEvent } = product.event();
  const { canonicalJson } = product.canonicalJson();
  const { sha256Hex } = product.sha256();
  const { toClickHouseRow } = product.eventRow();
  const parsed = parseEvent(raw);
  if (!parsed.ok) throw new Error(`bench event does not validate: ${JSON.stringify(parsed.issues)}`);
  const event = JSON.parse(JSON.stringify(parsed.event)) as QueuedEvent;
  event.content_hash = sha256Hex(canonicalJson(raw));
  return toClickHouseRow(event, sourceApp, receivedAt);
}

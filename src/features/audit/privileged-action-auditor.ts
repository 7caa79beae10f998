import os from 'node:os';
import type { RawEvent } from '../../schemas/event';
import type { RequestContext } from '../../http/request-context';

/** Who performed a privileged action, in the audit fields of user_audit_log (triggered_by_*; docs/data-model.md). */
export interface AuditActor {
  /** `admin`, `api_key`, `user`, `cli` (an operator at the command line) or `system`. */
  type: 'admin' | 'api_key' | 'user' | 'cli' | 'system';
  /** Administrator or user id, API key name, OS user name of the CLI, or the system component. */
  id: string | null;
  ip?: string | null;
  userAgent?: string | null;
  sessionId?: string | null;
  /** Facts about the actor that are not its identity (request id, key id, uid, host), stored in metadata. */
  details?: Record<string, unknown>;
}

/** The actor of an HTTP request: the administrator, the API key (by name) or the user it authenticated. */
export function requestActor(ctx: RequestContext | undefined): AuditActor {
  const actor = ctx?.actor;
  const base = { ip: ctx?.ip ?? null, userAgent: ctx?.userAgent ?? null, sessionId: actor?.sessionId ?? null };
  const details: Record<string, unknown> = ctx ? { request_id: ctx.requestId } : {};
  if (!actor) return { type: 'system', id: null, ...base, details };
  if (actor.type === 'api_key') return { type: 'api_key', id: actor.name ?? actor.id, ...base, details: { ...details, api_key_id: actor.id } };
  return { type: actor.type === 'admin' ? 'admin' : 'user', id: actor.id, ...base, details };
}

/**
 * The operator running an `auditflow` command: `cli` and the OS user. The
 * user name is what the OS says, not what the environment claims ($USER can
 * be set to anything); a process without a passwd entry is named by its uid.
 */
export function cliActor(command: string): AuditActor {
  let user: string;
  let uid: number | undefined;
  try {
    const info = os.userInfo();
    user = info.username;
    uid = info.uid;
  } catch {
    uid = process.getuid?.();
    user = uid === undefined ? 'unknown' : `uid:${uid}`;
  }
  return { type: 'cli', id: user, details: { command, uid, hostname: os.hostname(), pid: process.pid } };
}

/**
 * auditflow itself, as a role's start did something an operator would
 * otherwise answer for: applying a new version's pending migrations.
 */
export function startupActor(roles: readonly string[]): AuditActor {
  return { type: 'system', id: 'startup', details: { roles: [...roles], hostname: os.hostname(), pid: process.pid } };
}

/** Where audit events go: the API's event publisher (Redis, or the spool), or a worker's own writer. */
export interface AuditEventOutlet {
  publish(event: RawEvent): void;
}

/** Text an event may carry: no NUL, no lone surrogate (a cut may split a pair; an analyst's query may hold either). */
export function storable(text: string): string {
  return text.replace(/\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** One privileged action, as its audit event will name it. */
export interface PrivilegedAction {
  /** The event type, e.g. `api_key_created`, `report_downloaded`. */
  type: string;
  /** CREATE, READ, UPDATE, DELETE, EXPORT or EXECUTE (todo_app_audit_logs.action_type). */
  action: 'CREATE' | 'READ' | 'UPDATE' | 'DELETE' | 'EXPORT' | 'EXECUTE';
  /** What was acted on: entity_type (API_KEY, COMPLIANCE_REPORT…) and entity_id. */
  target: { type: string; id: string };
  /** The protected state before and after, where there is one. Never a secret. */
  previous?: Record<string, unknown> | null;
  next?: Record<string, unknown> | null;
  /** FAILURE for an action that ran and reported a failure (a broken chain, a refused query). Default SUCCESS. */
  failure?: string;
  reason?: string;
  /** Extra facts for metadata. */
  details?: Record<string, unknown>;
  /** performance.now() when the action started, for duration_ms. */
  startedAt?: number;
}

/**
 * Records privileged actions (keys, administrators, reports, signing keys,
 * integrity runs, dead-letter replays, analyst queries) as one `audit` event
 * each, through the event publisher: into Redis, or into the disk spool while
 * Redis is down, so the record survives with the server running or stopped.
 */
export class PrivilegedActionAuditor {
  constructor(private readonly events: AuditEventOutlet | undefined) {}

  record(actor: AuditActor, action: PrivilegedAction): void {
    this.events?.publish({
      kind: 'audit',
      event_type: action.type,
      action_type: action.action,
      entity_type: action.target.type,
      entity_id: action.target.id,
      previous_value: action.previous ?? null,
      new_value: action.next ?? null,
      reason: action.reason ?? null,
      operation_status: action.failure === undefined ? 'SUCCESS' : 'FAILURE',
      failure_reason: action.failure === undefined ? null : storable(action.failure.slice(0, 2000)),
      duration_ms: action.startedAt === undefined ? null : Math.round(performance.now() - action.startedAt),
      triggered_by_type: actor.type,
      triggered_by_id: actor.id,
      ip_address: actor.ip ?? null,
      user_agent: actor.userAgent ?? null,
      session_id: actor.sessionId ?? null,
      metadata: { ...actor.details, ...action.details },
    });
  }
}

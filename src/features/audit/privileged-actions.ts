import { sha256Hex } from '../../domain/sha256';
import type { ReportType } from '../../domain/report';
import type { KeyRotation } from '../../lib/signing-key';
import type { VerificationResult } from '../../domain/verification';
import type { ApiKeyRecord } from '../api-keys/api-key.repository';
import { storable, type PrivilegedAction } from './privileged-action-auditor';

/**
 * The privileged actions and the audit event each one records, built in one
 * place so that the API and the CLI record the same action the same way.
 * (Settings, retention policies, webhooks and user roles record theirs in
 * their services: setting_updated, retention_policy_updated, webhook_*, role_changed.)
 */

/** What an administrator's audit events name of them (never the password hash). */
interface AdministratorView {
  id: string;
  email: string;
  admin_level: number;
  status: string;
}

/** How much of an analyst's query text is kept in the event; the hash covers all of it. */
export const QUERY_TEXT_KEPT = 1000;

const keyView = (k: ApiKeyRecord) => ({
  name: k.name,
  app: k.app,
  apps: k.apps ?? null,
  trusted_ip_reputation: k.trusted_ip_reputation,
  scopes: k.scopes,
  key_prefix: k.key_prefix,
  revoked: k.revoked_at !== null,
});

export function apiKeyCreated(k: ApiKeyRecord): PrivilegedAction {
  return { type: 'api_key_created', action: 'CREATE', target: { type: 'API_KEY', id: k.id }, previous: null, next: keyView(k) };
}

export function apiKeyRevoked(k: ApiKeyRecord): PrivilegedAction {
  return { type: 'api_key_revoked', action: 'DELETE', target: { type: 'API_KEY', id: k.id }, previous: { ...keyView(k), revoked: false }, next: keyView(k) };
}

export function administratorCreated(a: AdministratorView): PrivilegedAction {
  return {
    type: 'administrator_created',
    action: 'CREATE',
    target: { type: 'ADMINISTRATOR', id: a.id },
    previous: null,
    next: { email: a.email, admin_level: a.admin_level, status: a.status },
  };
}

/** An administrator's lock and escalation as an operator found them (lock_count: locks since the last clearance). */
interface LockBefore {
  locked_until: Date | null;
  failed_login_attempts: number;
  lock_count: number;
}

/** The lock columns before and after an operator lifted a lock: lock_count back to 0 says the escalation restarted. */
function lockLifted(before: LockBefore) {
  return {
    previous: { locked_until: before.locked_until?.toISOString() ?? null, failed_login_attempts: before.failed_login_attempts, lock_count: before.lock_count },
    next: { locked_until: null, failed_login_attempts: 0, lock_count: 0 },
  };
}

export function administratorUnlocked(a: AdministratorView, before: LockBefore): PrivilegedAction {
  const lock = lockLifted(before);
  return {
    type: 'administrator_unlocked',
    action: 'UPDATE',
    target: { type: 'ADMINISTRATOR', id: a.id },
    previous: { email: a.email, ...lock.previous },
    next: { email: a.email, ...lock.next },
    details: { escalation_restarted: true },
  };
}

/** An administrator changed their own password, the current one given. */
export function administratorPasswordChanged(a: AdministratorView & { password_changed_at: Date | null }, previousChangedAt: Date | null, endedSessions: number): PrivilegedAction {
  return {
    type: 'administrator_password_changed',
    action: 'UPDATE',
    target: { type: 'ADMINISTRATOR', id: a.id },
    previous: { email: a.email, password_changed_at: previousChangedAt?.toISOString() ?? null },
    next: { email: a.email, password_changed_at: a.password_changed_at?.toISOString() ?? null },
    details: { ended_sessions: endedSessions },
  };
}

/** An operator set an administrator's password, which also lifts any lock and restarts the escalation (`lockBefore`: what they were). */
export function administratorPasswordSet(a: AdministratorView & { password_changed_at: Date | null }, previousChangedAt: Date | null, endedSessions: number, lockBefore: LockBefore): PrivilegedAction {
  const lock = lockLifted(lockBefore);
  return {
    type: 'administrator_password_set',
    action: 'UPDATE',
    target: { type: 'ADMINISTRATOR', id: a.id },
    previous: { email: a.email, password_changed_at: previousChangedAt?.toISOString() ?? null, ...lock.previous },
    next: { email: a.email, password_changed_at: a.password_changed_at?.toISOString() ?? null, ...lock.next },
    details: { ended_sessions: endedSessions, lock_lifted: true, escalation_restarted: true },
  };
}

/** An operator suspended an administrator (ending their sessions) or reactivated one. */
export function administratorStatusChanged(a: AdministratorView, previousStatus: string, endedSessions: number, reason?: string): PrivilegedAction {
  return {
    type: a.status === 'suspended' ? 'administrator_suspended' : 'administrator_reactivated',
    action: 'UPDATE',
    target: { type: 'ADMINISTRATOR', id: a.id },
    previous: { email: a.email, status: previousStatus },
    next: { email: a.email, status: a.status },
    ...(reason ? { reason } : {}),
    details: { ended_sessions: endedSessions },
  };
}

export function reportGenerated(r: { id: string; created: boolean; type: ReportType; start: Date; end: Date; apps?: string[] | null }, startedAt?: number): PrivilegedAction {
  return {
    type: 'report_generated',
    action: 'CREATE',
    target: { type: 'COMPLIANCE_REPORT', id: r.id },
    previous: null,
    // created false: the report of that type and period was already stored, and was returned instead.
    // scope: the apps a scoped report covers (absent: a global report).
    next: { report_type: r.type, period_start: r.start.toISOString(), period_end: r.end.toISOString(), created: r.created, ...(r.apps ? { scope: r.apps } : {}) },
    startedAt,
  };
}

/** What `report generate` asks for, before a report id exists: the request, as `requestUnconfirmed` records it. */
export function reportRequested(r: { type: ReportType; start: Date; end: Date; apps?: string[] | null }): PrivilegedAction {
  const period = { report_type: r.type, period_start: r.start.toISOString(), period_end: r.end.toISOString(), ...(r.apps ? { scope: r.apps } : {}) };
  return { type: 'report_generated', action: 'CREATE', target: { type: 'COMPLIANCE_REPORT', id: `${r.type}:${period.period_start}..${period.period_end}` }, previous: null, next: period };
}

export function reportDownloaded(id: string, format: string): PrivilegedAction {
  return { type: 'report_downloaded', action: 'EXPORT', target: { type: 'COMPLIANCE_REPORT', id }, next: { format } };
}

export function reportVerified(id: string, result: { ok: boolean; problems: string[] }): PrivilegedAction {
  return {
    type: 'report_verified',
    action: 'READ',
    target: { type: 'COMPLIANCE_REPORT', id },
    next: { ok: result.ok, problems: result.problems.length },
    ...(result.ok ? {} : { failure: result.problems.join('; ') }),
  };
}

export function integrityVerified(result: VerificationResult, startedAt?: number): PrivilegedAction {
  const broken = result.tables.filter((t) => !t.ok);
  return {
    type: 'integrity_verified',
    action: 'EXECUTE',
    target: { type: 'INTEGRITY_CHAIN', id: `${result.from ?? '-'}..${result.to ?? '-'}` },
    next: { ok: result.ok, rows: result.rows, tables: result.tables.length, broken_tables: broken.map((t) => t.table), seconds: result.seconds },
    ...(result.ok ? {} : { failure: broken.map((t) => `${t.table}: ${t.first_break?.kind ?? 'broken'} ${t.first_break?.detail ?? ''}`.trim()).join('; ') }),
    startedAt,
  };
}

/** What `verify` asks for, before any result: the request, as `requestUnconfirmed` records it. */
export function integrityRequested(range: { from?: Date; to?: Date }): PrivilegedAction {
  const [from, to] = [range.from?.toISOString() ?? null, range.to?.toISOString() ?? null];
  return { type: 'integrity_verified', action: 'EXECUTE', target: { type: 'INTEGRITY_CHAIN', id: `${from ?? '-'}..${to ?? '-'}` }, next: { from, to } };
}

/** What `dlq replay` asks for, before any result: the request, as `requestUnconfirmed` records it. */
export function deadLettersRequested(limit: number): PrivilegedAction {
  return { type: 'dead_letters_replayed', action: 'EXECUTE', target: { type: 'DEAD_LETTER_QUEUE', id: 'dead_letters' }, next: { limit } };
}

/**
 * A request a command made but saw no result of, as FAILURE: it failed, or
 * the wait for the worker ended first, and the worker may still carry it
 * out. Either way the operator who asked is on record.
 */
export function requestUnconfirmed(request: PrivilegedAction, error: Error): PrivilegedAction {
  const waitEnded = /timed out/i.test(error.message);
  return { ...request, failure: waitEnded ? `no answer in time (${error.message}); the worker may still carry it out` : error.message };
}

export function deadLettersReplayed(limit: number, result: { requeued: number; retriedJobs: number }, startedAt?: number): PrivilegedAction {
  return {
    type: 'dead_letters_replayed',
    action: 'EXECUTE',
    target: { type: 'DEAD_LETTER_QUEUE', id: 'dead_letters' },
    next: { limit, requeued: result.requeued, retried_jobs: result.retriedJobs },
    startedAt,
  };
}

/** The migrations one run applied, by store, in order: all of them, or those before the one that failed. */
export interface AppliedMigrations {
  postgresql: string[];
  clickhouse: string[];
}

/**
 * `auditflow migrate`: what it applied (`up_to_date` when nothing was
 * pending), or, as FAILURE with `error`, what it applied before it failed.
 */
export function schemaMigrated(applied: AppliedMigrations, startedAt?: number, error?: Error): PrivilegedAction {
  const count = applied.postgresql.length + applied.clickhouse.length;
  return {
    type: 'schema_migrated',
    action: 'EXECUTE',
    target: { type: 'DATABASE_SCHEMA', id: 'migrations' },
    next: { postgresql: applied.postgresql, clickhouse: applied.clickhouse, applied: count, up_to_date: !error && count === 0 },
    ...(error ? { failure: error.message } : {}),
    startedAt,
  };
}

export function signingKeyRotated(r: KeyRotation): PrivilegedAction {
  return { type: 'signing_key_rotated', action: 'UPDATE', target: { type: 'SIGNING_KEY', id: r.keyId }, previous: { key_id: r.retiredKeyId }, next: { key_id: r.keyId } };
}

export function signingKeyExported(keyId: string): PrivilegedAction {
  return { type: 'signing_key_exported', action: 'EXPORT', target: { type: 'SIGNING_KEY', id: keyId }, next: { key_id: keyId, half: 'public' } };
}

/** An analyst's query on /clickhouse, answered or refused. `summary` is ClickHouse's X-ClickHouse-Summary. */
export function analystQueried(
  q: { query: string; queryId: string; format?: string; params?: Record<string, string> },
  outcome: { summary: Record<string, string> } | { refused: string },
  startedAt?: number,
): PrivilegedAction {
  const hash = sha256Hex(q.query);
  // The param_* values bound into the query: `{t:Identifier}` is the table read, `{u:String}` whom it looked up.
  const params = Object.entries(q.params ?? {}).map(([name, value]) => ({
    name: storable(name.slice(0, 200)),
    value: storable(value.slice(0, QUERY_TEXT_KEPT)),
    truncated: value.length > QUERY_TEXT_KEPT,
  }));
  const n = (v: string | undefined) => (v === undefined || Number.isNaN(Number(v)) ? null : Number(v));
  const read =
    'summary' in outcome
      ? { read_rows: n(outcome.summary.read_rows), read_bytes: n(outcome.summary.read_bytes), result_rows: n(outcome.summary.result_rows), result_bytes: n(outcome.summary.result_bytes) }
      : {};
  return {
    type: 'analyst_query',
    action: 'READ',
    target: { type: 'ANALYST_QUERY', id: hash },
    next: {
      query_sha256: hash,
      query: storable(q.query.slice(0, QUERY_TEXT_KEPT)),
      query_chars: q.query.length,
      query_truncated: q.query.length > QUERY_TEXT_KEPT,
      ...(params.length ? { params } : {}),
      ...read,
    },
    ...('refused' in outcome ? { failure: outcome.refused } : {}),
    details: { query_id: q.queryId },
    startedAt,
  };
}

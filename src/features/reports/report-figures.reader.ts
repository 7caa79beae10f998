import { toClickHouseTime } from '../../domain/event-row';
import type { BucketCount } from '../../domain/report-trends';
import type { ClickHouseReader } from '../../queues/clickhouse-reader';

export type Counts = Record<string, number>;

/** One report's period and scope (null: every app). */
export interface ReportWindow {
  start: Date;
  end: Date;
  scope: string[] | null;
}

export interface PeriodSecurityEvent {
  source_app: string;
  event_id: string;
  severity_level: string;
  is_resolved: boolean;
}

/** The bucket of a row: whole `bucket_ms` from the period's start (UTC, as the period is). */
const BUCKET = 'intDiv(toUnixTimestamp64Milli(occurred_at) - {start_ms:Int64}, {bucket_ms:Int64})';

const ACCESS_CHANGES = ['role_changed', 'permission_granted', 'permission_revoked', 'account_suspended', 'account_reactivated', 'user_created', 'account_deleted'];
const DATA_ACTIONS = ['gdpr_request', 'data_exported', 'data_imported', 'account_deleted', 'account_restored'];

/**
 * The ClickHouse reads a report is made of, each over one period. Every query
 * reads event tables through the same condition, so a scoped report reads
 * only its apps' rows.
 */
export class ReportFiguresReader {
  constructor(private readonly reader: ClickHouseReader) {}

  failedLoginsByReason(w: ReportWindow): Promise<Counts> {
    return this.countBy(w, `SELECT failure_reason AS k, count() AS n FROM failed_login_attempts WHERE ${inPeriod(w)} GROUP BY k ORDER BY k`);
  }

  lockouts(w: ReportWindow): Promise<Counts> {
    return this.countBy(
      w,
      `SELECT action_taken AS k, count() AS n FROM security_events WHERE ${inPeriod(w)} AND action_taken IN ('ACCOUNT_LOCKED', 'ACCOUNT_UNLOCKED', 'IP_BLOCKED') GROUP BY k ORDER BY k`,
    );
  }

  highRiskAuthEvents(w: ReportWindow): Promise<Counts> {
    return this.countBy(w, `SELECT event_type AS k, count() AS n FROM auth_audit_log WHERE ${inPeriod(w)} AND risk_score >= 70 GROUP BY k ORDER BY k`);
  }

  securityEvents(w: ReportWindow): Promise<PeriodSecurityEvent[]> {
    return this.reader.query<PeriodSecurityEvent>(`SELECT source_app, toString(event_id) AS event_id, severity_level, is_resolved FROM security_events WHERE ${inPeriod(w)}`, params(w));
  }

  /** The ten sources or targets with the most failed logins: who to block, whom to warn. */
  async topFailedLogins(w: ReportWindow, column: 'ip_address' | 'email_address'): Promise<{ key: string; failed_logins: number }[]> {
    const rows = await this.reader.query<{ k: string; n: number }>(
      `SELECT toString(${column}) AS k, count() AS n FROM failed_login_attempts WHERE ${inPeriod(w)} AND ${column} IS NOT NULL AND toString(${column}) != '' GROUP BY k ORDER BY n DESC, k LIMIT 10`,
      params(w),
    );
    return rows.map((r) => ({ key: r.k, failed_logins: Number(r.n) }));
  }

  adminActions(w: ReportWindow): Promise<Counts> {
    return this.countBy(w, `SELECT event_type AS k, count() AS n FROM audit_logs WHERE ${inPeriod(w)} AND triggered_by_type = 'admin' GROUP BY k ORDER BY k`);
  }

  accessChanges(w: ReportWindow): Promise<Counts> {
    return this.countBy(w, `SELECT event_type AS k, count() AS n FROM audit_logs WHERE ${inPeriod(w)} AND event_type IN {types:Array(String)} GROUP BY k ORDER BY k`, { types: ACCESS_CHANGES });
  }

  /** GDPR requests, exports, imports, deletions and restores, and every retention_* action. */
  dataActions(w: ReportWindow): Promise<Counts> {
    return this.countBy(
      w,
      `SELECT event_type AS k, count() AS n FROM audit_logs WHERE ${inPeriod(w)} AND (event_type IN {types:Array(String)} OR startsWith(event_type, 'retention_')) GROUP BY k ORDER BY k`,
      { types: DATA_ACTIONS },
    );
  }

  /** Failed logins per bucket of `bucketMs` from the period's start. */
  failedLoginsPerBucket(w: ReportWindow, bucketMs: number): Promise<BucketCount[]> {
    return this.perBucket(w, bucketMs, `SELECT ${BUCKET} AS b, 'attempts' AS k, count() AS n FROM failed_login_attempts WHERE ${inPeriod(w)} GROUP BY b, k`);
  }

  /** Locks, unlocks and IP blocks per bucket, by action. */
  lockoutsPerBucket(w: ReportWindow, bucketMs: number): Promise<BucketCount[]> {
    return this.perBucket(
      w,
      bucketMs,
      `SELECT ${BUCKET} AS b, action_taken AS k, count() AS n FROM security_events WHERE ${inPeriod(w)} AND action_taken IN ('ACCOUNT_LOCKED', 'ACCOUNT_UNLOCKED', 'IP_BLOCKED') GROUP BY b, k`,
    );
  }

  /** Security events per bucket, by severity. */
  securityEventsPerBucket(w: ReportWindow, bucketMs: number): Promise<BucketCount[]> {
    return this.perBucket(w, bucketMs, `SELECT ${BUCKET} AS b, severity_level AS k, count() AS n FROM security_events WHERE ${inPeriod(w)} GROUP BY b, k`);
  }

  /** Administrators' actions per bucket. */
  adminActionsPerBucket(w: ReportWindow, bucketMs: number): Promise<BucketCount[]> {
    return this.perBucket(w, bucketMs, `SELECT ${BUCKET} AS b, 'actions' AS k, count() AS n FROM audit_logs WHERE ${inPeriod(w)} AND triggered_by_type = 'admin' GROUP BY b, k`);
  }

  /** Role and permission changes, suspensions and account changes per bucket, by event type. */
  accessChangesPerBucket(w: ReportWindow, bucketMs: number): Promise<BucketCount[]> {
    return this.perBucket(w, bucketMs, `SELECT ${BUCKET} AS b, event_type AS k, count() AS n FROM audit_logs WHERE ${inPeriod(w)} AND event_type IN {types:Array(String)} GROUP BY b, k`, {
      types: ACCESS_CHANGES,
    });
  }

  /** GDPR requests, exports, imports, deletions, restores and retention_* actions per bucket, by event type. */
  dataActionsPerBucket(w: ReportWindow, bucketMs: number): Promise<BucketCount[]> {
    return this.perBucket(
      w,
      bucketMs,
      `SELECT ${BUCKET} AS b, event_type AS k, count() AS n FROM audit_logs WHERE ${inPeriod(w)} AND (event_type IN {types:Array(String)} OR startsWith(event_type, 'retention_')) GROUP BY b, k`,
      { types: DATA_ACTIONS },
    );
  }

  private async perBucket(w: ReportWindow, bucketMs: number, sql: string, extra: Record<string, unknown> = {}): Promise<BucketCount[]> {
    const rows = await this.reader.query<{ b: number; k: string; n: number }>(sql, { ...params(w), start_ms: w.start.getTime(), bucket_ms: bucketMs, ...extra });
    return rows.map((r) => ({ bucket: Number(r.b), key: r.k, count: Number(r.n) }));
  }

  private async countBy(w: ReportWindow, sql: string, extra: Record<string, unknown> = {}): Promise<Counts> {
    const rows = await this.reader.query<{ k: string; n: number }>(sql, { ...params(w), ...extra });
    return Object.fromEntries(rows.map((r) => [r.k, Number(r.n)]));
  }
}

function inPeriod(w: ReportWindow): string {
  return `occurred_at >= {from:DateTime64(3)} AND occurred_at < {to:DateTime64(3)}${w.scope ? ' AND has({apps:Array(String)}, source_app)' : ''}`;
}

function params(w: ReportWindow): Record<string, unknown> {
  return { from: toClickHouseTime(w.start), to: toClickHouseTime(w.end), ...(w.scope ? { apps: w.scope } : {}) };
}

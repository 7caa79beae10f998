import type { Pool } from 'pg';
import { reportHash, reportScopeApps, type ReportRow, type ReportType, type SignedReport, type UnsignedReport } from '../../domain/report';
import type { SigningKey } from '../../lib/signing-key';
import type { ClickHouseReader } from '../../queues/clickhouse-reader';
import type { IntegrityVerifier } from '../integrity/integrity-verifier';
import type { ReportRepository } from './report.repository';
import { VerificationRunRepository } from '../integrity/verification-run.repository';
import { LegacyResolutions } from '../admin/legacy-resolutions';
import { eventKey, ResolutionRepository } from '../admin/resolution.repository';
import { ReportFiguresReader, type Counts, type ReportWindow } from './report-figures.reader';
import { trendBucketMs, trendBuckets, trendSeries, type ReportTrends } from '../../domain/report-trends';

/**
 * Builds, signs, chains and stores compliance reports from what ClickHouse
 * holds for a period. One report per type, period and scope: asking again
 * returns the stored one.
 *
 * A report scoped to some apps counts only their rows (every query on an
 * event table is bounded by `source_app`), names its scope in its signed
 * content (`content.scope`, shown on the cover) and is chained with the
 * reports of the same scope. Its integrity figures say whether the shared
 * chains hold, without the other apps' row counts or event ids.
 */
export class ReportBuilder {
  private readonly figures: ReportFiguresReader;
  private readonly resolutions: ResolutionRepository;
  private readonly legacyResolutions: LegacyResolutions;
  private readonly runs: VerificationRunRepository;

  constructor(
    reader: ClickHouseReader,
    pg: Pool,
    private readonly reports: ReportRepository,
    private readonly verifier: IntegrityVerifier,
    private readonly key: SigningKey,
  ) {
    this.figures = new ReportFiguresReader(reader);
    this.resolutions = new ResolutionRepository(pg);
    this.legacyResolutions = new LegacyResolutions(pg, reader);
    this.runs = new VerificationRunRepository(pg);
  }

  /** Now, on the database's clock (see ReportRepository.databaseNow). */
  databaseNow(): Promise<Date> {
    return this.reports.databaseNow();
  }

  async generate(type: ReportType, start: Date, end: Date, generatedBy: string, apps?: readonly string[] | null): Promise<{ report: ReportRow; created: boolean }> {
    const scope = reportScopeApps(apps);
    const existing = await this.reports.find(type, start, end, scope);
    if (existing) return { report: existing, created: false };
    const { content, total } = await this.content(type, start, end, scope);
    const trends = await this.trends(type, { start, end, scope });
    content.integrity_last_run = await this.lastVerification(scope !== null);
    // Global reports keep the content they always had; a scoped one names its apps, under the signature.
    if (scope) content.scope = scope;
    return this.reports.withChainLock(scope, async (previousHash) => {
      const unsigned: UnsignedReport = {
        format: 'auditflow-report/1',
        report_type: type,
        period_start: start.toISOString(),
        period_end: end.toISOString(),
        generated_at: new Date().toISOString(),
        total_records: total,
        content,
        trends,
        previous_report_hash: previousHash,
        key_id: this.key.keyId,
      };
      const hash = reportHash(unsigned);
      const signed: SignedReport = { ...unsigned, report_hash: hash, signature: this.key.sign(hash) };
      const stored = await this.reports.insert(signed, generatedBy);
      if (stored) return { report: stored, created: true };
      // Another generator stored this period first: it is the one report.
      return { report: (await this.reports.find(type, start, end, scope))!, created: false };
    });
  }

  /**
   * The latest recorded verification run as of generation: every report
   * states the store's last known integrity. The run covers every app's
   * rows, so a scoped report gets its verdict and the broken tables, not
   * its row count or where (which event) a chain broke.
   */
  private async lastVerification(scoped: boolean): Promise<Record<string, unknown> | null> {
    const [run] = await this.runs.latest(1);
    if (!run) return null;
    const broken = run.tables.filter((t) => !t.ok).map((t) => (scoped ? { table: t.table } : { table: t.table, ...t.first_break }));
    return { run_id: run.id, trigger: run.trigger, finished_at: run.finished_at, ok: run.ok, ...(scoped ? {} : { rows_verified: run.rows_verified }), ...(broken.length ? { broken } : {}) };
  }

  /**
   * The series the PDF charts, per hour or per day of the period: failed
   * logins, lockouts and security events by severity (daily); admin actions
   * and access changes (weekly); personal data operations and retention
   * actions (monthly). Counted like the content's figures, over the same rows.
   */
  private async trends(type: ReportType, w: ReportWindow): Promise<ReportTrends> {
    const bucketMs = trendBucketMs(w.start, w.end);
    const buckets = trendBuckets(w.start, w.end, bucketMs);
    const n = buckets.length;
    const series: Record<string, Record<string, number[]>> = {};
    if (type === 'daily_security_summary') {
      series.failed_logins = trendSeries(await this.figures.failedLoginsPerBucket(w, bucketMs), n, ['attempts']);
      series.lockouts = trendSeries(await this.figures.lockoutsPerBucket(w, bucketMs), n);
      series.security_events_by_severity = trendSeries(await this.figures.securityEventsPerBucket(w, bucketMs), n);
    } else if (type === 'weekly_access_review') {
      series.admin_actions = trendSeries(await this.figures.adminActionsPerBucket(w, bucketMs), n, ['actions']);
      const changes = await this.figures.accessChangesPerBucket(w, bucketMs);
      series.role_and_permission_changes = trendSeries(
        changes.filter((c) => ['role_changed', 'permission_granted', 'permission_revoked'].includes(c.key)),
        n,
      );
    } else {
      const data = await this.figures.dataActionsPerBucket(w, bucketMs);
      series.data_subject_activity = trendSeries(
        data.filter((c) => !c.key.startsWith('retention_')),
        n,
      );
      series.retention_actions = trendSeries(
        data.filter((c) => c.key.startsWith('retention_')),
        n,
      );
    }
    return { bucket_seconds: bucketMs / 1000, buckets, series };
  }

  private async content(type: ReportType, start: Date, end: Date, scope: string[] | null): Promise<{ content: Record<string, unknown>; total: number }> {
    const w: ReportWindow = { start, end, scope };
    const sum = (c: Counts) => Object.values(c).reduce((a, b) => a + b, 0);

    if (type === 'daily_security_summary') {
      const failedByReason = await this.figures.failedLoginsByReason(w);
      const lockouts = await this.figures.lockouts(w);
      const highRisk = await this.figures.highRiskAuthEvents(w);
      const security = await this.figures.securityEvents(w);
      // Resolutions name (source_app, event_id): another app's event with the same id is not resolved by this one's.
      await this.legacyResolutions.settle();
      const resolved = await this.resolutions.byEvents('security_event', security);
      const topIps = (await this.figures.topFailedLogins(w, 'ip_address')).map((r) => ({ ip_address: r.key, failed_logins: r.failed_logins }));
      const topAccounts = (await this.figures.topFailedLogins(w, 'email_address')).map((r) => ({ email_address: r.key, failed_logins: r.failed_logins }));
      const bySeverity: Record<string, { resolved: number; open: number }> = {};
      for (const s of security) {
        let bucket = bySeverity[s.severity_level];
        if (!bucket) {
          bucket = { resolved: 0, open: 0 };
          bySeverity[s.severity_level] = bucket;
        }
        if (s.is_resolved || resolved.has(eventKey(s.source_app, s.event_id))) bucket.resolved++;
        else bucket.open++;
      }
      return {
        content: {
          failed_logins: { total: sum(failedByReason), by_reason: failedByReason },
          lockouts,
          high_risk_auth_events: { total: sum(highRisk), by_type: highRisk },
          security_events_by_severity: Object.fromEntries(Object.entries(bySeverity).sort(([a], [b]) => a.localeCompare(b))),
          top_offending_ips: topIps,
          top_offending_accounts: topAccounts,
        },
        total: sum(failedByReason) + sum(lockouts) + sum(highRisk) + security.length,
      };
    }

    if (type === 'weekly_access_review') {
      const adminActions = await this.figures.adminActions(w);
      const accessChanges = await this.figures.accessChanges(w);
      return {
        content: {
          admin_actions: { total: sum(adminActions), by_type: adminActions },
          role_and_permission_changes: pick(accessChanges, ['role_changed', 'permission_granted', 'permission_revoked']),
          suspensions: pick(accessChanges, ['account_suspended', 'account_reactivated']),
          accounts: pick(accessChanges, ['user_created', 'account_deleted']),
        },
        total: sum(adminActions) + sum(accessChanges),
      };
    }

    const data = await this.figures.dataActions(w);
    const integrity = await this.verifier.verify({ from: start, to: end });
    return {
      content: {
        gdpr_requests: data.gdpr_request ?? 0,
        data_exports: data.data_exported ?? 0,
        data_imports: data.data_imported ?? 0,
        account_deletions: data.account_deleted ?? 0,
        account_restores: data.account_restored ?? 0,
        retention_actions: Object.fromEntries(Object.entries(data).filter(([k]) => k.startsWith('retention_'))),
        // The chains hold every app's rows together: a scoped report says whether they hold, not how many rows other apps have.
        integrity: scope
          ? { ok: integrity.ok, covers: 'every application (the hash chains are shared)', tables: integrity.tables.map((t) => ({ table: t.table, ok: t.ok, seals: t.seals })) }
          : {
              ok: integrity.ok,
              rows_verified: integrity.rows,
              tables: integrity.tables.map((t) => ({ table: t.table, ok: t.ok, seals: t.seals, rows: t.rows, ...(t.first_break ? { first_break: t.first_break } : {}) })),
            },
      },
      total: sum(data) + (scope ? 0 : integrity.rows),
    };
  }
}

function pick(counts: Counts, keys: string[]): Counts {
  return Object.fromEntries(keys.map((k) => [k, counts[k] ?? 0]));
}

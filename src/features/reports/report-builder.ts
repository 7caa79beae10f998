import type { Pool } from 'pg';
import { toClickHouseTime } from '../../domain/event-row';
import { reportHash, reportScopeApps, type ReportRow, type ReportType, type SignedReport, type UnsignedReport } from '../../domain/report';
import type { SigningKey } from '../../lib/signing-key';
import type { ClickHouseReader } from '../../queues/clickhouse-reader';
import type { IntegrityVerifier } from '../integrity/integrity-verifier';
import type { ReportRepository } from './report-writer.repository';
import { VerificationRunRepository } from '../integrity/verification-run.repository';
import { LegacyResolutions } from '../admin/legacy-resolutions';

type Counts = Record<string, number>;

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
  private readonly legacyResolutions: LegacyResolutions;

  constructor(
    private readonly reader: ClickHouseReader,
    private readonly pg: Pool,
    private readonly reports: ReportRepository,
    private readonly verifier: IntegrityVerifier,
    private readonly key: SigningKey,
  ) {
    this.legacyResolutions = new LegacyResolutions(pg, reader);
  }

  async generate(type: ReportType, start: Date, end: Date, generatedBy: string, apps?: readonly string[] | null): Promise<{ report: ReportRow; created: boolean }> {
    const scope = reportScopeApps(apps);
    const existing = await this.reports.find(type, start, end, scope);
    if (existing) return { report: existing, created: false };
    const { content, total } = await this.content(type, start, end, scope);
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
    const [run] = await new VerificationRunRepository(this.pg).latest(1);
    if (!run) return null;
    const broken = run.tables.filter((t) => !t.ok).map((t) => (scoped ? { table: t.table } : { table: t.table, ...t.first_break }));
    return { run_id: run.id, trigger: run.trigger, finished_at: run.finished_at, ok: run.ok, ...(scoped ? {} : { rows_verified: run.rows_verified }), ...(broken.length ? { broken } : {}) };
  }

  private async content(type: ReportType, start: Date, end: Date, scope: string[] | null): Promise<{ content: Record<string, unknown>; total: number }> {
    const p = { from: toClickHouseTime(start), to: toClickHouseTime(end), ...(scope ? { apps: scope } : {}) };
    // Every query below reads event tables through this condition: a scoped report reads only its apps' rows.
    const inPeriod = `occurred_at >= {from:DateTime64(3)} AND occurred_at < {to:DateTime64(3)}${scope ? ' AND has({apps:Array(String)}, source_app)' : ''}`;
    const countBy = async (sql: string): Promise<Counts> => {
      const rows = await this.reader.query<{ k: string; n: number }>(sql, p);
      return Object.fromEntries(rows.map((r) => [r.k, Number(r.n)]));
    };
    const sum = (c: Counts) => Object.values(c).reduce((a, b) => a + b, 0);

    if (type === 'daily_security_summary') {
      const failedByReason = await countBy(`SELECT failure_reason AS k, count() AS n FROM failed_login_attempts WHERE ${inPeriod} GROUP BY k ORDER BY k`);
      const lockouts = await countBy(`SELECT action_taken AS k, count() AS n FROM security_events WHERE ${inPeriod} AND action_taken IN ('ACCOUNT_LOCKED', 'ACCOUNT_UNLOCKED', 'IP_BLOCKED') GROUP BY k ORDER BY k`);
      const highRisk = await countBy(`SELECT event_type AS k, count() AS n FROM auth_audit_log WHERE ${inPeriod} AND risk_score >= 70 GROUP BY k ORDER BY k`);
      const security = await this.reader.query<{ source_app: string; event_id: string; severity_level: string; is_resolved: boolean }>(
        `SELECT source_app, toString(event_id) AS event_id, severity_level, is_resolved FROM security_events WHERE ${inPeriod}`,
        p,
      );
      // Resolutions name (source_app, event_id): another app's event with the same id is not resolved by this one's.
      await this.legacyResolutions.settle();
      const key = (app: string, id: string) => `${app} ${id}`;
      const resolved = new Set(
        (
          await this.pg.query<{ source_app: string; event_id: string }>(
            `SELECT r.source_app, r.event_id::text FROM event_resolutions r JOIN unnest($1::text[], $2::uuid[]) AS e(source_app, event_id) USING (source_app, event_id) WHERE r.kind = 'security_event'`,
            [security.map((s) => s.source_app), security.map((s) => s.event_id)],
          )
        ).rows.map((r) => key(r.source_app, r.event_id)),
      );
      // The ten sources and targets with the most failed logins: who to block, whom to warn.
      const top = (column: string) =>
        this.reader.query<{ k: string; n: number }>(
          `SELECT toString(${column}) AS k, count() AS n FROM failed_login_attempts WHERE ${inPeriod} AND ${column} IS NOT NULL AND toString(${column}) != '' GROUP BY k ORDER BY n DESC, k LIMIT 10`,
          p,
        );
      const topIps = (await top('ip_address')).map((r) => ({ ip_address: r.k, failed_logins: Number(r.n) }));
      const topAccounts = (await top('email_address')).map((r) => ({ email_address: r.k, failed_logins: Number(r.n) }));
      const bySeverity: Record<string, { resolved: number; open: number }> = {};
      for (const s of security) {
        const bucket = (bySeverity[s.severity_level] ??= { resolved: 0, open: 0 });
        if (s.is_resolved || resolved.has(key(s.source_app, s.event_id))) bucket.resolved++;
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
      const adminActions = await countBy(`SELECT event_type AS k, count() AS n FROM audit_logs WHERE ${inPeriod} AND triggered_by_type = 'admin' GROUP BY k ORDER BY k`);
      const accessChanges = await countBy(
        `SELECT event_type AS k, count() AS n FROM audit_logs WHERE ${inPeriod} AND event_type IN ('role_changed', 'permission_granted', 'permission_revoked', 'account_suspended', 'account_reactivated', 'user_created', 'account_deleted') GROUP BY k ORDER BY k`,
      );
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

    const data = await countBy(
      `SELECT event_type AS k, count() AS n FROM audit_logs WHERE ${inPeriod} AND (event_type IN ('gdpr_request', 'data_exported', 'data_imported', 'account_deleted', 'account_restored') OR startsWith(event_type, 'retention_')) GROUP BY k ORDER BY k`,
    );
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

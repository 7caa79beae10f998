import type { SignedReport } from '../../src/domain/report';
import { reportCsv } from '../../src/features/reports/report-rendering';
import { figureTable, integrityStatus, REPORT_SECTIONS, reportFigures, reportScope, sectionsOf } from '../../src/features/reports/report-sections';

const report = (content: Record<string, unknown>): SignedReport => ({
  format: 'auditflow-report/1',
  report_type: 'daily_security_summary',
  period_start: '2026-01-01T00:00:00.000Z',
  period_end: '2026-01-02T00:00:00.000Z',
  generated_at: '2026-01-02T00:05:00.000Z',
  total_records: 3,
  content,
  previous_report_hash: '',
  key_id: 'k1',
  report_hash: 'b'.repeat(64),
  signature: 'sig',
});

describe('report sections', () => {
  it('every known section says what it measures, with a unit', () => {
    for (const [id, info] of Object.entries(REPORT_SECTIONS)) {
      expect([id, info.title.length > 0, info.about.length > 40, info.unit.length > 0]).toEqual([id, true, true, true]);
    }
  });

  it('turns nested counts into tidy figures and printable tables with labels and units', () => {
    const content = {
      failed_logins: { total: 3, by_reason: { INVALID_PASSWORD: 3 } },
      security_events_by_severity: { HIGH: { open: 1, resolved: 2 } },
      top_offending_ips: [{ ip_address: '203.0.113.5', failed_logins: 3 }],
      gdpr_requests: 1,
      data_exports: 0,
      something_new: 5,
      integrity_last_run: null,
    };
    expect(reportFigures(content)).toEqual([
      { section: 'failed_logins', dimension: 'INVALID_PASSWORD', measure: 'count', value: '3', unit: 'attempts' },
      { section: 'failed_logins', dimension: 'total', measure: 'count', value: '3', unit: 'attempts' },
      { section: 'security_events_by_severity', dimension: 'HIGH', measure: 'open', value: '1', unit: 'events' },
      { section: 'security_events_by_severity', dimension: 'HIGH', measure: 'resolved', value: '2', unit: 'events' },
      { section: 'top_offending_ips', dimension: '203.0.113.5', measure: 'failed_logins', value: '3', unit: 'failed logins' },
      { section: 'data_subject_activity', dimension: 'gdpr_requests', measure: 'count', value: '1', unit: 'operations' },
      { section: 'data_subject_activity', dimension: 'data_exports', measure: 'count', value: '0', unit: 'operations' },
      // An unknown key is shown, not dropped.
      { section: 'something_new', dimension: 'something_new', measure: 'count', value: '5', unit: '' },
    ]);
    const severity = sectionsOf(content).find((s) => s.id === 'security_events_by_severity')!;
    expect(
      figureTable(
        severity.info,
        reportFigures(content).filter((f) => f.section === severity.id),
      ),
    ).toEqual({
      columns: ['Severity', 'Open (events)', 'Resolved (events)', 'Total (events)'],
      rows: [['HIGH', '1', '2', '3']],
    });
    const failed = sectionsOf(content).find((s) => s.id === 'failed_logins')!;
    expect(
      figureTable(
        failed.info,
        reportFigures(content).filter((f) => f.section === 'failed_logins'),
      ),
    ).toEqual({
      columns: ['Reason', 'Attempts'],
      rows: [
        ['Invalid password', '3'],
        ['Total', '3'],
      ],
    });
  });

  it('states integrity as OK, or exactly what broke', () => {
    expect(integrityStatus({ integrity_last_run: null })).toEqual(['Last recorded verification run: none recorded before this report was generated.']);
    expect(
      integrityStatus({
        integrity: { ok: false, rows_verified: 7, tables: [{ table: 'audit_logs', ok: false, first_break: { kind: 'row_modified', seal_seq: 2, event_id: 'e1', detail: 'row hash differs' } }] },
        integrity_last_run: { run_id: '9', trigger: 'scheduled', finished_at: '2026-01-02T02:30:01.000Z', ok: true, rows_verified: 10 },
      }),
    ).toEqual([
      'Period check: BROKEN. 7 rows verified.',
      '  audit_logs: row_modified at seal 2, event e1 (row hash differs)',
      'Last recorded verification run (scheduled, finished 2026-01-02T02:30:01.000Z, run 9): OK. 10 rows verified.',
    ]);
  });

  it("a report scoped to apps states the shared chains' integrity without row counts or where a chain broke", () => {
    const content = {
      scope: ['shop'],
      integrity: {
        ok: false,
        covers: 'every application (the hash chains are shared)',
        tables: [
          { table: 'audit_logs', ok: false, seals: 3 },
          { table: 'error_logs', ok: true, seals: 1 },
        ],
      },
      integrity_last_run: { run_id: '9', trigger: 'scheduled', finished_at: '2026-01-02T02:30:01.000Z', ok: false, broken: [{ table: 'audit_logs' }] },
    };
    expect(integrityStatus(content)).toEqual([
      'Period check (covers every application (the hash chains are shared)): BROKEN.',
      '  audit_logs: break',
      'Last recorded verification run (scheduled, finished 2026-01-02T02:30:01.000Z, run 9): BROKEN.',
      '  audit_logs: break',
    ]);
    expect(integrityStatus({ ...content, integrity: { ...content.integrity, ok: true } })[0]).toBe('Period check (covers every application (the hash chains are shared)): OK. 2 tables verified.');
    const figures = reportFigures(content).filter((f) => f.section === 'integrity');
    expect(figures.map((f) => [f.dimension, f.measure, f.value])).toEqual([
      ['audit_logs', 'status', 'BROKEN'],
      ['audit_logs', 'seals', '3'],
      ['error_logs', 'status', 'OK'],
      ['error_logs', 'seals', '1'],
    ]);
    expect(reportCsv(report(content))).toContain('"report","scope","","shop",""');
  });

  it('scope is all applications unless the content names some', () => {
    expect(reportScope({})).toBe('All applications');
    expect(reportScope({ scope: ['shop', 'todo'] })).toBe('shop, todo');
  });
});

describe('tidy CSV', () => {
  it('has a header and one row per figure and dimension', () => {
    const lines = reportCsv(report({ failed_logins: { total: 3, by_reason: { INVALID_PASSWORD: 3 } }, integrity_last_run: null })).split('\r\n');
    expect(lines[0]).toBe('section,dimension,measure,value,unit');
    expect(lines).toContain('"failed_logins","INVALID_PASSWORD","count","3","attempts"');
    expect(lines).toContain(`"report","report_hash","","${'b'.repeat(64)}",""`);
  });

  it('keeps spreadsheet formulas from running, in dimensions as in values', () => {
    // An attacker controls the IP or email of a failed login, and so a dimension of the report.
    const csv = reportCsv(
      report({
        top_offending_accounts: [
          { email_address: '=HYPERLINK("http://evil")', failed_logins: 2 },
          { email_address: '@SUM(1)', failed_logins: 1 },
        ],
      }),
    );
    expect(csv).toContain(`"top_offending_accounts","'=HYPERLINK(""http://evil"")","failed_logins","2","failed logins"`);
    expect(csv).toContain(`"'@SUM(1)"`);
    expect(csv).not.toMatch(/(^|,)"[=+\-@]/m);
  });
});

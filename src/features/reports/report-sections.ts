import type { ReportTrends } from '../../domain/report-trends';

/**
 * What each part of a report's content means, for people: the one table of
 * section titles, descriptions and units, and the tidy figures derived from
 * the content. The PDF and the CSV both read from here.
 */

export interface SectionInfo {
  title: string;
  /** What it measures and why an auditor looks at it. */
  about: string;
  /** Label of the first table column. */
  dimension: string;
  /** Unit of the counted values. */
  unit: string;
  /** Content keys shown together in this section (default: the section's own key). */
  keys?: string[];
  /** Dimension values are identifiers (table names) and are printed as they are. */
  rawLabels?: boolean;
  /** Rows are a ranking (most first) and are printed in their order. */
  ranked?: boolean;
}

export const REPORT_SECTIONS: Record<string, SectionInfo> = {
  failed_logins: {
    title: 'Failed logins',
    about: 'Login attempts that were refused, by the reason the application gave. A rise in one reason (for example invalid passwords) is the first sign of credential stuffing or brute force.',
    dimension: 'Reason',
    unit: 'attempts',
  },
  lockouts: {
    title: 'Lockouts and blocks',
    about: 'Accounts locked or unlocked and IP addresses blocked by the protective controls. They show the controls acting, and how often users were shut out.',
    dimension: 'Action',
    unit: 'actions',
  },
  high_risk_auth_events: {
    title: 'High-risk authentication events',
    about: 'Authentication events scored 70 or more by the risk engine, by event type. These are the sign-ins an investigator should review first.',
    dimension: 'Event type',
    unit: 'events',
  },
  security_events_by_severity: {
    title: 'Security events by severity',
    about: 'Security events raised in the period, by severity, open or resolved at generation time. Open high-severity events are unhandled incidents.',
    dimension: 'Severity',
    unit: 'events',
  },
  top_offending_ips: {
    title: 'Top offending IP addresses',
    about: 'The ten IP addresses with the most failed logins in the period. Candidates for blocking or for an abuse report.',
    dimension: 'IP address',
    unit: 'failed logins',
    ranked: true,
  },
  top_offending_accounts: {
    title: 'Top targeted accounts',
    about: 'The ten accounts (email addresses) with the most failed logins in the period. These owners may need a password reset or a second factor.',
    dimension: 'Account',
    unit: 'failed logins',
    ranked: true,
  },
  admin_actions: {
    title: 'Administrator actions',
    about: 'Changes made by administrators, by type. Privileged activity is reviewed periodically to detect misuse of rights.',
    dimension: 'Action',
    unit: 'actions',
  },
  role_and_permission_changes: {
    title: 'Role and permission changes',
    about: 'Roles changed and permissions granted or revoked. Access reviews check that each change was authorised.',
    dimension: 'Change',
    unit: 'changes',
  },
  suspensions: {
    title: 'Suspensions',
    about: 'Accounts suspended and reactivated, to check that leavers lose access and reactivations are justified.',
    dimension: 'Change',
    unit: 'accounts',
  },
  accounts: {
    title: 'Accounts created and deleted',
    about: 'The account lifecycle in the period, to reconcile against joiners and leavers.',
    dimension: 'Change',
    unit: 'accounts',
  },
  data_subject_activity: {
    title: 'Personal data activity',
    about: 'GDPR requests, data exports and imports, account deletions and restores. These are the operations a data protection officer must be able to account for.',
    dimension: 'Operation',
    unit: 'operations',
    keys: ['gdpr_requests', 'data_exports', 'data_imports', 'account_deletions', 'account_restores'],
  },
  retention_actions: {
    title: 'Retention actions',
    about: 'Records archived or deleted by retention policies. Retention must remove data on schedule, and only then.',
    dimension: 'Action',
    unit: 'actions',
  },
  integrity: {
    title: 'Integrity of the period',
    about: 'The hash chain and signed seals of each audit table, verified over the period when this report was generated. A break means rows were changed or removed after they were written.',
    dimension: 'Table',
    unit: 'rows',
    rawLabels: true,
  },
};

/** One figure of a report: a tidy row (section, dimension, measure, value, unit). */
export interface Figure {
  section: string;
  dimension: string;
  measure: string;
  value: string;
  unit: string;
}

type Obj = Record<string, unknown>;

/**
 * The figures that are a section's total (`total` beside a `by_…` map), as
 * sectionFigures made them. Their dimension is `total`, and so may be a key
 * of the map: the apps name those keys (event types), and an event of type
 * `total` must not print as the section's Total row (figureTable).
 */
const TOTALS = new WeakSet<Figure>();
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Keys of content that are not sections of figures: shown elsewhere (integrity status, scope). */
const NOT_FIGURES = new Set(['integrity_last_run', 'scope']);

/** The sections present in a content, in the table's order, then any unknown keys (so nothing is silently dropped). */
export function sectionsOf(content: Obj): { id: string; info: SectionInfo; keys: string[] }[] {
  const claimed = new Set<string>();
  const out: { id: string; info: SectionInfo; keys: string[] }[] = [];
  for (const [id, info] of Object.entries(REPORT_SECTIONS)) {
    const keys = (info.keys ?? [id]).filter((k) => k in content);
    for (const k of keys) claimed.add(k);
    if (keys.length) out.push({ id, info, keys });
  }
  for (const k of Object.keys(content).sort()) {
    if (claimed.has(k) || NOT_FIGURES.has(k)) continue;
    out.push({ id: k, info: { title: humanize(k), about: '', dimension: 'Item', unit: '' }, keys: [k] });
  }
  return out;
}

/** The figures of one section, tidy: one per dimension and measure. */
export function sectionFigures(content: Obj, section: { id: string; info: SectionInfo; keys: string[] }): Figure[] {
  const { id, info } = section;
  const fig = (dimension: string, measure: string, value: unknown, unit = info.unit): Figure => ({
    section: id,
    dimension,
    measure,
    value: value === null || value === undefined ? '' : String(value),
    unit,
  });
  const out: Figure[] = [];
  for (const key of section.keys) {
    const value = content[key];
    if (id === 'integrity' && isObj(value)) {
      for (const t of (Array.isArray(value.tables) ? value.tables : []) as Obj[]) {
        const table = String(t.table);
        out.push(fig(table, 'status', t.ok ? 'OK' : 'BROKEN', ''), fig(table, 'seals', t.seals, 'seals'));
        // A report scoped to some apps has no row counts here: the chains hold every app's rows.
        if (t.rows !== undefined) out.push(fig(table, 'rows', t.rows, 'rows'));
      }
      if (value.rows_verified !== undefined) out.push(fig('all tables', 'rows', value.rows_verified, 'rows'));
    } else if (Array.isArray(value)) {
      // Ranked lists: [{ <dimension>: ..., <count>: n }, ...]
      for (const item of value as Obj[]) {
        const [dimKey, ...rest] = Object.keys(item);
        for (const m of rest) out.push(fig(String(item[dimKey!]), m, item[m]));
      }
    } else if (isObj(value)) {
      const byKey = Object.keys(value).find((k) => k.startsWith('by_') && isObj(value[k]));
      const counts = byKey ? (value[byKey] as Obj) : value;
      for (const [dim, v] of Object.entries(counts)) {
        if (isObj(v)) for (const [m, n] of Object.entries(v)) out.push(fig(dim, m, n));
        else out.push(fig(dim, 'count', v));
      }
      if (byKey && 'total' in value) {
        const total = fig('total', 'count', value.total);
        TOTALS.add(total);
        out.push(total);
      }
    } else {
      out.push(fig(key, 'count', value));
    }
  }
  return out;
}

/**
 * The trend series as tidy figures: section `<section>_per_hour` (or
 * `_per_day`…), one row per bucket start and series, in the section's unit.
 */
export function trendFigures(trends: ReportTrends | undefined): Figure[] {
  if (!trends) return [];
  const per = trends.bucket_seconds === 3600 ? 'hour' : trends.bucket_seconds === 86400 ? 'day' : trends.bucket_seconds === 604800 ? 'week' : `${trends.bucket_seconds}s`;
  return Object.entries(trends.series).flatMap(([section, series]) =>
    Object.entries(series).flatMap(([name, values]) =>
      values.map((value, i) => ({ section: `${section}_per_${per}`, dimension: trends.buckets[i] ?? '', measure: name, value: String(value), unit: REPORT_SECTIONS[section]?.unit ?? '' })),
    ),
  );
}

/** Every figure of a content, section by section. */
export function reportFigures(content: Obj): Figure[] {
  return sectionsOf(content).flatMap((s) => sectionFigures(content, s));
}

/** Figures pivoted for print: one row per dimension, one column per measure. */
export function figureTable(info: SectionInfo, figures: Figure[]): { columns: string[]; rows: string[][] } {
  const measures = [...new Set(figures.map((f) => f.measure))];
  const unitOf = (m: string) => figures.find((f) => f.measure === m)?.unit ?? '';
  const columns = [info.dimension, ...measures.map((m) => columnLabel(m, unitOf(m)))];
  // The section's total is a row of its own, printed last, whatever the counted names are (an event type may be `total`).
  const totals = figures.filter((f) => TOTALS.has(f));
  const counted = figures.filter((f) => !TOTALS.has(f));
  const dims = [...new Set(counted.map((f) => f.dimension))];
  // Counts keyed by name come back from storage in no useful order (PostgreSQL jsonb): print severities from the most severe, other names alphabetically.
  if (!info.ranked && !info.rawLabels && !info.keys) dims.sort((a, b) => dimensionRank(a) - dimensionRank(b) || dimensionLabel(a).localeCompare(dimensionLabel(b)));
  const rows = dims.map((d) => [info.rawLabels ? d : dimensionLabel(d), ...measures.map((m) => counted.find((f) => f.dimension === d && f.measure === m)?.value ?? '')]);
  if (totals.length) rows.push(['Total', ...measures.map((m) => totals.find((f) => f.measure === m)?.value ?? '')]);
  // Severity tables also get a total per row.
  if (measures.length === 2 && measures.includes('open') && measures.includes('resolved')) {
    columns.push(columnLabel('total', info.unit));
    for (const r of rows) r.push(String(Number(r[1]) + Number(r[2])));
  }
  return { columns, rows };
}

function columnLabel(measure: string, unit: string): string {
  if (measure === 'count') return unit ? capitalise(unit) : 'Count';
  if (!unit || unit === measure.replace(/_/g, ' ')) return humanize(measure);
  return `${humanize(measure)} (${unit})`;
}

/** The integrity status for print: OK, or exactly what broke. Both the period check and the last recorded run. */
export function integrityStatus(content: Obj): string[] {
  const lines: string[] = [];
  const period = content.integrity;
  if (isObj(period)) {
    const tables = (Array.isArray(period.tables) ? period.tables : []) as Obj[];
    const rows = period.rows_verified === undefined ? '' : ` ${period.rows_verified} rows verified`;
    const covers = typeof period.covers === 'string' ? ` (covers ${period.covers})` : '';
    if (period.ok) lines.push(`Period check${covers}: OK.${rows}${rows ? ' across' : ''} ${tables.length} tables${rows ? '' : ' verified'}.`);
    else {
      lines.push(`Period check${covers}: BROKEN.${rows}${rows ? '.' : ''}`);
      for (const t of tables.filter((x) => !x.ok)) lines.push(`  ${describeBreak({ table: t.table, ...(isObj(t.first_break) ? t.first_break : {}) })}`);
    }
  }
  const run = content.integrity_last_run;
  if (!isObj(run)) lines.push('Last recorded verification run: none recorded before this report was generated.');
  else {
    const head = `Last recorded verification run (${run.trigger ?? 'unknown trigger'}, finished ${run.finished_at ?? 'unknown'}, run ${run.run_id ?? '?'})`;
    const rows = run.rows_verified === undefined ? '' : ` ${run.rows_verified} rows verified.`;
    if (run.ok) lines.push(`${head}: OK.${rows}`);
    else {
      lines.push(`${head}: BROKEN.${rows}`);
      for (const b of (Array.isArray(run.broken) ? run.broken : []) as Obj[]) lines.push(`  ${describeBreak(b)}`);
    }
  }
  return lines;
}

/** One word for the cover: OK, BROKEN, or not verified. */
export function integrityVerdict(content: Obj): string {
  const checks = [content.integrity, content.integrity_last_run].filter(isObj);
  if (checks.length === 0) return 'Not verified (no verification run recorded yet)';
  return checks.every((c) => c.ok) ? 'OK' : 'BROKEN (see Integrity status)';
}

/** True when a section holds only zeros: the PDF says so in words rather than leave a table of zeros unexplained. */
export function allZero(figures: Figure[]): boolean {
  return figures.length > 0 && figures.every((f) => f.value === '0');
}

function describeBreak(b: Obj): string {
  const where = [b.seal_seq !== null && b.seal_seq !== undefined ? `seal ${b.seal_seq}` : '', b.event_id ? `event ${b.event_id}` : ''].filter(Boolean).join(', ');
  return `${b.table}: ${b.kind ?? 'break'}${where ? ` at ${where}` : ''}${b.detail ? ` (${b.detail})` : ''}`;
}

/** The apps a report covers: all of them unless the content names some. */
export function reportScope(content: Obj): string {
  const scope = content.scope;
  if (Array.isArray(scope) && scope.length) return scope.map(String).join(', ');
  if (typeof scope === 'string' && scope) return scope;
  return 'All applications';
}

function humanize(key: string): string {
  return capitalise(key.replace(/_/g, ' '))
    .replace(/\bgdpr\b/gi, 'GDPR')
    .replace(/\bip\b/gi, 'IP');
}

const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];

/** Where a dimension goes in a printed table: severities first, most severe first (the total is a row of its own, after them all). */
function dimensionRank(d: string): number {
  return SEVERITIES.includes(d) ? SEVERITIES.indexOf(d) : SEVERITIES.length;
}

/** Enum-ish values (INVALID_PASSWORD, login_failed) read as words; addresses and emails stay as they are, and so does a name `total`, which is not the Total row. */
export function dimensionLabel(v: string): string {
  return /^[A-Za-z]+(_[A-Za-z]+)+$/.test(v) ? humanize(v.toLowerCase()) : v;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

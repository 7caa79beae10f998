// @ts-check
import { api } from '../api.js';
import { barChart, LOCK_COLORS } from '../charts.js';
import { badge, errorBox, field, h, ip, num, pager, replace, table, time } from '../dom.js';
import { appSelect, OWN_SOURCE_APP, sourceBadge } from '../source-app.js';
import { latestOnly } from '../latest-only.js';

const PAGE = 20;
const RANGES = [
  { hours: 24, label: 'Last 24 hours' },
  { hours: 168, label: 'Last 7 days' },
  { hours: 720, label: 'Last 30 days' },
];

/** @typedef {import('../dom.js').Column} Column */

/**
 * Risk, once auth events carry it: a row with `risk_level` or `risk_score`
 * gets this column without a change here, so the risk-scoring work only has
 * to add the fields to the API's rows.
 * @param {any[]} rows
 * @returns {Column[]}
 */
function riskColumns(rows) {
  if (!rows.some((r) => r.risk_level !== undefined || r.risk_score !== undefined)) return [];
  return [{ label: 'Risk', value: (r) => [badge(r.risk_level ?? null), r.risk_score !== undefined ? ` ${r.risk_score}` : ''] }];
}

/** @type {Column[]} */
const BY_IP = [
  { label: 'Source IP', value: (r) => ip(r.ip_address, '(none sent)') },
  { label: 'Attempts', value: (r) => num(r.attempts), num: true },
  { label: 'Accounts tried', value: (r) => num(r.accounts), num: true },
  { label: 'First', value: (r) => time(r.first_seen) },
  { label: 'Last', value: (r) => time(r.last_seen) },
];

/** @type {Column[]} */
const BY_ACCOUNT = [
  { label: 'Account (email tried)', value: (r) => r.email_address },
  { label: 'Attempts', value: (r) => num(r.attempts), num: true },
  { label: 'Source IPs', value: (r) => num(r.source_ips), num: true },
  { label: 'With lockout', value: (r) => num(r.lockouts), num: true },
  { label: 'First', value: (r) => time(r.first_seen) },
  { label: 'Last', value: (r) => time(r.last_seen) },
];

/**
 * Charts of failed logins and of lockouts per hour, failed logins by source
 * IP and by account (their materialized views), the accounts locked now
 * (with unlock), and the daily risk distribution.
 * @param {HTMLElement} main
 * @param {{ viewer: { can: Record<string, boolean> } }} ctx
 */
export async function failedLoginsView(main, { viewer }) {
  const range = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { name: 'hours' },
      RANGES.map((r) => h('option', { value: String(r.hours) }, r.label)),
    )
  );
  const byIp = h('div', { id: 'failed-by-ip' });
  const byAccount = h('div', { id: 'failed-by-account' });
  const locked = h('div', { id: 'locked-accounts' });
  const app = appSelect((path) => api('GET', path));
  const risk = h('div', { id: 'auth-risk' });
  const failedChart = h('div', { class: 'chart panel', id: 'chart-failed-logins' });
  const lockChart = h('div', { class: 'chart panel', id: 'chart-lockouts' });

  const loadTrends = async () => {
    const t = await api('GET', '/v1/dashboard/security-trends', { query: { hours: range.value, app: app.value } });
    const times = t.hours.map((/** @type {string} */ hour) => Date.parse(hour) / 1000);
    const note = (RANGES.find((r) => String(r.hours) === range.value)?.label ?? '').toLowerCase();
    failedChart.replaceChildren();
    lockChart.replaceChildren();
    barChart(failedChart, { title: 'Failed logins', note, times, series: [{ label: 'failed logins', values: t.failed_logins, color: '#e07a00' }], unit: 'attempts' });
    barChart(lockChart, {
      title: 'Lockouts and blocks',
      note,
      times,
      series: Object.entries(LOCK_COLORS).map(([action, color]) => ({ label: action.toLowerCase().replace('_', ' ').replace(/^ip/, 'IP'), values: t.lockouts[action] ?? [], color })),
      unit: 'actions',
    });
  };

  /** Each list draws only its latest load (latest-only.js). */
  const startFailed = { ip: latestOnly(), account: latestOnly() };
  const startLocked = latestOnly();

  /**
   * @param {HTMLElement} into
   * @param {'ip' | 'account'} by
   * @param {Column[]} columns
   * @param {number} offset
   */
  const loadFailed = async (into, by, columns, offset) => {
    const isLatest = startFailed[by]();
    const page = await api('GET', '/v1/dashboard/failed-logins', { query: { by, hours: range.value, app: app.value, limit: PAGE, offset } });
    if (!isLatest()) return;
    into.replaceChildren(
      table([...columns, ...riskColumns(page.rows)], page.rows, { empty: 'No failed logins in this period.' }),
      pager({ offset, limit: PAGE, count: page.rows.length, hasMore: page.has_more }, (o) => void loadFailed(into, by, columns, o)),
    );
  };

  /** @param {number} offset */
  const loadLocked = async (offset) => {
    const isLatest = startLocked();
    const page = await api('GET', '/v1/dashboard/locked-accounts', { query: { app: app.value, limit: PAGE, offset } });
    if (!isLatest()) return;
    /** @type {Column[]} */
    const columns = [
      { label: 'App', value: (a) => sourceBadge(a.source_app) },
      { label: 'Account', value: (a) => a.email ?? h('span', { class: 'mono' }, a.id) },
      { label: 'Status', value: (a) => a.status ?? 'locked' },
      { label: 'Locked until', value: (a) => (a.locked_until ? time(a.locked_until) : 'until lifted') },
      { label: 'Set by', value: (a) => a.lock_source ?? '' },
      { label: 'Failed attempts', value: (a) => (a.failed_login_attempts === null ? '' : num(a.failed_login_attempts)), num: true },
      { label: 'Locks so far', value: (a) => num(a.lock_count), num: true },
      { label: '', value: (a) => (viewer.can.unlockUsers && a.source_app === OWN_SOURCE_APP ? unlockForm(a, () => loadLocked(offset)) : '') },
    ];
    locked.replaceChildren(
      table(columns, page.accounts, { empty: 'No account is locked.', rowAttrs: (a) => ({ 'data-user-id': a.id, 'data-source-app': a.source_app }) }),
      pager({ offset, limit: PAGE, count: page.accounts.length, hasMore: page.has_more }, (o) => void loadLocked(o)),
    );
  };

  const loadRisk = async () => {
    const result = await api('GET', '/v1/dashboard/auth-risk', { query: { days: 14 } });
    risk.replaceChildren(
      table(
        [
          { label: 'Day (UTC)', value: (d) => d.day },
          { label: 'Auth events', value: (d) => num(d.events), num: true },
          { label: 'Low (<30)', value: (d) => num(d.low), num: true },
          { label: 'Medium (30-69)', value: (d) => num(d.medium), num: true },
          { label: 'High (≥70)', value: (d) => num(d.high), num: true },
          { label: 'Average', value: (d) => String(d.risk_avg), num: true },
          { label: 'Max', value: (d) => String(d.risk_max), num: true },
        ],
        result.days,
        { empty: 'No auth events in the last 14 days.' },
      ),
    );
  };

  const loadAll = () =>
    Promise.all([
      loadTrends().catch((e) => replace(failedChart, errorBox(e))),
      loadFailed(byIp, 'ip', BY_IP, 0).catch((e) => replace(byIp, errorBox(e))),
      loadFailed(byAccount, 'account', BY_ACCOUNT, 0).catch((e) => replace(byAccount, errorBox(e))),
      viewer.can.readUsers ? loadLocked(0).catch((e) => replace(locked, errorBox(e))) : replace(locked, h('p', { class: 'muted' }, 'Your admin level cannot list users.')),
      loadRisk().catch((e) => replace(risk, errorBox(e))),
    ]);
  range.addEventListener('change', () => void loadAll());
  app.addEventListener('change', () => void loadAll());
  main.replaceChildren(
    h('h1', {}, 'Failed logins and lockouts'),
    h('div', { class: 'toolbar' }, field('Period', range), field('App', app), h('button', { type: 'button', onclick: () => void loadAll() }, 'Refresh')),
    h('div', { class: 'grid2' }, failedChart, lockChart),
    h('div', { class: 'grid2' }, h('div', {}, h('h2', {}, 'By source IP'), byIp), h('div', {}, h('h2', {}, 'By account'), byAccount)),
    h('h2', {}, 'Locked accounts'),
    locked,
    h('h2', {}, 'Risk of auth events per day'),
    risk,
  );
  await loadAll();
}

/**
 * Unlock with an optional reason (POST /admin/users/{id}/unlock).
 * @param {any} account
 * @param {() => Promise<void>} done
 */
function unlockForm(account, done) {
  const reason = /** @type {HTMLInputElement} */ (h('input', { type: 'text', name: 'reason', maxlength: 2000, placeholder: 'Reason (optional)' }));
  const message = h('span');
  return h(
    'form',
    {
      class: 'resolve-form unlock',
      onsubmit: async (/** @type {Event} */ e) => {
        e.preventDefault();
        try {
          await api('POST', `/admin/users/${account.id}/unlock`, { body: reason.value.trim() ? { reason: reason.value.trim() } : {} });
          await done();
        } catch (error) {
          replace(message, errorBox(error));
        }
      },
    },
    reason,
    h('button', { type: 'submit', class: 'primary' }, 'Unlock'),
    message,
  );
}

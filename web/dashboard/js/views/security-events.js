// @ts-check
import { api } from '../api.js';
import { barChart, SEVERITY_COLORS } from '../charts.js';
import { appSelect, sourceBadge } from '../source-app.js';
import { badge, errorBox, field, h, ip, pager, replace, table, time } from '../dom.js';
import { resolveForm } from '../resolve-form.js';
import { latestOnly } from '../latest-only.js';

const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];
const PAGE = 25;

/** Hours the chart of security events covers. */
const CHART_HOURS = 168;

/**
 * A chart of security events per hour by severity (the last 7 days, of the
 * app chosen), and the security events (GET /admin/security-events),
 * filtered by severity, type and state, and resolved with notes
 * (POST /admin/security-events/{id}/resolve).
 * @param {HTMLElement} main
 * @param {{ viewer: { can: Record<string, boolean> } }} ctx
 */
export async function securityEventsView(main, { viewer }) {
  const severity = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { name: 'severity' },
      h('option', { value: '' }, 'Any'),
      SEVERITIES.map((s) => h('option', { value: s }, s)),
    )
  );
  const type = /** @type {HTMLSelectElement} */ (h('select', { name: 'type' }, h('option', { value: '' }, 'Any')));
  const state = /** @type {HTMLSelectElement} */ (
    h('select', { name: 'resolved' }, h('option', { value: 'false' }, 'Open'), h('option', { value: 'true' }, 'Resolved'), h('option', { value: '' }, 'All'))
  );
  const app = appSelect((path) => api('GET', path));
  const list = h('div');
  const chart = h('div', { class: 'chart panel', id: 'chart-severity' });
  let offset = 0;
  let chartApp = /** @type {string | null} */ (null);

  /** Redrawn when the app changes: the other filters choose rows, not what the chart counts. */
  const loadChart = async () => {
    if (chartApp === app.value) return;
    chartApp = app.value;
    const t = await api('GET', '/v1/dashboard/security-trends', { query: { hours: CHART_HOURS, app: app.value } });
    chart.replaceChildren();
    barChart(chart, {
      title: 'Security events by severity',
      note: 'last 7 days',
      times: t.hours.map((/** @type {string} */ hour) => Date.parse(hour) / 1000),
      series: Object.entries(SEVERITY_COLORS).map(([severity, color]) => ({ label: severity, values: t.security_events_by_severity[severity] ?? [], color })),
      unit: 'events',
    });
  };
  /** The event whose form is open, by app and id: two apps may send the same event_id. @type {string | null} */
  let resolving = null;
  /** @param {any} r */
  const keyOf = (r) => `${r.source_app} ${r.event_id}`;

  const startLoad = latestOnly();
  const load = async () => {
    const isLatest = startLoad();
    const page = await api('GET', '/admin/security-events', { query: { severity: severity.value, type: type.value, app: app.value, resolved: state.value, limit: PAGE, offset } });
    if (!isLatest()) return;
    const rows = /** @type {any[]} */ (page.security_events);
    const columns = [
      { label: 'Time', value: (/** @type {any} */ r) => time(r.occurred_at) },
      { label: 'Severity', value: (/** @type {any} */ r) => badge(r.severity_level) },
      { label: 'Type', value: (/** @type {any} */ r) => r.event_type },
      { label: 'Description', value: (/** @type {any} */ r) => r.event_description },
      { label: 'User', value: (/** @type {any} */ r) => r.user_email ?? r.user_id },
      { label: 'IP', value: (/** @type {any} */ r) => ip(r.ip_address) },
      { label: 'Action taken', value: (/** @type {any} */ r) => r.action_taken },
      { label: 'Source', value: (/** @type {any} */ r) => sourceBadge(r.source_app) },
      {
        label: 'Status',
        value: (/** @type {any} */ r) =>
          r.is_resolved
            ? [badge(r.false_positive ? 'false positive' : 'resolved', 'ok'), h('div', { class: 'notes' }, r.analyst_notes ?? '')]
            : viewer.can.resolveIncidents
              ? resolving === keyOf(r)
                ? resolveForm({
                    withFalsePositive: true,
                    // The app too: this app's event is resolved, not another's with the same id.
                    submit: (notes, falsePositive) =>
                      api('POST', `/admin/security-events/${r.event_id}/resolve`, { body: { analyst_notes: notes, false_positive: falsePositive, source_app: r.source_app } }),
                    done: () => {
                      resolving = null;
                      return load();
                    },
                  })
                : h(
                    'button',
                    {
                      type: 'button',
                      class: 'resolve',
                      onclick: () => {
                        resolving = keyOf(r);
                        void load();
                      },
                    },
                    'Resolve',
                  )
              : badge('open', 'bad'),
      },
    ];
    list.replaceChildren(
      table(columns, rows, { empty: 'No security events match.', rowAttrs: (r) => ({ 'data-event-id': r.event_id, 'data-source-app': r.source_app }) }),
      pager({ offset, limit: PAGE, count: rows.length, hasMore: offset + rows.length < page.total, total: page.total }, (o) => {
        offset = o;
        void load();
      }),
    );
  };

  const apply = () => {
    offset = 0;
    void load();
    void loadChart().catch((e) => replace(chart, errorBox(e)));
  };
  for (const select of [severity, type, state, app]) select.addEventListener('change', apply);
  main.replaceChildren(h('h1', {}, 'Security events'), h('div', { class: 'toolbar' }, field('Severity', severity), field('Type', type), field('State', state), field('App', app)), chart, list);
  void loadChart().catch((e) => replace(chart, errorBox(e)));
  const types = await api('GET', '/v1/dashboard/event-types', { query: { kind: 'security' } });
  type.append(...types.event_types.map((/** @type {{ event_type: string, events: number }} */ t) => h('option', { value: t.event_type }, `${t.event_type} (${t.events})`)));
  await load();
}

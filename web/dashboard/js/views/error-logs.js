// @ts-check
import { api } from '../api.js';
import { appSelect, sourceBadge } from '../source-app.js';
import { badge, field, h, json, pager, table, time } from '../dom.js';
import { resolveForm } from '../resolve-form.js';
import { latestOnly } from '../latest-only.js';

const SEVERITIES = ['critical', 'high', 'medium', 'low'];
const PAGE = 25;

/**
 * Error logs (GET /admin/error-logs), resolved with notes (POST /admin/error-logs/{id}/resolve).
 * @param {HTMLElement} main
 * @param {{ viewer: { can: Record<string, boolean> } }} ctx
 */
export async function errorLogsView(main, { viewer }) {
  const severity = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { name: 'severity' },
      h('option', { value: '' }, 'Any'),
      SEVERITIES.map((s) => h('option', { value: s }, s)),
    )
  );
  const state = /** @type {HTMLSelectElement} */ (
    h('select', { name: 'resolved' }, h('option', { value: 'false' }, 'Open'), h('option', { value: 'true' }, 'Resolved'), h('option', { value: '' }, 'All'))
  );
  const app = appSelect((path) => api('GET', path));
  const list = h('div');
  let offset = 0;
  /** The event whose form is open, by app and id: two apps may send the same event_id. @type {string | null} */
  let resolving = null;
  /** @param {any} r */
  const keyOf = (r) => `${r.source_app} ${r.event_id}`;

  const startLoad = latestOnly();
  const load = async () => {
    const isLatest = startLoad();
    const page = await api('GET', '/admin/error-logs', { query: { severity: severity.value, app: app.value, resolved: state.value, limit: PAGE, offset } });
    if (!isLatest()) return;
    const rows = /** @type {any[]} */ (page.error_logs);
    const columns = [
      { label: 'Time', value: (/** @type {any} */ r) => time(r.occurred_at) },
      { label: 'Severity', value: (/** @type {any} */ r) => badge(r.severity_level) },
      { label: 'Code', value: (/** @type {any} */ r) => h('span', { class: 'mono' }, r.error_code) },
      { label: 'Message', value: (/** @type {any} */ r) => r.error_message },
      { label: 'Request', value: (/** @type {any} */ r) => [r.operation_type ?? r.request_path ?? '', r.http_status_code ? ` → ${r.http_status_code}` : ''] },
      { label: 'Details', value: (/** @type {any} */ r) => (r.technical_details ? h('details', {}, h('summary', {}, 'show'), json(r.technical_details)) : '') },
      { label: 'Source', value: (/** @type {any} */ r) => sourceBadge(r.source_app) },
      {
        label: 'Status',
        value: (/** @type {any} */ r) =>
          r.is_resolved
            ? [badge('resolved', 'ok'), h('div', { class: 'notes' }, r.resolution_notes ?? '')]
            : viewer.can.resolveIncidents
              ? resolving === keyOf(r)
                ? resolveForm({
                    // The app too: this app's event is resolved, not another's with the same id.
                    submit: (notes) => api('POST', `/admin/error-logs/${r.event_id}/resolve`, { body: { resolution_notes: notes, source_app: r.source_app } }),
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
      table(columns, rows, { empty: 'No error logs match.', rowAttrs: (r) => ({ 'data-event-id': r.event_id, 'data-source-app': r.source_app }) }),
      pager({ offset, limit: PAGE, count: rows.length, hasMore: offset + rows.length < page.total, total: page.total }, (o) => {
        offset = o;
        void load();
      }),
    );
  };

  for (const select of [severity, state, app])
    select.addEventListener('change', () => {
      offset = 0;
      void load();
    });
  main.replaceChildren(h('h1', {}, 'Error logs'), h('div', { class: 'toolbar' }, field('Severity', severity), field('State', state), field('App', app)), list);
  await load();
}

// @ts-check
import { api, download } from '../api.js';
import { badge, errorBox, field, h, num, pager, replace, table, time } from '../dom.js';
import { appSelect } from '../source-app.js';
import { latestOnly } from '../latest-only.js';

const TYPES = [
  { value: 'daily_security_summary', label: 'Daily security summary' },
  { value: 'weekly_access_review', label: 'Weekly access review' },
  { value: 'monthly_compliance', label: 'Monthly compliance' },
];
const PAGE = 25;

/**
 * The apps a report covers, as its cover says.
 * @param {string[] | null} apps
 */
function scopeText(apps) {
  return apps ? apps.join(', ') : 'Every app';
}

/**
 * Compliance reports: list, download (JSON, CSV, PDF), verify on the server
 * (GET /v1/reports/{id}/verification), and generate for a period, of every
 * app or of one. A key restricted to apps sees and makes only reports of its
 * apps (the server holds it to that).
 * @param {HTMLElement} main
 * @param {{ viewer: { can: Record<string, boolean>, apps: string[] | null } }} ctx
 */
export async function reportsView(main, { viewer }) {
  const list = h('div', { id: 'reports' });
  const message = h('div', { id: 'reports-message' });
  // Reports whose scope names an app.
  const app = appSelect((path) => api('GET', path), { all: viewer.apps ? 'All my apps' : 'Any scope' });
  let offset = 0;
  /** @type {Map<string, HTMLElement>} */
  const verdicts = new Map();

  const startLoad = latestOnly();
  const load = async () => {
    const isLatest = startLoad();
    const { reports } = await api('GET', '/v1/reports', { query: { limit: PAGE + 1, offset, app: app.value } });
    if (!isLatest()) return;
    const rows = reports.slice(0, PAGE);
    list.replaceChildren(
      table(
        [
          { label: 'Id', value: (r) => r.id, num: true },
          { label: 'Type', value: (r) => TYPES.find((t) => t.value === r.report_type)?.label ?? r.report_type },
          { label: 'Period (UTC)', value: (r) => `${time(r.report_period_start)} → ${time(r.report_period_end)}` },
          { label: 'Records', value: (r) => num(r.total_records), num: true },
          // Scope after Records: the browser test reads Records by its position.
          { label: 'Scope', value: (r) => h('span', { class: 'scope' }, scopeText(r.scope_apps)) },
          { label: 'Generated', value: (r) => [time(r.created_at), h('div', { class: 'muted' }, r.generated_by)] },
          { label: 'Hash', value: (r) => h('span', { class: 'mono', title: r.report_hash }, `${String(r.report_hash).slice(0, 16)}…`) },
          {
            label: 'Download',
            value: (r) => ['json', 'csv', 'pdf'].map((format) => h('button', { type: 'button', class: `download-${format}`, onclick: () => void fetchFile(r.id, format) }, format.toUpperCase())),
          },
          { label: 'Verification', value: (r) => verdictCell(r.id) },
        ],
        rows,
        { empty: 'No report yet.', rowAttrs: (r) => ({ 'data-report-id': r.id, 'data-scope': scopeText(r.scope_apps) }) },
      ),
      pager({ offset, limit: PAGE, count: rows.length, hasMore: reports.length > PAGE }, (o) => {
        offset = o;
        void load();
      }),
    );
  };

  /** @param {string} id */
  const verdictCell = (id) => {
    const cell = verdicts.get(id) ?? h('div', { class: 'verdict' }, h('button', { type: 'button', class: 'verify', onclick: () => void verify(id) }, 'Verify'));
    verdicts.set(id, cell);
    return cell;
  };

  /** @param {string} id */
  const verify = async (id) => {
    const cell = verdictCell(id);
    replace(cell, h('span', { class: 'muted' }, 'Checking…'));
    try {
      const v = await api('GET', `/v1/reports/${id}/verification`);
      replace(
        cell,
        v.ok ? badge('signature valid', 'ok') : badge('FAILED', 'bad'),
        v.scope ? h('div', { class: 'muted' }, `scope (signed): ${scopeText(v.scope)}`) : null,
        h(
          'div',
          { class: 'muted' },
          `hash ${v.hash_matches ? 'matches' : 'differs'} · key ${v.key_id} ${v.key_matches ? '(this server)' : '(not this server)'} · ${v.chain.linked ? (v.chain.previous_report_id ? `chained after #${v.chain.previous_report_id}` : 'first of the chain') : 'chain broken'}`,
        ),
        v.problems.map((/** @type {string} */ p) => h('div', { class: 'error' }, p)),
      );
    } catch (error) {
      replace(cell, errorBox(error));
    }
  };

  /**
   * @param {string} id
   * @param {string} format
   */
  const fetchFile = async (id, format) => {
    try {
      const name = await download(`/v1/reports/${id}`, { format });
      replace(message, h('div', { class: 'notice' }, `Downloaded ${name}`));
    } catch (error) {
      replace(message, errorBox(error));
    }
  };

  replace(
    main,
    h('h1', {}, 'Compliance reports'),
    h(
      'p',
      { class: 'muted' },
      'Each report is signed (Ed25519) and chained to the one before it. Verify checks it here; to check a JSON download elsewhere, use the public key: ',
      h(
        'button',
        {
          type: 'button',
          id: 'public-key',
          onclick: () =>
            void download('/v1/reports/public-key')
              .then((n) => replace(message, h('div', { class: 'notice' }, `Downloaded ${n}`)))
              .catch((e) => replace(message, errorBox(e))),
        },
        'Download public key',
      ),
      ' and run npx auditflow report verify <file> --public-key <pem>.',
    ),
    viewer.can.manageReports ? generateForm(message, load, viewer) : null,
    h('div', { class: 'toolbar' }, field('App', app)),
    message,
    list,
  );
  app.addEventListener('change', () => {
    offset = 0;
    void load();
  });
  await load();
}

/**
 * Generate a report for a period now (POST /v1/reports), of every app or
 * scoped to one (`apps`); one per type, period and scope. A key restricted
 * to apps generates for all its apps by default.
 * @param {HTMLElement} message
 * @param {() => Promise<void>} reload
 * @param {{ apps: string[] | null }} viewer
 */
function generateForm(message, reload, viewer) {
  const today = new Date().toISOString().slice(0, 10);
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  const type = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { name: 'type' },
      TYPES.map((t) => h('option', { value: t.value }, t.label)),
    )
  );
  const start = /** @type {HTMLInputElement} */ (h('input', { type: 'date', name: 'period_start', value: yesterday, required: true }));
  const end = /** @type {HTMLInputElement} */ (h('input', { type: 'date', name: 'period_end', value: today, required: true }));
  const scope = appSelect((path) => api('GET', path), { name: 'scope', all: viewer.apps ? `All my apps (${viewer.apps.join(', ')})` : 'Every app' });
  return h(
    'form',
    {
      class: 'toolbar panel',
      id: 'generate-report',
      onsubmit: async (/** @type {Event} */ e) => {
        e.preventDefault();
        replace(message, h('div', { class: 'muted' }, 'Generating…'));
        try {
          const apps = scope.value ? [scope.value] : undefined;
          const r = await api('POST', '/v1/reports', { body: { type: type.value, period_start: `${start.value}T00:00:00Z`, period_end: `${end.value}T00:00:00Z`, apps } });
          const of = r.scope ? ` (apps ${r.scope.join(', ')})` : '';
          replace(message, h('div', { class: 'notice' }, r.created ? `Report #${r.id} generated${of}.` : `Report #${r.id} already covered that period${of}.`));
          await reload();
        } catch (error) {
          replace(message, errorBox(error));
        }
      },
    },
    field('Type', type),
    field('From (UTC day)', start),
    field('To (UTC day, exclusive)', end),
    field('Scope', scope),
    h('button', { type: 'submit', class: 'primary' }, 'Generate'),
  );
}

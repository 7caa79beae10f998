// @ts-check
import { api } from '../api.js';
import { KIND_COLORS, lineChart } from '../charts.js';
import { field, h, num, replace, table } from '../dom.js';
import { appSelect } from '../source-app.js';
import { latestOnly } from '../latest-only.js';

/**
 * @typedef {object} Overview  GET /v1/dashboard/overview
 * @property {string[]} hours
 * @property {Record<string, number[]>} events_by_kind
 * @property {{ name: string, waiting: number, active: number, delayed: number, prioritized: number, failed: number, lag_seconds: number | null }[] | null} queues  null for a viewer restricted to apps
 * @property {{ total: number, pending: number }} dead_letters
 */

const RANGES = [
  { hours: 24, label: 'Last 24 hours' },
  { hours: 168, label: 'Last 7 days' },
  { hours: 720, label: 'Last 30 days' },
];

/** Events per second, charts of events by kind over time, queue backlog and dead letters. */
/**
 * @param {HTMLElement} main
 * @param {{ viewer: { can: Record<string, boolean>, apps: string[] | null } }} ctx
 */
export async function overviewView(main, { viewer }) {
  const range = h(
    'select',
    { name: 'hours' },
    RANGES.map((r) => h('option', { value: String(r.hours) }, r.label)),
  );
  // A key restricted to apps is offered only its apps, and the server reads only theirs whatever is asked.
  const app = appSelect((path) => api('GET', path), { all: viewer.apps ? 'All my apps' : 'Every app' });
  const body = h('div');
  const startLoad = latestOnly();
  const load = async () => {
    const isLatest = startLoad();
    body.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
    /** @type {Overview} */
    const o = await api('GET', '/v1/dashboard/overview', { query: { hours: /** @type {HTMLSelectElement} */ (range).value, app: app?.value } });
    if (!isLatest()) return;
    render(body, o);
  };
  range.addEventListener('change', () => void load());
  app.addEventListener('change', () => void load());
  replace(
    main,
    h('h1', {}, 'Overview'),
    viewer.apps && h('p', { class: 'muted', id: 'viewer-apps' }, `This key reads the apps ${viewer.apps.join(', ')} only.`),
    h('div', { class: 'toolbar' }, field('Period', range), field('App', app), h('button', { type: 'button', onclick: () => void load() }, 'Refresh')),
    body,
  );
  await load();
}

/**
 * @param {HTMLElement} body
 * @param {Overview} o
 */
function render(body, o) {
  const times = o.hours.map((t) => Date.parse(t) / 1000);
  const kinds = Object.keys(o.events_by_kind);
  const totals = o.hours.map((_, i) => kinds.reduce((sum, k) => sum + (o.events_by_kind[k]?.[i] ?? 0), 0));
  // The current hour is not over: its rate is over the seconds gone so far.
  const seconds = o.hours.map((t, i) => (i === o.hours.length - 1 ? Math.max(1, Math.min(3600, (Date.now() - Date.parse(t)) / 1000)) : 3600));
  const perSecond = totals.map((n, i) => Math.round((n / (seconds[i] ?? 3600)) * 1000) / 1000);
  const ingest = o.queues?.find((q) => q.name === 'ingest');

  const cards = h(
    'div',
    { class: 'cards' },
    card('Events per second (this hour)', String(perSecond[perSecond.length - 1] ?? 0), 'eps-now'),
    card('Events in period', num(totals.reduce((a, b) => a + b, 0)), 'events-total'),
    // The queues carry every app's traffic: not shown to a viewer restricted to apps (queues: null).
    o.queues && card('Ingest queue waiting', num(ingest?.waiting ?? 0), 'queue-waiting'),
    o.queues && card('Ingest lag', ingest?.lag_seconds === null || ingest === undefined ? 'none' : `${ingest.lag_seconds} s`, 'queue-lag'),
    card('Dead letters pending', num(o.dead_letters.pending), 'dead-letters'),
  );

  const epsChart = h('div', { class: 'chart panel', id: 'chart-eps' });
  const kindChart = h('div', { class: 'chart panel', id: 'chart-kinds' });
  const queues =
    o.queues &&
    table(
      [
        { label: 'Queue', value: (q) => q.name },
        { label: 'Waiting', value: (q) => num(q.waiting), num: true },
        { label: 'Active', value: (q) => num(q.active), num: true },
        { label: 'Delayed', value: (q) => num(q.delayed), num: true },
        { label: 'Failed (dead-lettered)', value: (q) => num(q.failed), num: true },
        { label: 'Lag (oldest waiting)', value: (q) => (q.lag_seconds === null ? '—' : `${q.lag_seconds} s`), num: true },
      ],
      o.queues,
    );
  if (queues) queues.id = 'queues';
  const byKind = table(
    [
      { label: 'Kind', value: (k) => k },
      { label: 'Events', value: (k) => num((o.events_by_kind[k] ?? []).reduce((a, b) => a + b, 0)), num: true },
    ],
    kinds,
  );
  byKind.id = 'kind-totals';
  const deadLetters = h('p', { class: 'muted' }, `Dead letters: ${num(o.dead_letters.pending)} pending of ${num(o.dead_letters.total)} (replay with npx auditflow dlq replay).`);
  body.replaceChildren(
    cards,
    epsChart,
    kindChart,
    h('div', { class: 'grid2' }, h('div', {}, queues ? [h('h2', {}, 'Queues'), queues] : h('h2', {}, 'Dead letters'), deadLetters), h('div', {}, h('h2', {}, 'Events by kind in the period'), byKind)),
  );
  lineChart(epsChart, { title: 'Events per second (hourly average)', times, series: [{ label: 'events/s', values: perSecond, color: '#2f6fde' }], yLabel: 'events/s' });
  lineChart(kindChart, {
    title: 'Events per hour by kind',
    times,
    series: kinds.map((k) => ({ label: k, values: o.events_by_kind[k] ?? [], color: /** @type {Record<string, string>} */ (KIND_COLORS)[k] ?? '#999' })),
    yLabel: 'events/hour',
  });
}

/**
 * @param {string} label
 * @param {string} value
 * @param {string} id
 */
function card(label, value, id) {
  return h('div', { class: 'card', id }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
}

// @ts-check
import { api } from '../api.js';
import { appSelect, sourceBadge } from '../source-app.js';
import { badge, errorBox, field, h, ip, json, replace, table, time } from '../dom.js';
import { latestOnly } from '../latest-only.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const KINDS = ['audit', 'auth', 'security', 'failed_login', 'error', 'api_access', 'rate_limit', 'session'];
const PAGE = 50;

/**
 * Find a user (GET /admin/users) and read every event about them, in order
 * (GET /v1/dashboard/users/{id}/timeline), with audit values before and after.
 * The user id is in the URL (#/timeline?user=…), so a timeline can be linked.
 * @param {HTMLElement} main
 * @param {{ params: URLSearchParams }} ctx
 */
export async function timelineView(main, { params }) {
  const q = /** @type {HTMLInputElement} */ (h('input', { type: 'search', name: 'q', placeholder: 'email or name', value: params.get('q') ?? '' }));
  const results = h('div', { id: 'user-results' });
  const timeline = h('div', { id: 'timeline' });

  const search = async () => {
    const text = q.value.trim();
    if (!text) return;
    const found = await api('GET', '/admin/users', { query: { q: text, limit: 10 } });
    replace(
      results,
      table(
        [
          { label: 'Email', value: (u) => u.email },
          { label: 'Name', value: (u) => [u.first_name ?? '', ' ', u.last_name ?? ''] },
          { label: 'Status', value: (u) => u.status },
          { label: 'Id', value: (u) => h('span', { class: 'mono' }, u.id) },
          { label: '', value: (u) => h('a', { href: `#/timeline?user=${encodeURIComponent(u.id)}`, class: 'open-timeline' }, 'Timeline') },
        ],
        found.users,
        { empty: 'No user matches. Events from other apps may use their own user ids: open one below.' },
      ),
      h('p', {}, h('a', { href: `#/timeline?user=${encodeURIComponent(text)}` }, `Open the timeline of user id "${text}" as typed`)),
    );
  };

  main.replaceChildren(
    h('h1', {}, 'User timeline'),
    h(
      'form',
      {
        class: 'toolbar',
        id: 'user-search',
        onsubmit: (/** @type {Event} */ e) => {
          e.preventDefault();
          search().catch((err) => replace(results, errorBox(err)));
        },
      },
      field('Find a user', q),
      h('button', { type: 'submit', class: 'primary' }, 'Search'),
    ),
    results,
    timeline,
  );
  const userId = params.get('user');
  if (userId) await showTimeline(timeline, userId);
}

/**
 * @param {HTMLElement} into
 * @param {string} userId
 */
async function showTimeline(into, userId) {
  const kindBoxes = KINDS.map((k) => /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', name: 'kind', value: k, checked: true })));
  const order = /** @type {HTMLSelectElement} */ (h('select', { name: 'order' }, h('option', { value: 'desc' }, 'Newest first'), h('option', { value: 'asc' }, 'Oldest first')));
  const app = appSelect((path) => api('GET', path));
  const rows = h('tbody');
  const more = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', id: 'timeline-more' }, 'Load more'));
  const header = h('div', {}, h('h2', {}, 'Events about ', h('span', { class: 'mono' }, userId)));
  const message = h('div');
  /** @type {string | null} */
  let cursor = null;

  // Who it is, when the id is one of this API's users (an audited READ, as any look at an account).
  // This API's user ids are UUIDs; other apps' (u-42, 7) are not asked about, so the look-up makes no 400 of its own in Error logs.
  const otherApps = () => header.append(h('p', { class: 'muted', id: 'timeline-other-apps' }, 'Not a user of this API: events sent by other apps.'));
  if (UUID.test(userId)) {
    api('GET', `/admin/users/${encodeURIComponent(userId)}`)
      .then((u) => header.append(h('p', { class: 'muted', id: 'timeline-user' }, `${u.email} · status ${u.status} · role ${u.role}`)))
      .catch(otherApps);
  } else otherApps();

  const startLoad = latestOnly();
  const load = async () => {
    const isLatest = startLoad();
    const kinds = kindBoxes.filter((b) => b.checked).map((b) => b.value);
    if (kinds.length === 0) return;
    const page = await api('GET', `/v1/dashboard/users/${encodeURIComponent(userId)}/timeline`, { query: { kinds: kinds.join(','), order: order.value, app: app.value, limit: PAGE, cursor } });
    if (!isLatest()) return;
    for (const e of page.events) rows.append(eventRow(e));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    if (rows.childElementCount === 0) rows.append(h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'No events about this user.')));
  };
  const restart = () => {
    cursor = null;
    rows.replaceChildren();
    load().catch((err) => replace(message, errorBox(err)));
  };
  for (const input of [...kindBoxes, order, app]) input.addEventListener('change', restart);
  more.addEventListener('click', () => void load().catch((err) => replace(message, errorBox(err))));

  const head = h(
    'thead',
    {},
    h(
      'tr',
      {},
      ['Time', 'Source', 'Kind', 'Type', 'Outcome', 'What', 'By', 'Before', 'After / details'].map((l) => h('th', {}, l)),
    ),
  );
  replace(
    into,
    header,
    h(
      'div',
      { class: 'toolbar' },
      h(
        'div',
        { class: 'kinds' },
        kindBoxes.map((b) => h('label', {}, b, b.value)),
      ),
      field('Order', order),
      field('App', app),
    ),
    message,
    h('table', { id: 'timeline-table' }, head, rows),
    h('div', { class: 'pager' }, more),
  );
  await load();
}

/** @param {any} e  a TimelineEvent */
function eventRow(e) {
  return h(
    'tr',
    { 'data-kind': e.kind, 'data-event-id': e.event_id },
    h('td', {}, time(e.occurred_at)),
    h('td', { class: 'source' }, sourceBadge(e.source_app)),
    h('td', {}, badge(e.kind, 'plain')),
    h('td', {}, e.event_type),
    h('td', {}, e.outcome ?? ''),
    h('td', {}, e.summary ?? '', e.reason ? h('div', { class: 'muted' }, e.reason) : null, e.ip_address ? h('div', { class: 'muted' }, ip(e.ip_address)) : null),
    h('td', {}, e.actor ?? ''),
    h('td', { class: 'before' }, json(e.previous_value)),
    h('td', { class: 'after' }, json(e.new_value), e.details && e.details !== 'null' ? h('details', {}, h('summary', {}, 'details'), json(e.details)) : null),
  );
}

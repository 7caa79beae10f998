// @ts-check
// Every page is built with these helpers: text goes in as text nodes and
// attributes through setAttribute, never as HTML. Event fields come from
// whoever sent the event, so this is what keeps them inert (the CSP's
// Trusted Types would also stop any innerHTML).

/** @typedef {Node | string | number | null | undefined | false} Child */

/**
 * An element with attributes, listeners (`onclick`…) and children.
 * @param {string} tag
 * @param {Record<string, any>} [props]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = String(value);
    else if (key === 'value' || key === 'checked' || key === 'disabled') /** @type {any} */ (el)[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/**
 * @param {Element} el
 * @param {(Child | Child[])[]} children
 */
export function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * Replaces an element's content.
 * @param {Element} el
 * @param {...(Child | Child[])} children
 */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/**
 * @typedef {object} Column
 * @property {string} label
 * @property {(row: any) => Child | Child[]} value
 * @property {boolean} [num] right-aligned figures
 */

/**
 * A table of rows; `columns` decides what each shows, so a page adds a column with one entry.
 * @param {Column[]} columns
 * @param {any[]} rows
 * @param {{ empty?: string, rowAttrs?: (row: any) => Record<string, any> }} [options]
 */
export function table(columns, rows, options = {}) {
  const head = h(
    'thead',
    {},
    h(
      'tr',
      {},
      columns.map((c) => h('th', { class: c.num ? 'num' : null }, c.label)),
    ),
  );
  const body = h('tbody');
  if (rows.length === 0) body.append(h('tr', {}, h('td', { colspan: columns.length, class: 'muted' }, options.empty ?? 'Nothing to show.')));
  for (const row of rows) {
    body.append(
      h(
        'tr',
        options.rowAttrs?.(row) ?? {},
        columns.map((c) => h('td', { class: c.num ? 'num' : null }, c.value(row))),
      ),
    );
  }
  return h('table', {}, head, body);
}

/**
 * Previous/next buttons for offset pages.
 * @param {{ offset: number, limit: number, count: number, hasMore: boolean, total?: number }} page
 * @param {(offset: number) => void} go
 */
export function pager(page, go) {
  const first = page.count ? page.offset + 1 : 0;
  const last = page.offset + page.count;
  return h(
    'div',
    { class: 'pager' },
    h('button', { type: 'button', disabled: page.offset === 0, onclick: () => go(Math.max(0, page.offset - page.limit)) }, '← Previous'),
    h('span', {}, `${first}–${last}${page.total === undefined ? '' : ` of ${page.total}`}`),
    h('button', { type: 'button', disabled: !page.hasMore, onclick: () => go(page.offset + page.limit) }, 'Next →'),
  );
}

/** @param {unknown} error */
export function errorBox(error) {
  return h('div', { class: 'error', role: 'alert' }, error instanceof Error ? error.message : String(error));
}

const TIME_ZONE_KEY = 'auditflow.timeZone';

/** 'utc' (the default: what the API and reports use) or 'local', as the header's switch last set it. */
export function timeZone() {
  try {
    return localStorage.getItem(TIME_ZONE_KEY) === 'local' ? 'local' : 'utc';
  } catch {
    return 'utc';
  }
}

/** @param {'utc' | 'local'} zone */
export function setTimeZone(zone) {
  try {
    localStorage.setItem(TIME_ZONE_KEY, zone);
  } catch {
    /* storage refused: the choice lasts until the page reloads… or not at all */
  }
}

/** @param {number} n */
const pad = (n) => String(n).padStart(2, '0');

/**
 * @param {string | null | undefined} iso  A time as `2025-06-21 14:12:05 UTC`, or in the
 * browser's zone with its offset (`2025-06-21 16:12:05 UTC+02:00`) when the switch says local.
 */
export function time(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  if (timeZone() === 'utc') return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
  const offset = -d.getTimezoneOffset();
  const zone = `UTC${offset < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${zone}`;
}

/**
 * An IP address that never wraps mid-address.
 * @param {string | null | undefined} address
 * @param {string} [none]  shown when there is none
 */
export function ip(address, none = '') {
  return address ? h('span', { class: 'ip' }, address) : none;
}

/** @param {number | null | undefined} n */
export function num(n) {
  return n === null || n === undefined ? '' : Number(n).toLocaleString('en-US');
}

/**
 * A badge whose class is its value (severity colours); unknown values get the plain style.
 * @param {string | null | undefined} text
 * @param {string} [tone]
 */
export function badge(text, tone) {
  return text ? h('span', { class: `badge ${tone ?? String(text).replace(/[^A-Za-z_-]/g, '')}` }, text) : '';
}

/**
 * JSON text (as the API sends values) shown indented, as text.
 * @param {string | object | null | undefined} value
 */
export function json(value) {
  if (value === null || value === undefined || value === 'null') return '';
  let text = typeof value === 'string' ? value : JSON.stringify(value);
  try {
    text = JSON.stringify(typeof value === 'string' ? JSON.parse(value) : value, null, 2);
  } catch {
    /* not JSON: show as sent */
  }
  return h('pre', { class: 'json' }, text);
}

/**
 * A labelled form field.
 * @param {string} label
 * @param {HTMLElement} input
 */
export function field(label, input) {
  return h('label', {}, label, input);
}

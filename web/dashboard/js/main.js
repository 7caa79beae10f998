// @ts-check
import { api, whenSignedOut } from './api.js';
import { errorBox, h, replace, setTimeZone, timeZone } from './dom.js';
import { credential, forget } from './session.js';
import { errorLogsView } from './views/error-logs.js';
import { failedLoginsView } from './views/failed-logins.js';
import { integrityView } from './views/integrity.js';
import { loginView } from './views/login.js';
import { overviewView } from './views/overview.js';
import { reportsView } from './views/reports.js';
import { securityEventsView } from './views/security-events.js';
import { timelineView } from './views/timeline.js';

/**
 * @typedef {object} Viewer  GET /v1/dashboard/me
 * @property {{ type: 'admin', id: string, email: string, admin_level: number } | { type: 'api_key', id: string, name: string }} principal
 * @property {Record<string, boolean>} can  each action of admin-levels.ts
 * @property {string[] | null} apps  the apps a key restricted to apps reads; null: every app
 */

/**
 * @typedef {object} Page
 * @property {string} path
 * @property {string} title
 * @property {string} needs  the action of admin-levels.ts that opens it
 * @property {boolean} [everyApp]  it reads every app's data at once (integrity covers the shared chains): not for a viewer restricted to apps
 * @property {(main: HTMLElement, ctx: { viewer: Viewer, params: URLSearchParams }) => Promise<void> | void} render
 */

/** @type {Page[]} */
const PAGES = [
  { path: 'overview', title: 'Overview', needs: 'readReports', render: overviewView },
  { path: 'security', title: 'Security events', needs: 'readIncidents', render: securityEventsView },
  { path: 'failed-logins', title: 'Failed logins & lockouts', needs: 'readIncidents', render: failedLoginsView },
  { path: 'timeline', title: 'User timeline', needs: 'readUsers', render: timelineView },
  { path: 'reports', title: 'Compliance reports', needs: 'readReports', render: reportsView },
  { path: 'integrity', title: 'Integrity', needs: 'readReports', everyApp: true, render: integrityView },
  { path: 'errors', title: 'Error logs', needs: 'readIncidents', render: errorLogsView },
];

const main = /** @type {HTMLElement} */ (document.getElementById('view'));
const nav = /** @type {HTMLElement} */ (document.getElementById('nav'));
const who = /** @type {HTMLElement} */ (document.getElementById('who'));
const logout = /** @type {HTMLButtonElement} */ (document.getElementById('logout'));
const zone = /** @type {HTMLSelectElement} */ (document.getElementById('time-zone'));

/** @type {Viewer | null} */
let viewer = null;

/** `#/timeline?user=…` → the page and its parameters. */
function location_() {
  const [path = '', query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  return { path, params: new URLSearchParams(query) };
}

function signedOut() {
  viewer = null;
  nav.replaceChildren();
  who.textContent = '';
  logout.hidden = true;
  replace(main, loginView(signedIn));
}

async function signedIn() {
  viewer = await api('GET', '/v1/dashboard/me');
  const v = /** @type {Viewer} */ (viewer);
  who.textContent = v.principal.type === 'admin' ? `${v.principal.email} (admin level ${v.principal.admin_level})` : `API key ${v.principal.name}${v.apps ? ` (apps: ${v.apps.join(', ')})` : ''}`;
  logout.hidden = false;
  const first = PAGES.find((p) => opens(v, p));
  if (!location_().path || location_().path === 'login') location.hash = `#/${first?.path ?? 'overview'}`;
  else await route();
}

/**
 * Whether the viewer may open a page (the server checks it again).
 * @param {Viewer} v
 * @param {Page} page
 */
function opens(v, page) {
  return v.can[page.needs] === true && !(page.everyApp && v.apps);
}

async function route() {
  if (!viewer) return;
  const v = viewer;
  const { path, params } = location_();
  const allowed = PAGES.filter((p) => opens(v, p));
  nav.replaceChildren(...allowed.map((p) => h('a', { href: `#/${p.path}`, class: p.path === path ? 'active' : null }, p.title)));
  const page = allowed.find((p) => p.path === path);
  if (!page) {
    replace(main, h('h1', {}, 'Not available'), h('p', { class: 'muted' }, 'This page does not exist, or your login may not open it.'));
    return;
  }
  document.title = `${page.title} · auditflow`;
  main.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  try {
    await page.render(main, { viewer: v, params });
  } catch (error) {
    replace(main, h('h1', {}, page.title), errorBox(error));
  }
}

logout.addEventListener('click', async () => {
  // An administrator session is ended on the server; an API key stays valid, it is only forgotten here.
  if (credential()?.kind === 'admin') await api('POST', '/auth/logout').catch(() => undefined);
  forget();
  location.hash = '#/login';
  signedOut();
});

// Every time on every page goes through dom.js time(); the page is drawn again in the chosen zone.
zone.value = timeZone();
zone.addEventListener('change', () => {
  setTimeZone(zone.value === 'local' ? 'local' : 'utc');
  void route();
});

whenSignedOut(signedOut);
window.addEventListener('hashchange', () => void route());

if (credential()) signedIn().catch(signedOut);
else signedOut();

// @ts-check
import { badge, h } from './dom.js';

/** source_app of the events auditflow's own API records (src/domain/own-source-app.ts). */
export const OWN_SOURCE_APP = 'auditflow';

/**
 * The app an event came from: auditflow's own events are marked as such, so
 * another app's event about the same user id is never mistaken for one.
 * @param {string} sourceApp
 */
export function sourceBadge(sourceApp) {
  return sourceApp === OWN_SOURCE_APP ? badge('auditflow', 'ok') : badge(`app: ${sourceApp}`, 'plain');
}

/**
 * A select of source apps ("Every app" first), filled from GET /v1/dashboard/apps;
 * its value goes to the list endpoints as their `app` parameter. For a
 * viewer restricted to apps the server lists only those, and the first
 * choice reads all of them.
 * @param {(path: string) => Promise<any>} get
 * @param {{ name?: string, all?: string }} [options]  the select's name (default `app`) and the label of the first choice
 * @returns {HTMLSelectElement}
 */
export function appSelect(get, options = {}) {
  const select = /** @type {HTMLSelectElement} */ (h('select', { name: options.name ?? 'app' }, h('option', { value: '' }, options.all ?? 'Every app')));
  void get('/v1/dashboard/apps')
    .then((result) => select.append(...result.apps.map((/** @type {string} */ a) => h('option', { value: a }, a))))
    .catch(() => undefined);
  return select;
}

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
 * its value goes to the list endpoints as their `app` parameter.
 * @param {(path: string) => Promise<any>} get
 * @returns {HTMLSelectElement}
 */
export function appSelect(get) {
  const select = /** @type {HTMLSelectElement} */ (h('select', { name: 'app' }, h('option', { value: '' }, 'Every app')));
  void get('/v1/dashboard/apps')
    .then((result) => select.append(...result.apps.map((/** @type {string} */ a) => h('option', { value: a }, a))))
    .catch(() => undefined);
  return select;
}

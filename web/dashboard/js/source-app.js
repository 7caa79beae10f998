// @ts-check
import { badge } from './dom.js';

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

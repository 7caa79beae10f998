// @ts-check
import { api } from '../api.js';
import { badge, errorBox, field, h, num, replace, table } from '../dom.js';

/** The last result, shown again when the page is reopened (a run reads every sealed row). @type {any} */
let last = null;

/**
 * Integrity verification (GET /v1/integrity/verify): every hash chain
 * recomputed from ClickHouse and checked against the signed seals.
 * @param {HTMLElement} main
 */
export async function integrityView(main) {
  const from = /** @type {HTMLInputElement} */ (h('input', { type: 'date', name: 'from' }));
  const to = /** @type {HTMLInputElement} */ (h('input', { type: 'date', name: 'to' }));
  const result = h('div', { id: 'integrity-result' });
  const run = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'primary', id: 'run-integrity' }, 'Run verification'));

  main.replaceChildren(
    h('h1', {}, 'Integrity'),
    h('p', { class: 'muted' }, 'Recomputes every table’s hash chain from ClickHouse and checks it against the Ed25519-signed seals. It reads every sealed row in the period, so it can take a while on large tables.'),
    h(
      'form',
      {
        class: 'toolbar',
        onsubmit: async (/** @type {Event} */ e) => {
          e.preventDefault();
          run.disabled = true;
          replace(result, h('p', { class: 'muted' }, 'Verifying…'));
          try {
            last = await api('GET', '/v1/integrity/verify', { query: { from: from.value ? `${from.value}T00:00:00Z` : undefined, to: to.value ? `${to.value}T00:00:00Z` : undefined } });
            show(result, last);
          } catch (error) {
            replace(result, errorBox(error));
          } finally {
            run.disabled = false;
          }
        },
      },
      field('Seals from (UTC day, optional)', from),
      field('Seals before (optional)', to),
      run,
    ),
    result,
  );
  if (last) show(result, last);
  else replace(result, h('p', { class: 'muted' }, 'Not run yet in this session.'));
}

/**
 * @param {HTMLElement} into
 * @param {any} r  a VerificationResult
 */
function show(into, r) {
  replace(
    into,
    h('div', { class: r.ok ? 'notice' : 'error', id: 'integrity-verdict' }, r.ok ? `Verified: ${num(r.rows)} rows in ${r.seconds} s (${num(r.rows_per_second)} rows/s). Every chain holds.` : `FAILED: a chain is broken (${num(r.rows)} rows checked).`),
    table(
      [
        { label: 'Table', value: (t) => t.table },
        { label: 'Seals', value: (t) => num(t.seals), num: true },
        { label: 'Rows', value: (t) => num(t.rows), num: true },
        { label: 'State', value: (t) => (t.ok ? badge('ok', 'ok') : badge('broken', 'bad')) },
        { label: 'First break', value: (t) => (t.first_break ? `${t.first_break.kind} at seal ${t.first_break.seal_seq ?? '-'}${t.first_break.event_id ? `, event ${t.first_break.event_id}` : ''}: ${t.first_break.detail}` : '') },
      ],
      r.tables,
    ),
  );
}

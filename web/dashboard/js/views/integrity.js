// @ts-check
import { api } from '../api.js';
import { append, badge, errorBox, field, h, num, replace, table, time } from '../dom.js';

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
  const lastRun = h('section', { id: 'integrity-last-run' }, h('p', { class: 'muted' }, 'Loading the last recorded run…'));
  const run = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'primary', id: 'run-integrity' }, 'Run verification'));

  main.replaceChildren(
    h('h1', {}, 'Integrity'),
    h(
      'p',
      { class: 'muted' },
      'Recomputes every table’s hash chain from ClickHouse and checks it against the Ed25519-signed seals. It reads every sealed row in the period, so it can take a while on large tables.',
    ),
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
            void showLastRun(lastRun);
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
    h('h2', {}, 'Last recorded run'),
    lastRun,
  );
  if (last) show(result, last);
  void showLastRun(lastRun);
}

/**
 * The latest stored run (GET /v1/integrity/runs): the nightly scheduled one,
 * or one asked for through the API or the CLI.
 * @param {HTMLElement} into
 */
async function showLastRun(into) {
  try {
    const { runs } = await api('GET', '/v1/integrity/runs', { query: { limit: 1 } });
    const run = runs[0];
    if (!run) {
      replace(into, h('p', { class: 'muted' }, 'No verification has run yet. One runs every night at 02:30 UTC; “Run verification” above runs one now.'));
      return;
    }
    replace(
      into,
      h(
        'p',
        { class: run.ok ? 'notice' : 'error', id: 'integrity-last-verdict' },
        `${run.ok ? 'OK' : 'FAILED'}: run ${run.id} (${run.trigger}) finished ${time(run.finished_at)}, ${num(run.rows_verified)} rows checked.`,
      ),
    );
    show(into, { ok: run.ok, rows: run.rows_verified, seconds: Math.round((Date.parse(run.finished_at) - Date.parse(run.started_at)) / 10) / 100, rows_per_second: 0, tables: run.tables }, true);
  } catch (error) {
    replace(into, errorBox(error));
  }
}

/**
 * @param {HTMLElement} into
 * @param {any} r  a VerificationResult
 * @param {boolean} [keep]  add the table below what `into` already shows
 */
function show(into, r, keep = false) {
  const verdict = h(
    'div',
    { class: r.ok ? 'notice' : 'error', id: 'integrity-verdict' },
    r.ok ? `Verified: ${num(r.rows)} rows in ${r.seconds} s (${num(r.rows_per_second)} rows/s). Every chain holds.` : `FAILED: a chain is broken (${num(r.rows)} rows checked).`,
  );
  const tables = table(
    [
      { label: 'Table', value: (t) => t.table },
      { label: 'Seals', value: (t) => num(t.seals), num: true },
      { label: 'Rows', value: (t) => num(t.rows), num: true },
      { label: 'State', value: (t) => (t.ok ? badge('ok', 'ok') : badge('broken', 'bad')) },
      {
        label: 'First break',
        value: (t) =>
          t.first_break ? `${t.first_break.kind} at seal ${t.first_break.seal_seq ?? '-'}${t.first_break.event_id ? `, event ${t.first_break.event_id}` : ''}: ${t.first_break.detail}` : '',
      },
    ],
    r.tables,
  );
  if (keep) append(into, [tables]);
  else replace(into, verdict, tables);
}

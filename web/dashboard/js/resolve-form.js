// @ts-check
import { errorBox, field, h, replace } from './dom.js';

/**
 * An inline form for resolving an incident with notes. `submit` sends them;
 * on success `done` redraws the list.
 * @param {{ withFalsePositive?: boolean, submit: (notes: string, falsePositive: boolean) => Promise<unknown>, done: () => Promise<void> | void }} options
 */
export function resolveForm(options) {
  const notes = /** @type {HTMLTextAreaElement} */ (h('textarea', { name: 'notes', required: true, maxlength: 8000, placeholder: 'What was found, what was done' }));
  const falsePositive = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', name: 'false_positive' }));
  const message = h('div');
  const form = h(
    'form',
    {
      class: 'resolve-form',
      onsubmit: async (/** @type {Event} */ e) => {
        e.preventDefault();
        const button = form.querySelector('button[type=submit]');
        if (button) /** @type {HTMLButtonElement} */ (button).disabled = true;
        try {
          await options.submit(notes.value, falsePositive.checked);
          await options.done();
        } catch (error) {
          replace(message, errorBox(error));
          if (button) /** @type {HTMLButtonElement} */ (button).disabled = false;
        }
      },
    },
    field('Resolution notes', notes),
    options.withFalsePositive ? h('label', { class: 'inline' }, h('span', {}, 'False positive'), falsePositive) : null,
    h('button', { type: 'submit', class: 'primary' }, 'Save resolution'),
    message,
  );
  return form;
}

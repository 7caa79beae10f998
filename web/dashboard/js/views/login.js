// @ts-check
import { api } from '../api.js';
import { errorBox, field, h, replace } from '../dom.js';
import { forget, keep } from '../session.js';

/**
 * Administrators log in with email and password (POST /admin/login);
 * compliance officers paste an API key with the `reports` scope.
 * @param {() => Promise<void>} onSignedIn
 */
export function loginView(onSignedIn) {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const key = h('input', { type: 'password', name: 'api_key', autocomplete: 'off', placeholder: 'af_…', required: true });
  const adminMessage = h('div');
  const keyMessage = h('div');

  /**
   * @param {Event} event
   * @param {HTMLElement} message
   * @param {() => Promise<void>} attempt
   */
  const submit = async (event, message, attempt) => {
    event.preventDefault();
    const button = /** @type {HTMLFormElement} */ (event.target).querySelector('button');
    if (button) button.disabled = true;
    message.replaceChildren();
    try {
      await attempt();
      await onSignedIn();
    } catch (error) {
      forget();
      replace(message, errorBox(error));
    } finally {
      if (button) button.disabled = false;
    }
  };

  const adminForm = h(
    'form',
    {
      class: 'form panel',
      id: 'admin-login',
      onsubmit: (/** @type {Event} */ e) =>
        submit(e, adminMessage, async () => {
          const session = await api('POST', '/admin/login', { body: { email: /** @type {HTMLInputElement} */ (email).value, password: /** @type {HTMLInputElement} */ (password).value }, token: '' });
          keep({ token: session.token, kind: 'admin' });
        }),
    },
    h('h2', {}, 'Administrator'),
    field('Email', email),
    field('Password', password),
    h('button', { type: 'submit', class: 'primary' }, 'Log in'),
    adminMessage,
  );

  const keyForm = h(
    'form',
    {
      class: 'form panel',
      id: 'key-login',
      onsubmit: (/** @type {Event} */ e) =>
        submit(e, keyMessage, async () => {
          const token = /** @type {HTMLInputElement} */ (key).value.trim();
          // Checked before it is kept: a key without the reports scope is refused here.
          await api('GET', '/v1/dashboard/me', { token });
          keep({ token, kind: 'api_key' });
        }),
    },
    h('h2', {}, 'Compliance officer'),
    h('p', { class: 'muted' }, 'Paste an API key with the reports scope (npx auditflow apikey create --scopes reports).'),
    field('API key', key),
    h('button', { type: 'submit', class: 'primary' }, 'Use key'),
    keyMessage,
  );

  return h('div', {}, h('h1', {}, 'Log in to the auditflow dashboard'), h('div', { class: 'login' }, adminForm, keyForm));
}

// @ts-check
// The credential lives in sessionStorage: it ends with the tab, is sent as
// an Authorization header (never a cookie, so there is nothing to forge
// cross-site), and is never put in a URL.

const KEY = 'auditflow.dashboard.credential';

/** @typedef {{ token: string, kind: 'admin' | 'api_key' }} Credential */

/** @returns {Credential | null} */
export function credential() {
  try {
    const raw = sessionStorage.getItem(KEY);
    const parsed = raw ? JSON.parse(raw) : null;
    return parsed && typeof parsed.token === 'string' ? parsed : null;
  } catch {
    return null;
  }
}

/** @param {Credential} value */
export function keep(value) {
  sessionStorage.setItem(KEY, JSON.stringify(value));
}

export function forget() {
  sessionStorage.removeItem(KEY);
}

// @ts-check
import { credential, forget } from './session.js';

/** An error answer of the API: its status, code and the message it says is safe to show. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** @type {() => void} */
let onSignedOut = () => {};

/** What to do when the server says the credential is no longer good (the router shows the login). @param {() => void} fn */
export function whenSignedOut(fn) {
  onSignedOut = fn;
}

/**
 * Calls the JSON API with the stored credential.
 * @param {string} method
 * @param {string} path
 * @param {{ query?: Record<string, string | number | boolean | null | undefined>, body?: unknown, raw?: boolean, token?: string }} [options]
 * @returns {Promise<any>}
 */
export async function api(method, path, options = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  /** @type {Record<string, string>} */
  const headers = {};
  const token = options.token ?? credential()?.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  if (!res.ok) {
    let code = `HTTP_${res.status}`;
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = await res.json();
      code = body.error?.code ?? code;
      message = body.error?.message ?? message;
    } catch {
      /* not JSON */
    }
    // Only for the stored credential: a login attempt's own 401 is its answer.
    if (res.status === 401 && options.token === undefined) {
      forget();
      onSignedOut();
    }
    throw new ApiError(res.status, code, message);
  }
  if (options.raw) return res;
  return res.status === 204 ? null : res.json();
}

/**
 * Downloads a file the API serves as an attachment (the Authorization header rules out a plain link).
 * @param {string} path
 * @param {Record<string, string>} [query]
 */
export async function download(path, query) {
  /** @type {Response} */
  const res = await api('GET', path, { query, raw: true });
  const name = /filename="?([^";]+)"?/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'download';
  const href = URL.createObjectURL(await res.blob());
  const link = document.createElement('a');
  link.href = href;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
  return name;
}

import fs from 'node:fs';
import path from 'node:path';
import type { TestNamespace } from './test-env';
import { eventually } from './test-env';

/**
 * A response, its body parsed as JSON (else left as text). `T` is the body the
 * test expects: nothing here checks it, the test's own assertions do.
 */
export interface JsonResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** The body of a refused request (the API's error handler). */
export interface ErrorBody {
  error: { code: string; error_code?: string; message: string; details?: unknown };
}

/** A 400 VALIDATION_FAILED: each refused field, by path. */
export interface ValidationErrorBody {
  error: ErrorBody['error'] & { details: { path: string; message: string }[] };
}

/** What a login or an account restore answers: a session token, or a refusal; a 401 STEP_UP_REQUIRED names the challenge that the mailed code confirms. */
export interface LoginAnswer {
  token?: string;
  error?: ErrorBody['error'] & { details: { challenge: string; method: string; expires_in_seconds: number } };
}

/** The `error` of a refused request's body; throws (failing the test) when the body holds none. */
export function errorOf(res: { status: number; body: unknown }): ErrorBody['error'] {
  const body = res.body;
  if (typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'object' && body.error !== null) return body.error as ErrorBody['error'];
  throw new Error(`no error in the body of a ${res.status}: ${JSON.stringify(body)}`);
}

/** A JSON request to the API, with an optional bearer token. */
export async function api<T = unknown>(base: string, method: string, route: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${base}${route}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: response.status, headers: response.headers, body: body as T };
}

/** The newest mail sent to `to` (the embedded default writes mails under $DATA_DIR/mail). */
export async function lastMailTo(ns: TestNamespace, to: string, subject?: RegExp): Promise<string> {
  const dir = path.join(ns.dataDir, 'mail');
  return eventually(async () => {
    if (!fs.existsSync(dir)) return null;
    const safe = to.replace(/[^A-Za-z0-9@._-]/g, '_');
    const files = fs
      .readdirSync(dir)
      .filter((f) => f.includes(`-${safe}-`))
      .sort();
    for (const file of files.reverse()) {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      if (!subject || subject.test(decodeMailHeader(text))) return text;
    }
    return null;
  }, 5000);
}

function decodeMailHeader(mail: string): string {
  return mail.split('\n\n')[0] ?? '';
}

/** The one-time token in a mail's link (`…#token=<token>`). */
export function tokenFromMail(mail: string): string {
  const unfolded = mail.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
  const match = /token=([A-Za-z0-9_-]{20,})/.exec(unfolded);
  if (!match) throw new Error(`no token in mail:\n${mail}`);
  return match[1]!;
}

/** Registers, verifies through the mailed link, and logs in; returns the session token. */
export async function signUp(base: string, ns: TestNamespace, email: string, password = 'correct horse battery staple'): Promise<{ token: string; userId: string }> {
  const registered = await api(base, 'POST', '/auth/register', { body: { email, password } });
  if (registered.status !== 201) throw new Error(`register: ${registered.status} ${JSON.stringify(registered.body)}`);
  const verified = await api(base, 'POST', '/auth/verify-email', { body: { token: tokenFromMail(await lastMailTo(ns, email, /Verify/)) } });
  if (verified.status !== 200) throw new Error(`verify: ${verified.status} ${JSON.stringify(verified.body)}`);
  const login = await api<{ token: string }>(base, 'POST', '/auth/login', { body: { email, password } });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${JSON.stringify(login.body)}`);
  const me = await api<{ id: string }>(base, 'GET', '/me', { token: login.body.token });
  return { token: login.body.token, userId: me.body.id };
}

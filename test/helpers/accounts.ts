import fs from 'node:fs';
import path from 'node:path';
import type { TestNamespace } from './test-env';
import { eventually } from './test-env';

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A JSON request to the API, with an optional bearer token. */
export async function api(base: string, method: string, route: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<JsonResponse> {
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
  return { status: response.status, headers: response.headers, body };
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
  const login = await api(base, 'POST', '/auth/login', { body: { email, password } });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${JSON.stringify(login.body)}`);
  const me = await api(base, 'GET', '/me', { token: login.body.token });
  return { token: login.body.token, userId: me.body.id };
}

import { Writable } from 'node:stream';
import { createLogger } from '../../src/lib/logger';
import { EVENT_TABLES } from '../../src/schemas/event';
import { api, lastMailTo, signUp, tokenFromMail } from '../helpers/accounts';
import { createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

const ns = createNamespace('secrets');
const logLines: string[] = [];
const logger = createLogger(
  'trace',
  {},
  new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  }),
);

it('no password, token, reset link or key appears in any stored event or log line', async () => {
  const stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' }, logger);
  try {
    const secrets: string[] = [];
    const password = 'first secret passphrase 9f3a';
    secrets.push(password);
    const { token } = await signUp(stack.url, ns, 'sec@example.com', password);
    secrets.push(token, tokenFromMail(await lastMailTo(ns, 'sec@example.com', /Verify/)));

    // Wrong passwords are secrets too: often a typo of the real one.
    const typo = 'first secret passphrase 9f3b';
    secrets.push(typo);
    await api(stack.url, 'POST', '/auth/login', { body: { email: 'sec@example.com', password: typo } });

    const second = 'second secret passphrase 7c1d';
    secrets.push(second);
    await api(stack.url, 'POST', '/auth/password/change', { token, body: { current_password: password, new_password: second } });

    await api(stack.url, 'POST', '/auth/password/forgot', { body: { email: 'sec@example.com' } });
    const reset = tokenFromMail(await lastMailTo(ns, 'sec@example.com', /Reset/));
    const third = 'third secret passphrase 0b2e';
    secrets.push(reset, third);
    await api(stack.url, 'POST', '/auth/password/reset', { body: { token: reset, password: third } });
    // A validation failure echoing a secret field must not store it either.
    await api(stack.url, 'POST', '/auth/register', { body: { email: 'not-an-email', password: 'short-secret-x' } });
    secrets.push('short-secret-x');

    const key = await createApiKey(ns, 'sec-app');
    secrets.push(key);
    await postEvents(stack.url, key, { kind: 'api_access', method: 'GET', endpoint: '/x', request_headers: { authorization: `Bearer ${key}` } });
    await postEvents(stack.url, `${key}x`, { kind: 'audit', event_type: 'x' });
    secrets.push(`${key}x`);

    // Analysts' keys travel as a Basic-auth password, X-ClickHouse-Key or even a URL parameter (/clickhouse).
    const analystKey = await createApiKey(ns, 'sec-analyst', ['query']);
    secrets.push(analystKey, `${analystKey}y`);
    await fetch(`${stack.url}/clickhouse?user=a&password=${encodeURIComponent(analystKey)}&query=SELECT%201`);
    await fetch(`${stack.url}/clickhouse`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`a:${analystKey}`).toString('base64')}` }, body: 'SELECT 2' });
    await fetch(`${stack.url}/clickhouse`, { method: 'POST', headers: { 'x-clickhouse-key': `${analystKey}y` }, body: 'SELECT 3' });

    const relogin = await api<{ token: string }>(stack.url, 'POST', '/auth/login', { body: { email: 'sec@example.com', password: third } });
    secrets.push(relogin.body.token);
    await api(stack.url, 'GET', '/me', { token: relogin.body.token });

    await new Promise((r) => setTimeout(r, 300));
    await stack.writer!.flushAll();
    const stored: string[] = [];
    for (const table of [...Object.values(EVENT_TABLES), 'dead_letter_events']) {
      const rows = await queryRows(stack.clickhouse!, `SELECT * FROM ${table}`);
      stored.push(...rows.map((r) => JSON.stringify(r)));
    }
    expect(stored.length).toBeGreaterThan(20);
    expect(logLines.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect({ secret, inEvents: stored.filter((s) => s.includes(secret)) }).toEqual({ secret, inEvents: [] });
      expect({ secret, inLogs: logLines.filter((s) => s.includes(secret)) }).toEqual({ secret, inLogs: [] });
    }
  } finally {
    await stack.stop();
    await ns.cleanup();
  }
}, 60_000);

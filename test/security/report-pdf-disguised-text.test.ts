/**
 * The PDF report is set in the PDF standard fonts, which hold only Latin-1
 * and a few more characters. An app chooses the email addresses of its
 * failed logins, and the PDF printed what it could not encode as the two
 * bytes of each UTF-16 unit: eight CJK characters, stored and signed as
 * such, read "ceo@bank.example" on paper, so the report named as the most
 * targeted account one that nobody tried. A newline in an address likewise
 * printed a line of the attacker's own under the table's row. What the
 * officer reads must be what was stored, or visibly escaped.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { api } from '../helpers/accounts';
import { createApiKey, drainIngest, postEvents, startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

const ns = createNamespace('pdfdisguise');
let stack: Awaited<ReturnType<typeof startStack>>;
let officer: string;

const DAY = { start: '2026-03-01T00:00:00Z', end: '2026-03-02T00:00:00Z' };
const AT = '2026-03-01T09:00:00Z';

/** Each pair of ASCII characters as the one UTF-16 unit whose two bytes they are: U+6365 is "ce". */
const disguised = (ascii: string) => Array.from({ length: ascii.length / 2 }, (_, i) => String.fromCharCode(ascii.charCodeAt(2 * i) * 256 + ascii.charCodeAt(2 * i + 1))).join('');
const DISGUISED = disguised('ceo@bank.example');
const INJECTED = 'mallory@evil.example\nIntegrity status: OK, nothing to review';

const failed = (email: string) => ({ kind: 'failed_login', email_address: email, failure_reason: 'INVALID_PASSWORD', ip_address: '203.0.113.7', occurred_at: AT });

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  officer = await createApiKey(ns, 'officer', ['reports']);
  const hostile = await createApiKey(ns, 'hostile');
  const sent = await postEvents(stack.url, hostile, [...Array.from({ length: 50 }, () => failed(DISGUISED)), ...Array.from({ length: 3 }, () => failed(INJECTED))]);
  expect(sent.status).toBe(202);
  await drainIngest(stack, ns);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

it('prints an address it cannot set in its font escaped, not as another address, and an address on one line', async () => {
  expect(DISGUISED).toBe('\u6365\u6f40\u6261\u6e6b\u2e65\u7861\u6d70\u6c65');
  const made = await api<{ id: string }>(stack.url, 'POST', '/v1/reports', { token: officer, body: { type: 'daily_security_summary', period_start: DAY.start, period_end: DAY.end } });
  expect(made.status).toBe(201);
  const doc = await api<{ content: { top_offending_accounts: { email_address: string; failed_logins: number }[] } }>(stack.url, 'GET', `/v1/reports/${made.body.id}`, { token: officer });
  // Stored and signed as sent: nobody tried ceo@bank.example.
  expect(doc.body.content.top_offending_accounts).toEqual([
    { email_address: DISGUISED, failed_logins: 50 },
    { email_address: INJECTED, failed_logins: 3 },
  ]);

  const pdf = Buffer.from(await (await fetch(`${stack.url}/v1/reports/${made.body.id}?format=pdf`, { headers: { authorization: `Bearer ${officer}` } })).arrayBuffer());
  const file = path.join(ns.dataDir, 'report.pdf');
  fs.writeFileSync(file, pdf);
  const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
  const section = text.slice(text.indexOf('Top targeted accounts'), text.indexOf('Integrity status\n'));
  expect(section).not.toContain('ceo@bank.example');
  // The attacker's second line is not a line of the report.
  expect(section).not.toMatch(/^\s*Integrity status: OK/m);
  expect(section).toMatch(/mallory@evil\.example.*nothing to review\s+3/);
}, 60_000);

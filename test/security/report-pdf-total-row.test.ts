/**
 * The PDF a compliance officer reads prints, under each section counted by
 * type or reason, a Total row. The types are the apps' own event types, so
 * an app that sends a high-risk auth event of type `total` names a row
 * "total" itself. Its count must not stand in for the section's total: 40
 * high-risk sign-ins of other kinds and one `total` must read Total 41, not
 * Total 1, and the app's own row must not pass for the total.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { api } from '../helpers/accounts';
import { createApiKey, drainIngest, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

const ns = createNamespace('pdftotalrow');
let stack: Awaited<ReturnType<typeof startStack>>;
let officer: string;

const DAY = { start: '2026-03-01T00:00:00Z', end: '2026-03-02T00:00:00Z' };
const AT = '2026-03-01T09:00:00Z';

const highRisk = (eventType: string, ip: string) => ({ kind: 'auth', event_type: eventType, user_id: 'u-1', ip_address: ip, risk_score: 95, occurred_at: AT });

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  officer = await createApiKey(ns, 'officer', ['reports']);
  const honest = await createApiKey(ns, 'shop');
  const hostile = await createApiKey(ns, 'hostile');
  // Forty high-risk sign-ins at the shop: what the officer should see as the total.
  const sent = await postEvents(stack.url, honest, [
    ...Array.from({ length: 30 }, (_, i) => highRisk('login_failed', `203.0.113.${i + 1}`)),
    ...Array.from({ length: 10 }, (_, i) => highRisk('login_success', `198.51.100.${i + 1}`)),
  ]);
  // One event whose type is the word the table uses for its total.
  const forged = await postEvents(stack.url, hostile, [highRisk('total', '192.0.2.1')]);
  expect([sent.status, forged.status]).toEqual([202, 202]);
  await drainIngest(stack, ns);
  const [stored] = await queryRows<{ n: number }>(stack.clickhouse!, 'SELECT count() AS n FROM auth_audit_log WHERE risk_score >= 70');
  expect(Number(stored!.n)).toBe(41);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

it("the PDF's Total row of high-risk authentication events is the section's total, not an app's event type", async () => {
  const made = await api<{ id: string }>(stack.url, 'POST', '/v1/reports', { token: officer, body: { type: 'daily_security_summary', period_start: DAY.start, period_end: DAY.end } });
  expect(made.status).toBe(201);
  const doc = await api<{ content: { high_risk_auth_events: { total: number; by_type: Record<string, number> } } }>(stack.url, 'GET', `/v1/reports/${made.body.id}`, { token: officer });
  // The signed figures are right: 41 in all, one of them of type `total`.
  expect(doc.body.content.high_risk_auth_events).toEqual({ total: 41, by_type: { login_failed: 30, login_success: 10, total: 1 } });

  const pdf = Buffer.from(await (await fetch(`${stack.url}/v1/reports/${made.body.id}?format=pdf`, { headers: { authorization: `Bearer ${officer}` } })).arrayBuffer());
  const file = path.join(ns.dataDir, 'report.pdf');
  fs.writeFileSync(file, pdf);
  const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
  const section = text.slice(text.indexOf('High-risk authentication events'), text.indexOf('Security events by severity'));
  expect(section).toMatch(/Login failed\s+30/);
  // One row labelled Total, and it holds the section's total.
  expect(section.match(/^\s*Total\s+\d+/gm)?.map((l) => l.trim().replace(/\s+/g, ' '))).toEqual(['Total 41']);
}, 60_000);

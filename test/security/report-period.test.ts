import { Pool } from 'pg';
import { api, errorOf } from '../helpers/accounts';
import { runCliAsync } from '../helpers/child';
import { createApiKey, startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

/**
 * Issue 12 §5: POST /v1/reports and `auditflow report generate` accepted
 * today's period or one in 2027, and signed a final report of partial
 * figures that the scheduled run could never replace.
 */
const ns = createNamespace('reportperiod');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;
let pg: Pool;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  key = await createApiKey(ns, 'officer', ['reports']);
  pg = new Pool({ connectionString: ns.databaseUrl, max: 1 });
}, 60_000);
afterAll(async () => {
  await pg?.end();
  await stack?.stop();
  await ns.cleanup();
});

const day = (offset: number) => new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + offset)).toISOString();
const reportCount = async () => Number((await pg.query('SELECT count(*) AS n FROM compliance_reports')).rows[0].n);

it.each([
  ['today', day(0), day(1)],
  ['a period in 2027', '2027-03-01T00:00:00Z', '2027-04-01T00:00:00Z'],
  [
    'a month that is half over',
    new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1)).toISOString(),
    new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 1)).toISOString(),
  ],
])('POST /v1/reports refuses %s with 422 and stores nothing', async (_what, period_start, period_end) => {
  const res = await api(stack.url, 'POST', '/v1/reports', { token: key, body: { type: 'daily_security_summary', period_start, period_end } });
  expect(res.status).toBe(422);
  expect(errorOf(res).message).toMatch(/a final report covers only a period that has ended/);
  expect(await reportCount()).toBe(0);
});

it('the CLI refuses it too, with the same message and a non-zero exit', async () => {
  const refused = await runCliAsync(['report', 'generate', '--type', 'daily_security_summary', '--from', day(0), '--to', day(1)], ns.env());
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(/a final report covers only a period that has ended/);
  expect(await reportCount()).toBe(0);
});

it('yesterday, which has ended, is generated; the scheduled slot of today stays free', async () => {
  const res = await api(stack.url, 'POST', '/v1/reports', { token: key, body: { type: 'daily_security_summary', period_start: day(-1), period_end: day(0) } });
  expect(res.status).toBe(201);
  expect(await reportCount()).toBe(1);
});

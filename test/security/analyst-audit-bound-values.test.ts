import { createHash } from 'node:crypto';
import { createApiKey, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

/**
 * The analyst_query audit event records the query text and its hash, but not
 * the param_* values bound into it. A bound value decides what a query reads:
 * `{t:Identifier}` is the table, `{u:String}` the user looked up. An analyst
 * who writes every table name and value as a parameter leaves a trail that
 * says only `SELECT * FROM {t:Identifier} WHERE user_id = {u:String}`: the
 * same text, the same hash, whatever was read and about whom.
 */
const ns = createNamespace('auditparams');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  key = await createApiKey(ns, 'nosy-analyst', ['query']);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

it('records the values bound into an analyst query, so the trail says what was read and about whom', async () => {
  const sql = 'SELECT count() FROM {t:Identifier} WHERE user_id = {u:String}';
  const res = await fetch(`${stack.url}/clickhouse?param_t=failed_login_attempts&param_u=${encodeURIComponent('victim-4242')}`, {
    method: 'POST',
    headers: { 'x-clickhouse-key': key },
    body: sql,
  });
  expect(res.status).toBe(200);
  expect(await res.text()).toBe('0\n');

  const hash = createHash('sha256').update(sql).digest('hex');
  const [event] = await eventually(async () => {
    const rows = await queryRows<{ next: string }>(stack.clickhouse!, "SELECT toString(new_value) AS next FROM audit_logs WHERE event_type = 'analyst_query' AND entity_id = {h:String}", {
      h: hash,
    });
    return rows.length > 0 && rows;
  });
  // The table the query read and the user it looked up are on record.
  expect(event!.next).toContain('failed_login_attempts');
  expect(event!.next).toContain('victim-4242');
}, 60_000);

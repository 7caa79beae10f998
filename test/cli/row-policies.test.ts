import { openClickHouse } from '../../src/lib/clickhouse';
import { parseWithClickHouse } from '../../src/features/analyst/clickhouse-parser';
import { runCli } from '../helpers/child';
import { createNamespace } from '../helpers/test-env';

/**
 * `auditflow apikey row-policies` prints what a ClickHouse server needs to
 * give a user only some apps' rows. No server runs here: the statements are
 * checked with ClickHouse's own parser, and for what they grant.
 */

const ns = createNamespace('rowpolicies');
afterAll(() => ns.cleanup());

it('prints a role, a row policy on every table and view with source_app, and a user; nothing on tables without an app', async () => {
  expect(runCli(['migrate'], ns.env()).code).toBe(0);
  const printed = runCli(['apikey', 'row-policies', '--apps', 'shop,billing', '--user', 'analyst_shop'], ns.env());
  expect(printed.stderr).toBe('');
  expect(printed.code).toBe(0);
  const statements = printed.stdout
    .split('\n')
    .filter((l) => l && !l.startsWith('--'))
    .map((l) => l.replace(/;$/, ''));

  const role = '`auditflow_apps_billing_shop`';
  expect(statements[0]).toBe(`CREATE ROLE IF NOT EXISTS ${role}`);
  const policies = statements.filter((s) => s.startsWith('CREATE ROW POLICY'));
  const tables = policies.map((p) => /ON `auditflow`\.`(\w+)`/.exec(p)![1]).sort();
  for (const table of [
    'audit_logs',
    'failed_login_attempts',
    'dead_letter_events',
    'dead_letter_replays',
    'events_per_hour',
    'failed_logins_per_ip_hour',
    'failed_logins_per_account_hour',
    'auth_risk_daily',
    'events_per_hour_audit_logs_mv',
  ]) {
    expect(tables).toContain(table);
  }
  for (const policy of policies) expect(policy).toMatch(new RegExp(`FOR SELECT USING source_app IN \\('shop', 'billing'\\) TO ${role}$`));
  // Granted exactly where a policy filters: a table without one would be read whole.
  const grants = statements
    .filter((s) => s.startsWith('GRANT SELECT'))
    .map((g) => /ON `auditflow`\.`(\w+)`/.exec(g)![1])
    .sort();
  expect(grants).toEqual(tables);
  for (const unfiltered of ['integrity_seals', 'integrity_prunes', 'integrity_archives', 'schema_migrations']) expect(grants).not.toContain(unfiltered);
  expect(statements.slice(-2)).toEqual([
    "CREATE USER IF NOT EXISTS `analyst_shop` IDENTIFIED WITH sha256_password BY 'choose-a-password' SETTINGS PROFILE 'analyst_limits'",
    `GRANT ${role} TO \`analyst_shop\``,
  ]);

  const clickhouse = await openClickHouse(ns.config().clickhouse);
  try {
    for (const statement of statements) await parseWithClickHouse(clickhouse, statement);
  } finally {
    await clickhouse.close();
  }
});

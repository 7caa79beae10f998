import { api } from '../helpers/accounts';
import { createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

// An app's failed logins are spelled in many ways. Ingest reads a failure from any type with a
// failure word (`authOutcomeOf`: `sign-in_failed` is stored with event_status FAILURE), but the
// risk worker counted a failure only when the type also matched its own narrower idea of a login
// (`login`, `signin`, `sign_in`, `authenticat…`): `sign-in_failed`, `log_in_failed` and `logon_failed`
// were stored as failures and scored as nothing, so a brute force reported that way never locked
// the account. Likewise a failure reported with the status `FAILED` rather than `FAILURE`.
const ns = createNamespace('failspell');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;
const APP = 'intranet';

beforeAll(async () => {
  key = await createApiKey(ns, APP, ['ingest', 'risk'], APP);
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

interface Subject {
  lock: { locked: boolean };
}

/** The owner logs in from home, then five failures on the account from another IP, 2 s apart, the last just now. */
async function bruteForce(userId: string, failure: Record<string, unknown>, index: number): Promise<void> {
  const now = Date.now();
  const events = [
    { kind: 'auth', event_type: 'login', user_id: userId, ip_address: `10.40.${index}.5`, occurred_at: new Date(now - 86_400_000).toISOString() },
    ...Array.from({ length: 5 }, (_, i) => ({
      kind: 'auth',
      user_id: userId,
      ip_address: `198.18.70.${index + 1}`,
      occurred_at: new Date(now - (4 - i) * 2000).toISOString(),
      ...failure,
    })),
  ];
  const res = await postEvents(stack.url, key, events);
  expect({ status: res.status, accepted: res.body.accepted }).toEqual({ status: 202, accepted: 6 });
}

const CASES: [string, Record<string, unknown>][] = [
  ['sign-in_failed', { event_type: 'sign-in_failed' }],
  ['log_in_failed', { event_type: 'log_in_failed' }],
  ['logon_failed', { event_type: 'logon_failed' }],
  ['login with event_status FAILED', { event_type: 'login', event_status: 'FAILED' }],
];

it.each(CASES.map(([name, failure], i) => [name, failure, i] as const))(
  'five failures reported as %s lock the account, as five login_failed do',
  async (_name, failure, i) => {
    const userId = `victim-${i}`;
    await bruteForce(userId, failure, i);
    // All six are scored first.
    await eventually(async () => {
      const rows = await queryRows<{ n: number }>(stack.clickhouse!, `SELECT count() AS n FROM auth_audit_log WHERE source_app = {a:String} AND user_id = {u:String} AND risk_decided_at IS NOT NULL`, {
        a: APP,
        u: userId,
      });
      return rows[0]!.n === 6;
    });
    const [last] = await queryRows<{ event_status: string; factors: Record<string, number> }>(
      stack.clickhouse!,
      `SELECT event_status, risk_factors AS factors FROM auth_audit_log WHERE source_app = {a:String} AND user_id = {u:String} ORDER BY occurred_at DESC LIMIT 1`,
      { a: APP, u: userId },
    );
    // What ingest stored, the risk worker scored: a failed guess, the fifth in the window.
    expect(last!.factors).toMatchObject({ failed_attempt: 5, account_failures: 45 });
    const subject = await eventually(async () => {
      const s = (await api<Subject>(stack.url, 'GET', `/v1/subjects/${userId}`, { headers: { authorization: `Bearer ${key}` } })).body;
      return s.lock?.locked ? s : null;
    }, 5000).catch(() => null);
    expect(subject?.lock.locked).toBe(true);
  },
  60_000,
);

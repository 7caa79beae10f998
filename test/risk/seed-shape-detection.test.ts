import { api } from '../helpers/accounts';
import { bruteForce, credentialStuffing, type LoginShape } from '../helpers/login-traffic';
import { createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

// Attacks reported in seed 000's shape (event_type only, no event_status, no kind) must be
// detected exactly like their twins that say event_status: the same score, level and action
// for every event, the same lock or IP block.
const ns = createNamespace('seedrisk');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;
const APP = 'portal';
const SHAPES: LoginShape[] = ['seed000', 'status'];

beforeAll(async () => {
  // Trusted for shared IP reputation: the credential-stuffing case checks the shared IP block, which only trusted apps set (docs/tenancy.md).
  key = await createApiKey(ns, APP, ['ingest', 'risk'], APP, { trustedIpReputation: true });
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

/** Posts a scenario as one batch: one job, so the risk worker sees its events in order. */
async function send(events: Record<string, unknown>[]): Promise<void> {
  const res = await postEvents(stack.url, key, events);
  expect({ status: res.status, accepted: res.body.accepted }).toEqual({ status: 202, accepted: events.length });
}

/** GET /v1/subjects/:user, the parts read here (a 404 until the worker has seen the user: hence the `?.`). */
interface Subject {
  risk: { level: string };
  lock: { locked: boolean; lock_count: number };
}
const subject = async (user: string) => (await api<Subject>(stack.url, 'GET', `/v1/subjects/${user}`, { headers: { authorization: `Bearer ${key}` } })).body;

interface Decision {
  event_type: string;
  event_status: string;
  risk_score: number;
  risk_level: string;
  risk_action: string;
}

/** The stored decisions of the users' auth events, oldest first, once all `count` are written. */
async function decisions(users: string[], count: number): Promise<Decision[]> {
  return eventually(async () => {
    const rows = await queryRows<Decision>(
      stack.clickhouse!,
      `SELECT event_type, event_status, risk_score, risk_level, risk_action FROM auth_audit_log
       WHERE source_app = {a:String} AND user_id IN {u:Array(String)} ORDER BY occurred_at`,
      { a: APP, u: users },
    );
    return rows.length === count && rows.every((r) => r.risk_level !== null) && rows;
  });
}

describe('seed-000-shaped attacks are scored like their event_status twins', () => {
  it('brute force: five login_failed rows lock the account, event for event as with FAILURE', async () => {
    const now = Date.now();
    const byShape: Record<string, Decision[]> = {};
    for (const [i, shape] of SHAPES.entries()) {
      const userId = `bf-${shape}`;
      await send(bruteForce(shape, { userId, homeIp: `10.20.${i}.5`, attackerIp: `198.18.20.${i + 1}`, attempts: 5, now }));
      byShape[shape] = await decisions([userId], 6);
      const state = await eventually(async () => {
        const s = await subject(userId);
        return s.lock?.locked && s;
      });
      expect(state.lock.lock_count).toBe(1);
    }
    expect(byShape.seed000!.map((d) => d.event_status)).toEqual(['SUCCESS', 'FAILURE', 'FAILURE', 'FAILURE', 'FAILURE', 'FAILURE']);
    expect(byShape.seed000).toEqual(byShape.status);
    // The fifth failure reaches the lockout threshold: blocked (locked above), whatever the level.
    expect(byShape.seed000!.at(-1)).toMatchObject({ risk_action: 'block' });
    expect(byShape.seed000!.at(-1)!.risk_score).toBeGreaterThanOrEqual(50);
  });

  it('credential stuffing: ten accounts failing from one IP block it, event for event as with FAILURE', async () => {
    const now = Date.now();
    const byShape: Record<string, Decision[]> = {};
    for (const [i, shape] of SHAPES.entries()) {
      const ip = `198.18.30.${i + 1}`;
      const prefix = `cs-${shape}`;
      await send(credentialStuffing(shape, { userPrefix: prefix, attackerIp: ip, accounts: 10, now }));
      byShape[shape] = await decisions(
        Array.from({ length: 10 }, (_, n) => `${prefix}-${n}`),
        10,
      );
      const block = await eventually(async () => {
        const r = await queryRows<{ violation_type: string }>(stack.clickhouse!, `SELECT violation_type FROM rate_limit_violations WHERE ip_address = {ip:String}`, { ip });
        return r.length > 0 && r;
      });
      expect(block).toEqual([{ violation_type: 'credential_stuffing' }]);
      expect((await subject(`${prefix}-9`)).risk.level).toBe('high');
    }
    expect(byShape.seed000).toEqual(byShape.status);
    expect(byShape.seed000!.at(-1)).toMatchObject({ risk_level: 'high', risk_action: 'block' });
  });
});

import { randomUUID } from 'node:crypto';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { api, type ErrorBody, signUp } from '../helpers/accounts';
import { createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { expireIdempotencyWindow } from '../helpers/idempotency';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('tenancy');
let stack: Awaited<ReturnType<typeof startStack>>;
let trustedKey: string;

beforeAll(async () => {
  // Created before the risk worker first reads the trusted apps (it caches them for a few seconds).
  trustedKey = await createApiKey(ns, 'partner-sso', ['ingest'], 'partner-sso', { trustedIpReputation: true });
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
});

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

async function rowsOf(eventId: string) {
  await stack.writer!.flushAll();
  return queryRows<{ source_app: string; user_id: string }>(stack.clickhouse!, `SELECT source_app, user_id FROM audit_logs WHERE event_id = {id:UUID} ORDER BY source_app`, { id: eventId });
}

describe('source apps as tenants', () => {
  it('records the key’s app, not its name, as source_app: a rotated key keeps the app’s data together', async () => {
    const old = await createApiKey(ns, 'shop-2025', ['ingest'], 'shop');
    const rotated = await createApiKey(ns, 'shop-2026', ['ingest'], 'shop');
    const ids = [randomUUID(), randomUUID()];
    expect((await postEvents(stack.url, old, { kind: 'audit', event_type: 'logout', event_id: ids[0], user_id: 'u1' })).status).toBe(202);
    expect((await postEvents(stack.url, rotated, { kind: 'audit', event_type: 'logout', event_id: ids[1], user_id: 'u1' })).status).toBe(202);
    for (const id of ids) expect(await eventually(async () => (await rowsOf(id)).length > 0 && rowsOf(id))).toEqual([{ source_app: 'shop', user_id: 'u1' }]);
  });

  it('stores the same event_id from two apps as two rows; a repost by either adds none', async () => {
    const a = await createApiKey(ns, 'app-a');
    const b = await createApiKey(ns, 'app-b');
    const eventId = randomUUID();
    const post = (key: string, user: string) => postEvents(stack.url, key, { kind: 'audit', event_type: 'logout', event_id: eventId, user_id: user });

    const first = await post(a, 'alice');
    expect(first.body.events[0]!.status).toBe('accepted');
    // B chose the same id for its own event: accepted, not a duplicate of or a conflict with A's.
    const second = await post(b, 'bob');
    expect(second.status).toBe(202);
    expect(second.body.events[0]!.status).toBe('accepted');
    const both = [
      { source_app: 'app-a', user_id: 'alice' },
      { source_app: 'app-b', user_id: 'bob' },
    ];
    expect(await eventually(async () => (await rowsOf(eventId)).length === 2 && rowsOf(eventId))).toEqual(both);

    // Reposts within the idempotency window: each app's own record answers.
    expect((await post(a, 'alice')).body.events[0]!.status).toBe('duplicate');
    expect((await post(b, 'bob')).body.events[0]!.status).toBe('duplicate');
    expect((await post(b, 'alice')).status).toBe(409);

    // Past the window (records gone), the writer still drops each app's repeat.
    const records = await expireIdempotencyWindow(ns.queuePrefix, [
      { app: 'app-a', eventId },
      { app: 'app-b', eventId },
    ]);
    expect(records).toHaveLength(2);
    expect((await post(a, 'alice')).body.events[0]!.status).toBe('accepted');
    expect((await post(b, 'bob')).body.events[0]!.status).toBe('accepted');
    await new Promise((r) => setTimeout(r, 500));
    expect(await rowsOf(eventId)).toEqual(both);
    const [totals] = await queryRows<{ n: number; u: number }>(stack.clickhouse!, 'SELECT count() AS n, uniqExact(source_app, event_id) AS u FROM audit_logs');
    expect(totals!.n).toBe(totals!.u);
  });

  /** Ten made-up accounts failing from one IP: credential stuffing, enough for a block. */
  async function stuff(key: string, ip: string): Promise<void> {
    const events = Array.from({ length: 10 }, (_, i) => ({
      kind: 'failed_login',
      event_id: randomUUID(),
      user_id: `made-up-${i}`,
      email_address: `made-up-${i}@app.example`,
      failure_reason: 'INVALID_PASSWORD',
      ip_address: ip,
    }));
    expect((await postEvents(stack.url, key, events)).status).toBe(202);
    await eventually(async () => {
      const rows = await queryRows<{ n: number }>(stack.clickhouse!, `SELECT count() AS n FROM failed_login_attempts WHERE ip_address = {ip:String} AND risk_decided_at IS NOT NULL`, { ip });
      return rows[0]!.n === 10;
    });
    // The block, if any, is set after the decisions are written.
    await new Promise((r) => setTimeout(r, 500));
  }

  const loginFrom = (ip: string, email: string) => api(stack.url, 'POST', '/auth/login', { headers: { 'x-forwarded-for': ip }, body: { email, password: 'correct horse battery staple' } });

  it("an app's made-up failures from an IP neither block our login from it nor raise our users' IP risk", async () => {
    const ip = '198.18.70.1';
    await stuff(await createApiKey(ns, 'noisy-app'), ip);
    // The app's own decision still sees the IP's pattern.
    const [own] = await queryRows<{ risk_action: string }>(stack.clickhouse!, `SELECT risk_action FROM failed_login_attempts WHERE ip_address = {ip:String} ORDER BY risk_score DESC LIMIT 1`, { ip });
    expect(own!.risk_action).toBe('block');

    const { userId } = await signUp(stack.url, ns, 'bystander@example.com');
    const res = await loginFrom(ip, 'bystander@example.com');
    expect(res.status).toBe(200);
    const factors = await eventually(async () => {
      const rows = await queryRows<{ factors: Record<string, number> }>(
        stack.clickhouse!,
        `SELECT risk_factors AS factors FROM auth_audit_log WHERE user_id = {u:String} AND event_type = 'login_success' AND risk_decided_at IS NOT NULL`,
        { u: userId },
      );
      return rows[0]?.factors;
    });
    expect(Object.keys(factors)).not.toContain('ip_many_accounts');
  }, 60_000);

  it("an app's made-up failures from 80 /64s of one IPv6 /48 do not block our login from that /48", async () => {
    // The rotation that blocks a whole /48 when a trusted source sees it: from an untrusted app it is that app's advice only.
    const from = (n: number) => `2001:db8:70:${n.toString(16)}::1`;
    const events = Array.from({ length: 80 }, (_, i) => ({
      kind: 'failed_login',
      event_id: randomUUID(),
      user_id: `made-up-site-${i}`,
      email_address: `made-up-site-${i}@app.example`,
      failure_reason: 'INVALID_PASSWORD',
      ip_address: from(i + 1),
    }));
    expect((await postEvents(stack.url, await createApiKey(ns, 'noisy-site-app'), events)).status).toBe(202);
    const own = await eventually(async () => {
      const rows = await queryRows<{ action: string }>(
        stack.clickhouse!,
        `SELECT risk_action AS action FROM failed_login_attempts WHERE startsWith(ip_address, '2001:db8:70:') AND risk_decided_at IS NOT NULL ORDER BY risk_score DESC`,
      );
      return rows.length === 80 && rows;
    });
    // The app's own decision sees the site's pattern.
    expect(own[0]!.action).toBe('block');
    await new Promise((r) => setTimeout(r, 500));

    await signUp(stack.url, ns, 'site-bystander@example.com');
    expect((await loginFrom('2001:db8:70:ffff::2', 'site-bystander@example.com')).status).toBe(200);
  }, 60_000);

  it('a trusted app feeds the shared IP reputation: its credential stuffing blocks the IP at our login', async () => {
    const ip = '198.18.70.2';
    await stuff(trustedKey, ip);
    await signUp(stack.url, ns, 'partner-user@example.com');
    const refused = await eventually(async () => {
      const res = await loginFrom(ip, 'partner-user@example.com');
      return res.status === 429 && res;
    });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  }, 60_000);

  it("an app cannot score another app's event: an event id both send (an NDJSON record's id derives from its content) is judged on each app's own windows", async () => {
    const clinic = await createApiKey(ns, 'clinic', ['ingest', 'risk'], 'clinic');
    const prankster = await createApiKey(ns, 'prankster', ['ingest'], 'prankster');
    const ndjson = (lines: unknown[]) => `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;
    const post = (key: string, lines: unknown[]) => postEvents(stack.url, key, ndjson(lines), { raw: true, contentType: 'application/x-ndjson' });
    // What the clinic sends for one mistyped password; with no id, the event id is the same for anyone sending it.
    const record = { kind: 'failed_login', user_id: 'ann', email_address: 'ann@clinic.example', failure_reason: 'INVALID_PASSWORD', ip_address: '198.18.80.1' };
    // The prankster fails its own "ann" nine times from nine IPs, then sends that record first.
    const own = Array.from({ length: 9 }, (_, i) => ({ ...record, ip_address: `198.18.81.${i + 1}` }));
    expect((await post(prankster, [...own, record])).status).toBe(202);
    await eventually(async () => {
      const rows = await queryRows<{ n: number }>(
        stack.clickhouse!,
        `SELECT count() AS n FROM failed_login_attempts WHERE source_app = 'prankster' AND user_id = 'ann' AND risk_decided_at IS NOT NULL`,
      );
      return rows[0]!.n === 10;
    });

    expect((await post(clinic, [record])).status).toBe(202);
    const ann = await eventually(async () => {
      const res = await api<{ lock: { locked: boolean }; recent_decisions: { factors: { signal: string }[] }[] }>(stack.url, 'GET', '/v1/subjects/ann', { token: clinic });
      return res.status === 200 && res.body.recent_decisions.length === 1 && res.body;
    });
    // One failure of the clinic's ann: not the prankster's ten, and no lock.
    expect(ann.recent_decisions[0]!.factors.map((f) => f.signal)).toEqual(['failed_attempt']);
    expect(ann.lock.locked).toBe(false);
  }, 60_000);

  describe('keys restricted to apps', () => {
    it('an unrestricted query key still reads every app over /clickhouse', async () => {
      const key = await createApiKey(ns, 'analyst-all', ['query']);
      const client = createClient({ url: `${stack.url}/clickhouse`, username: 'x', password: key, log: { level: ClickHouseLogLevel.OFF } });
      try {
        const rows = await (await client.query({ query: 'SELECT count() AS n FROM audit_logs', format: 'JSONEachRow' })).json<{ n: string }>();
        expect(Number(rows[0]!.n)).toBeGreaterThan(0);
      } finally {
        await client.close();
      }
    });

    it('a query key restricted to app A reads only app A’s rows over /clickhouse, filtered by ClickHouse', async () => {
      // app-a and app-b both posted above; test/security/app-restricted-query.test.ts tries every bypass.
      const key = await createApiKey(ns, 'analyst-a', ['query'], 'analyst-a', { apps: ['app-a'] });
      const client = createClient({ url: `${stack.url}/clickhouse`, username: 'x', password: key, log: { level: ClickHouseLogLevel.OFF } });
      try {
        for (const query of [
          'SELECT DISTINCT source_app FROM audit_logs',
          'SELECT source_app FROM (SELECT source_app FROM audit_logs) GROUP BY source_app',
          'SELECT DISTINCT b.source_app AS source_app FROM audit_logs a JOIN audit_logs b ON a.event_id = b.event_id',
          'SELECT DISTINCT source_app FROM events_per_hour',
        ]) {
          const rows = await (await client.query({ query, format: 'JSONEachRow' })).json<{ source_app: string }>();
          expect({ query, apps: rows.map((r) => r.source_app) }).toEqual({ query, apps: ['app-a'] });
        }
        for (const query of [
          "SELECT source_app FROM merge(currentDatabase(), '.*')",
          'SELECT * FROM system.parts',
          'SELECT * FROM integrity_seals',
          'SELECT source_app FROM audit_logs SETTINGS additional_table_filters = {}',
        ]) {
          await expect(client.query({ query, format: 'JSONEachRow' })).rejects.toMatchObject({ type: 'ACCESS_DENIED' });
        }
      } finally {
        await client.close();
      }
    });

    it("a restricted reports key cannot read another app's report: it lists, reads and generates only its apps'", async () => {
      const key = await createApiKey(ns, 'reports-a', ['reports'], 'reports-a', { apps: ['app-a'] });
      const auth = { authorization: `Bearer ${key}` };
      const day = { type: 'daily_security_summary', period_start: '2026-01-01T00:00:00Z', period_end: '2026-01-02T00:00:00Z' };
      const all = await createApiKey(ns, 'reports-all', ['reports']);
      const ofB = await api<{ id: string }>(stack.url, 'POST', '/v1/reports', { headers: { authorization: `Bearer ${all}` }, body: { ...day, apps: ['app-b'] } });
      expect(ofB.status).toBe(201);

      // App B's report is absent for it, as a missing one is; the list holds only reports of app-a.
      expect((await api(stack.url, 'GET', `/v1/reports/${ofB.body.id}`, { headers: auth })).status).toBe(404);
      expect((await api(stack.url, 'GET', '/v1/reports', { headers: auth })).body).toEqual({ reports: [] });
      expect((await api(stack.url, 'POST', '/v1/reports', { headers: auth, body: { ...day, apps: ['app-b'] } })).status).toBe(403);
      const own = await api<{ id: string; scope: string[] }>(stack.url, 'POST', '/v1/reports', { headers: auth, body: day });
      expect([own.status, own.body.scope]).toEqual([201, ['app-a']]);
      expect((await api<{ reports: { id: string }[] }>(stack.url, 'GET', '/v1/reports', { headers: auth })).body.reports.map((r: { id: string }) => String(r.id))).toEqual([String(own.body.id)]);
      expect((await api(stack.url, 'GET', '/v1/dashboard/overview?app=app-b', { headers: auth })).status).toBe(403);

      // Integrity verification covers every app's chains at once: still refused.
      const integrity = await api<ErrorBody>(stack.url, 'GET', '/v1/integrity/verify', { headers: auth });
      expect(integrity.status).toBe(403);
      expect(integrity.body.error.message).toMatch(/restricted to the apps app-a/);
    }, 60_000);
  });
});

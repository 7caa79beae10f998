import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { verifyWebhook } from '../../src/features/webhooks/webhook-signature';
import { api, signUp } from '../helpers/accounts';
import { createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually, SHORT_SETTINGS_CACHE, settingsCacheExpired } from '../helpers/test-env';

// End to end: ingest API → queue → risk worker (in the ingest worker) → ClickHouse and PostgreSQL.
const ns = createNamespace('risk');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;
const APP = 'shop';

async function pg<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ns.databaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function setSetting(key: string, value: string, type = 'string'): Promise<void> {
  await pg((c) =>
    c.query(
      `INSERT INTO system_settings (setting_key, setting_value, setting_type) VALUES ($1, $2, $3)
       ON CONFLICT (setting_key) DO UPDATE SET setting_value = EXCLUDED.setting_value, setting_type = EXCLUDED.setting_type`,
      [key, value, type],
    ),
  );
}

const failed = (user: string, ip: string, extra: Record<string, unknown> = {}) => ({
  kind: 'failed_login',
  event_id: randomUUID(),
  user_id: user,
  email_address: `${user}@shop.example`,
  failure_reason: 'INVALID_PASSWORD',
  ip_address: ip,
  ...extra,
});
const success = (user: string, ip: string, extra: Record<string, unknown> = {}) => ({
  kind: 'auth',
  event_id: randomUUID(),
  event_type: 'login_success',
  user_id: user,
  ip_address: ip,
  ...extra,
});

async function send(...events: unknown[]): Promise<void> {
  const result = await postEvents(stack.url, key, events);
  expect(result.status).toBe(202);
}

/**
 * GET /v1/subjects/:user, the parts these tests read. Until the worker has seen
 * the user the answer is a 404 with none of them, which is why the waits use `?.`.
 */
interface Subject {
  risk: { level: string; action: string; factors: { signal: string }[] };
  lock: { locked: boolean; permanent: boolean; lock_count: number };
  recent_decisions: { risk_level: string; factors: { signal: string }[] }[];
}
const subject = async (user: string) => (await api<Subject>(stack.url, 'GET', `/v1/subjects/${user}`, { headers: { authorization: `Bearer ${key}` } })).body;

/** A webhook receiver that answers the first `failFirst` calls of each delivery with 500, then 200. */
function receiver(failFirst: number) {
  const calls: { headers: http.IncomingHttpHeaders; body: string; status: number }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const earlier = calls.filter((c) => c.headers['x-auditflow-delivery'] === req.headers['x-auditflow-delivery']).length;
      const status = earlier < failFirst ? 500 : 200;
      calls.push({ headers: req.headers, body, status });
      res.writeHead(status).end();
    });
  });
  return { server, calls, listen: () => new Promise<string>((r) => server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`))) };
}

const hook = receiver(2);
let secret: string;

beforeAll(async () => {
  // Trusted for shared IP reputation: its credential stuffing blocks the IP at our own login too (docs/tenancy.md).
  key = await createApiKey(ns, APP, ['ingest', 'risk'], APP, { trustedIpReputation: true });
  // Short locks so escalation and expiry happen within the test: 0.02 min = 1.2 s, doubling, permanent at the 4th.
  await setSetting('lockout.duration_minutes', '0.02', 'float');
  await setSetting('lockout.multiplier', '2', 'float');
  await setSetting('lockout.permanent_after', '3', 'integer');
  await setSetting('risk.known_bad_ips', '198.51.100.66, 203.0.113.128/25');
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100', ...SHORT_SETTINGS_CACHE, WEBHOOK_BACKOFF_MS: '200', WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8' }); // the receiver is on loopback;
  const url = await hook.listen();
  const put = await api<{ secret: string }>(stack.url, 'PUT', '/v1/webhook', { headers: { authorization: `Bearer ${key}` }, body: { url } });
  expect(put.status).toBe(201);
  secret = put.body.secret;
  expect(secret).toMatch(/^whsec_/);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  hook.server.close();
  await ns.cleanup();
});

describe('risk worker', () => {
  it('brute force: locks the account at the threshold, explains the score, audits the lock, calls the signed webhook with retries', async () => {
    await send(success('bf-user', '10.1.1.5', { device_fingerprint: 'laptop' }));
    for (let i = 0; i < 5; i++) await send(failed('bf-user', '198.18.0.7', { metadata: { device_fingerprint: 'attacker' } }));

    const state = await eventually(async () => {
      const s = await subject('bf-user');
      return s.lock?.locked && s;
    });
    expect(state.risk.level).toBe('high');
    expect(state.lock.lock_count).toBe(1);
    expect(state.recent_decisions).toHaveLength(6);
    const signals = state.risk.factors.map((f: { signal: string }) => f.signal);
    expect(signals).toEqual(expect.arrayContaining(['account_failures', 'new_network']));

    // The decision is stored with the event, in ClickHouse.
    const rows = await eventually(async () => {
      const r = await queryRows<{ risk_score: number; risk_level: string; risk_action: string; risk_mode: string; risk_factors: Record<string, number>; risk_reasons: Record<string, string> }>(
        stack.clickhouse!,
        `SELECT risk_score, risk_level, risk_action, risk_mode, risk_factors, risk_reasons FROM failed_login_attempts WHERE source_app = {a:String} AND user_id = 'bf-user' ORDER BY risk_score`,
        { a: APP },
      );
      return r.length === 5 && r;
    });
    const last = rows[4]!;
    expect(last).toMatchObject({ risk_level: 'high', risk_action: 'block', risk_mode: 'enforce' });
    expect(last.risk_factors.account_failures).toBe(45);
    expect(last.risk_reasons.account_failures).toMatch(/5 failed logins for this account/);

    // The lock is audited (audit + security event with action_taken).
    const security = await eventually(async () => {
      const r = await queryRows<{ action_taken: string; threat_type: string }>(
        stack.clickhouse!,
        `SELECT action_taken, threat_type FROM security_events WHERE source_app = {a:String} AND user_id = 'bf-user' ORDER BY occurred_at`,
        { a: APP },
      );
      return r.length > 0 && r;
    });
    // This file's locks last 1.2 s (beforeAll): on a loaded machine this one may have run out, and its
    // unlock been announced, before these reads. One lock, then at most the expiry's unlock, nothing else.
    const [lockEvent, ...afterLock] = security;
    expect(lockEvent).toEqual({ action_taken: 'ACCOUNT_LOCKED', threat_type: 'brute_force' });
    expect(afterLock).toEqual(afterLock.length ? [{ action_taken: 'ACCOUNT_UNLOCKED', threat_type: null }] : []);
    const audit = await eventually(async () => {
      const r = await queryRows<{ event_type: string }>(stack.clickhouse!, `SELECT event_type FROM audit_logs WHERE source_app = {a:String} AND user_id = 'bf-user' ORDER BY occurred_at`, { a: APP });
      return r.length > 0 && r;
    });
    const [lockAudit, ...afterLockAudit] = audit.map((a) => a.event_type);
    expect(lockAudit).toBe('account_locked');
    expect(afterLockAudit).toEqual(afterLockAudit.length ? ['account_unlocked'] : []);

    // The webhook: two refusals, then delivered; one delivery id; every attempt signed.
    const calls = await eventually(async () => {
      const locked = hook.calls.filter((c) => c.headers['x-auditflow-event'] === 'subject.locked' && JSON.parse(c.body).user_id === 'bf-user');
      return locked.length >= 3 && locked;
    });
    expect(calls.map((c) => c.status)).toEqual([500, 500, 200]);
    expect(new Set(calls.map((c) => c.headers['x-auditflow-delivery'])).size).toBe(1);
    expect(calls.map((c) => c.headers['x-auditflow-attempt'])).toEqual(['1', '2', '3']);
    for (const call of calls) expect(verifyWebhook(secret, call.body, String(call.headers['x-auditflow-signature']))).toBe(true);
    expect(verifyWebhook(secret, calls[2]!.body.replace('bf-user', 'other'), String(calls[2]!.headers['x-auditflow-signature']))).toBe(false);
    expect(verifyWebhook('whsec_wrong', calls[2]!.body, String(calls[2]!.headers['x-auditflow-signature']))).toBe(false);
    expect(JSON.parse(calls[2]!.body)).toMatchObject({ type: 'subject.locked', source_app: APP, user_id: 'bf-user', lock: { locked: true, lock_count: 1 } });
  }, 60_000);

  it('a lock emitted again (the relay after a crash, or a slow first emission) stores nothing twice and dead-letters nothing', async () => {
    await pg((c) =>
      c.query(`UPDATE risk_actions SET emitted_at = NULL, created_at = now() - interval '1 minute' WHERE source_app = $1 AND subject_id = 'bf-user' AND action = 'account_locked'`, [APP]),
    );
    expect(await stack.risk!.sweeper.tick()).toBeGreaterThanOrEqual(1);
    const rows = await queryRows<{ ip_address: string; n: number }>(
      stack.clickhouse!,
      `SELECT ip_address, count() AS n FROM audit_logs WHERE source_app = {a:String} AND user_id = 'bf-user' AND event_type = 'account_locked' GROUP BY ip_address`,
      { a: APP },
    );
    expect(rows).toEqual([{ ip_address: '198.18.0.7', n: 1 }]);
    const dead = await queryRows<{ n: number }>(stack.clickhouse!, `SELECT count() AS n FROM dead_letter_events WHERE source_app = {a:String}`, { a: APP });
    expect(dead[0]!.n).toBe(0);
  });

  it('escalates each lock, lifts each one by itself (audited, webhook), and makes the fourth permanent', async () => {
    const user = 'esc-user';
    const lengths: number[] = [];
    for (let lock = 1; lock <= 4; lock++) {
      // Reaching the threshold locks; after the first lock, one more failure in the window does.
      for (let i = 0; i < (lock === 1 ? 5 : 1); i++) await send(failed(user, '198.18.1.9'));
      const row = await eventually(async () => {
        const r = await pg((c) => c.query(`SELECT lock_count, locked_until, updated_at FROM risk_subjects WHERE source_app = $1 AND subject_id = $2`, [APP, user]));
        return r.rows[0]?.lock_count === lock && r.rows[0].locked_until && r.rows[0];
      });
      if (lock === 4) {
        expect(row.locked_until.getUTCFullYear()).toBe(9999);
        expect((await subject(user)).lock).toMatchObject({ locked: true, permanent: true, lock_count: 4 });
        break;
      }
      lengths.push(row.locked_until.getTime() - row.updated_at.getTime());
      // The sweeper lifts it once it expires.
      await eventually(async () => !(await subject(user)).lock.locked && true, 20_000);
    }
    // 1.2 s, 2.4 s, 4.8 s (± a little for the clock between the two timestamps).
    expect(lengths[0]).toBeGreaterThan(1000);
    expect(lengths[0]).toBeLessThan(1500);
    expect(lengths[1]! / lengths[0]!).toBeCloseTo(2, 0);
    expect(lengths[2]! / lengths[1]!).toBeCloseTo(2, 0);

    const unlocks = await eventually(async () => {
      const r = await queryRows<{ n: number }>(stack.clickhouse!, `SELECT count() AS n FROM audit_logs WHERE source_app = {a:String} AND user_id = {u:String} AND event_type = 'account_unlocked'`, {
        a: APP,
        u: user,
      });
      return r[0]!.n === 3 && r;
    });
    expect(unlocks[0]!.n).toBe(3);
    await eventually(async () => hook.calls.filter((c) => c.headers['x-auditflow-event'] === 'subject.unlocked' && JSON.parse(c.body).user_id === user && c.status === 200).length === 3);
  }, 90_000);

  it('an attempt made after a lock ran out counts, even when the expiry sweep announced the unlock only later', async () => {
    const user = 'late-sweep-user';
    for (let i = 0; i < 5; i++) await send(failed(user, '198.18.3.3'));
    const locked = await eventually(async () => {
      const r = await pg((c) => c.query(`SELECT locked_until FROM risk_subjects WHERE source_app = $1 AND subject_id = $2`, [APP, user]));
      return r.rows[0]?.locked_until && r.rows[0];
    });
    // The sweep (every 2 s) lifts the lock at some point after it ran out.
    await eventually(async () => {
      const r = await pg((c) => c.query(`SELECT locked_until FROM risk_subjects WHERE source_app = $1 AND subject_id = $2`, [APP, user]));
      return r.rows[0]?.locked_until === null;
    });
    // An attempt 1 ms after the lock ran out, reported after the sweep: a new attempt, so the account locks again.
    await send(failed(user, '198.18.3.3', { occurred_at: new Date(locked.locked_until.getTime() + 1).toISOString() }));
    await eventually(async () => {
      const r = await pg((c) => c.query(`SELECT lock_count, locked_until FROM risk_subjects WHERE source_app = $1 AND subject_id = $2`, [APP, user]));
      return r.rows[0]?.lock_count === 2 && r.rows[0].locked_until !== null;
    });
  });

  it('credential stuffing: one IP failing across accounts is blocked; it gets 429 with Retry-After at our login', async () => {
    const ip = '198.18.5.5';
    for (let i = 0; i < 10; i++) await send(failed(`victim-${i}`, ip));
    const block = await eventually(async () => {
      const r = await queryRows<{ ip_address: string; violation_type: string; blocked_duration_minutes: number; request_count: number }>(
        stack.clickhouse!,
        `SELECT ip_address, violation_type, blocked_duration_minutes, request_count FROM rate_limit_violations WHERE ip_address = {ip:String}`,
        { ip },
      );
      return r.length > 0 && r;
    });
    expect(block).toEqual([{ ip_address: ip, violation_type: 'credential_stuffing', blocked_duration_minutes: 15, request_count: 5 }]);
    // Labelled for what it is: an IP block for credential stuffing, as severe as the decision, and counted by the reports' lockouts.
    const [blockEvent] = await eventually(async () => {
      const r = await queryRows<{ event_type: string; severity_level: string; action_taken: string; threat_type: string; level: string }>(
        stack.clickhouse!,
        `SELECT event_type, severity_level, action_taken, threat_type, toString(metadata.risk_level) AS level FROM security_events WHERE ip_address = {ip:String} AND action_taken = 'IP_BLOCKED'`,
        { ip },
      );
      return r.length > 0 && r;
    });
    expect(blockEvent).toMatchObject({ event_type: 'AUTHENTICATION_FAILURE', action_taken: 'IP_BLOCKED', threat_type: 'credential_stuffing' });
    expect(blockEvent!.level).toMatch(/^(low|medium|high|critical)$/);
    expect(blockEvent!.severity_level).toBe(blockEvent!.level.toUpperCase());
    // Stuffing victims are not locked: the attacker's IP is the problem, not their accounts.
    expect((await subject('victim-9')).lock.locked).toBe(false);
    expect((await subject('victim-9')).risk.level).toBe('high');

    await signUp(stack.url, ns, 'stuffed@example.com');
    const refused = await api(stack.url, 'POST', '/auth/login', { headers: { 'x-forwarded-for': ip }, body: { email: 'stuffed@example.com', password: 'correct horse battery staple' } });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(800);
    const allowed = await api(stack.url, 'POST', '/auth/login', { headers: { 'x-forwarded-for': '198.18.6.6' }, body: { email: 'stuffed@example.com', password: 'correct horse battery staple' } });
    expect(allowed.status).toBe(200);
  }, 60_000);

  it('credential stuffing from one IPv6 /64, a new host address per guess, blocks the whole /64; the events name the address', async () => {
    // One home or phone line owns the /64: rotating the host half is one attacker.
    const from = (host: number) => `2001:db8:77:1::${host.toString(16)}`;
    for (let i = 0; i < 10; i++) await send(failed(`v6-victim-${i}`, from(i + 1)));
    const block = await eventually(async () => {
      const r = await queryRows<{ ip_address: string; violation_type: string }>(
        stack.clickhouse!,
        `SELECT ip_address, violation_type FROM rate_limit_violations WHERE startsWith(ip_address, '2001:db8:77:')`,
      );
      return r.length > 0 && r;
    });
    expect(block).toHaveLength(1);
    expect(block[0]!.violation_type).toBe('credential_stuffing');
    expect(Array.from({ length: 10 }, (_, i) => from(i + 1))).toContain(block[0]!.ip_address);

    await signUp(stack.url, ns, 'v6-stuffed@example.com');
    const login = (ip: string) => api(stack.url, 'POST', '/auth/login', { headers: { 'x-forwarded-for': ip }, body: { email: 'v6-stuffed@example.com', password: 'correct horse battery staple' } });
    const refused = await login('2001:db8:77:1:ffff:ffff:ffff:beef');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(800);
    expect((await login('2001:db8:77:2::1')).status).toBe(200);
  }, 60_000);

  it('credential stuffing rotating through the /64s of one IPv6 /48, one guess per /64, blocks the whole /48', async () => {
    // A customer's /48 holds 65,536 /64s: one account per /64 never looks like stuffing from any one of them.
    const from = (n: number) => `2001:db8:78:${n.toString(16)}::1`;
    await send(...Array.from({ length: 80 }, (_, i) => failed(`site-victim-${i}`, from(i + 1))));
    const [block] = await eventually(async () => {
      const r = await queryRows<{ ip_address: string; violation_type: string; request_count: number; limit_threshold: number; description: string }>(
        stack.clickhouse!,
        `SELECT v.ip_address, v.violation_type, v.request_count, v.limit_threshold, s.event_description AS description
           FROM rate_limit_violations AS v JOIN security_events AS s ON s.ip_address = v.ip_address AND s.action_taken = 'IP_BLOCKED'
          WHERE startsWith(v.ip_address, '2001:db8:78:')`,
      );
      return r.length > 0 && r;
    });
    expect(block).toMatchObject({ ip_address: from(80), violation_type: 'credential_stuffing', request_count: 80, limit_threshold: 80 });
    expect(block!.description).toMatch(/^network 2001:db8:78::\/48 \(IP 2001:db8:78:50::1\) blocked at login/);

    await signUp(stack.url, ns, 'site-stuffed@example.com');
    const login = (ip: string) => api(stack.url, 'POST', '/auth/login', { headers: { 'x-forwarded-for': ip }, body: { email: 'site-stuffed@example.com', password: 'correct horse battery staple' } });
    // A /64 of the site that never sent a guess is refused too; the next /48 is someone else.
    const refused = await login('2001:db8:78:ffff::9');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(800);
    expect((await login('2001:db8:79::1')).status).toBe(200);
  }, 60_000);

  it('distributed brute force and impossible travel reach high risk; a known-bad IP is blocked at once', async () => {
    for (let i = 0; i < 5; i++) await send(failed('dist-user', `198.18.7.${i + 1}`));
    const dist = await eventually(async () => {
      const s = await subject('dist-user');
      return s.recent_decisions?.length === 5 && s.lock.lock_count === 1 && s;
    });
    expect(dist.recent_decisions[0]!.factors.map((f: { signal: string }) => f.signal)).toContain('account_many_ips');
    // Locks here last 1.2 s: the lock count shows it happened.
    expect(dist.lock.lock_count).toBe(1);

    const paris = { city: 'Paris', lat: 48.85, lon: 2.35 };
    const sydney = { city: 'Sydney', lat: -33.87, lon: 151.21 };
    await send(success('travel-user', '10.2.0.1', { device_fingerprint: 'phone', location: paris, occurred_at: new Date(Date.now() - 3_600_000).toISOString() }));
    await send(success('travel-user', '198.18.9.9', { device_fingerprint: 'unknown-pc', location: sydney }));
    const travel = await eventually(async () => {
      const s = await subject('travel-user');
      return s.recent_decisions?.length === 2 && s.lock.lock_count === 1 && s;
    });
    expect(travel.risk).toMatchObject({ level: 'high', action: 'block' });
    expect(travel.risk.factors.map((f: { signal: string }) => f.signal)).toEqual(expect.arrayContaining(['impossible_travel', 'new_device', 'new_network']));
    expect(travel.lock.lock_count).toBe(1);

    await send(success('bad-ip-user', '203.0.113.200'));
    const bad = await eventually(async () => (await subject('bad-ip-user')).risk);
    expect(bad.factors.map((f: { signal: string }) => f.signal)).toContain('known_bad_ip');
    expect(bad.level).toBe('high');
  }, 60_000);

  it('normal logins stay low: known home and work networks, a new phone, real travel', async () => {
    const london = { lat: 51.5, lon: -0.12 };
    const newYork = { lat: 40.7, lon: -74 };
    const t0 = Date.now() - 48 * 3_600_000;
    await send(success('normal-user', '10.3.0.2', { device_fingerprint: 'laptop', location: london, occurred_at: new Date(t0).toISOString() }));
    await send(success('normal-user', '10.4.0.9', { device_fingerprint: 'laptop', location: london, occurred_at: new Date(t0 + 9 * 3_600_000).toISOString() }));
    await send(success('normal-user', '10.3.0.2', { device_fingerprint: 'new-phone', location: london, occurred_at: new Date(t0 + 20 * 3_600_000).toISOString() }));
    // A flight: 5,570 km in 9 hours.
    await send(success('normal-user', '10.9.0.1', { device_fingerprint: 'laptop', location: newYork, occurred_at: new Date(t0 + 29 * 3_600_000).toISOString() }));
    const s = await eventually(async () => {
      const r = await subject('normal-user');
      return r.recent_decisions?.length === 4 && r;
    });
    expect(s.recent_decisions.map((d: { risk_level: string }) => d.risk_level)).toEqual(['low', 'low', 'low', 'low']);
    expect(s.lock.locked).toBe(false);
  }, 60_000);

  it('audit-only mode records the same decision and changes nothing else', async () => {
    await setSetting('risk.mode', 'audit_only');
    await settingsCacheExpired();
    try {
      const auditCalls = () => hook.calls.filter((c) => String(JSON.parse(c.body).user_id).startsWith('audit-')).length;
      for (let i = 0; i < 6; i++) await send(failed('audit-user', '198.18.12.1'));
      for (let i = 0; i < 10; i++) await send(failed(`audit-victim-${i}`, '198.18.12.2'));
      const rows = await eventually(async () => {
        const r = await queryRows<{ risk_level: string; risk_action: string; risk_mode: string }>(
          stack.clickhouse!,
          `SELECT risk_level, risk_action, risk_mode FROM failed_login_attempts WHERE user_id = 'audit-user' ORDER BY risk_score DESC LIMIT 1`,
        );
        const n = await queryRows<{ n: number }>(stack.clickhouse!, `SELECT count() AS n FROM failed_login_attempts WHERE user_id LIKE 'audit-%'`);
        return n[0]!.n === 16 && r;
      });
      expect(rows[0]).toMatchObject({ risk_action: 'block', risk_mode: 'audit_only' });
      await new Promise((r) => setTimeout(r, 1500));
      expect((await subject('audit-user')).lock.locked).toBe(false);
      const sideEffects = await queryRows<{ n: number }>(
        stack.clickhouse!,
        `SELECT (SELECT count() FROM security_events WHERE user_id LIKE 'audit-%') + (SELECT count() FROM rate_limit_violations WHERE ip_address IN ('198.18.12.1', '198.18.12.2')) AS n`,
      );
      expect(sideEffects[0]!.n).toBe(0);
      expect(auditCalls()).toBe(0);
      const blocked = await api(stack.url, 'POST', '/auth/login', { headers: { 'x-forwarded-for': '198.18.12.2' }, body: { email: 'nobody@example.com', password: 'x'.repeat(12) } });
      expect(blocked.status).toBe(401);
    } finally {
      await setSetting('risk.mode', 'enforce');
    }
  }, 60_000);

  it('scopes subjects to the calling app', async () => {
    const other = await createApiKey(ns, 'other-app', ['ingest', 'risk']);
    const res = await api(stack.url, 'GET', '/v1/subjects/bf-user', { headers: { authorization: `Bearer ${other}` } });
    expect(res.status).toBe(404);
    const noScope = await createApiKey(ns, 'ingest-only', ['ingest']);
    expect((await api(stack.url, 'GET', '/v1/subjects/bf-user', { headers: { authorization: `Bearer ${noScope}` } })).status).toBe(403);
  });
});

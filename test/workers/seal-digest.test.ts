import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { digestHolds } from '../../src/domain/seal-digest';
import { KeyRing } from '../../src/lib/key-ring';
import { SigningKey } from '../../src/lib/signing-key';
import { IntegrityVerifier } from '../../src/features/integrity/integrity-verifier';
import { SealDigestQuery } from '../../src/features/integrity/seal-digest-query';
import { ChainReader } from '../../src/features/integrity/chain-reader';
import { SealRepository } from '../../src/features/integrity/seal.repository';
import { EVENT_TABLES } from '../../src/schemas/event';
import { SEED_EVENTS, VERBATIM_SEED_ROWS } from '../fixtures/seed-events';
import { createApiKey, drainIngest, postEvents, startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

/**
 * The verifier's fast path: ClickHouse recomputes every row hash and sums up
 * each seal. It must agree with the row-by-row check on everything the
 * pipeline writes (or the fast path is useless), and it must never accept
 * what the row-by-row check refuses (the tamper tests in integrity.test.ts).
 */
const ns = createNamespace('seal-digest');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;
let pg: Pool;
let digests: SealDigestQuery;
let chain: ChainReader;
let verifier: IntegrityVerifier;

/** Every table's seals, each with whether ClickHouse's digest of its rows holds. */
async function digestVerdicts(): Promise<{ table: string; seq: number; holds: boolean }[]> {
  const verdicts: { table: string; seq: number; holds: boolean }[] = [];
  for (const table of Object.values(EVENT_TABLES)) {
    const seals = await chain.seals(table, 0);
    if (seals.length === 0) continue;
    const found = await digests.digests(table, seals[0]!.seq, seals[seals.length - 1]!.seq);
    for (const seal of seals) verdicts.push({ table, seq: seal.seq, holds: found.has(seal.seq) && digestHolds(seal, found.get(seal.seq)!) });
  }
  return verdicts;
}

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  key = await createApiKey(ns, 'digest-app', ['ingest']);
  pg = new Pool({ connectionString: ns.databaseUrl, max: 2 });
  const signing = SigningKey.load(undefined, `${ns.dataDir}/keys`);
  digests = new SealDigestQuery(stack.clickhouse!);
  chain = new ChainReader(stack.clickhouse!);
  verifier = new IntegrityVerifier(stack.clickhouse!, KeyRing.of(signing.publicKey), new SealRepository(pg, stack.clickhouse!));
});

afterAll(async () => {
  await pg?.end();
  await stack?.stop();
  await ns.cleanup();
});

describe('verification inside ClickHouse', () => {
  it('agrees with the row-by-row hashes on every seed shape and on awkward values', async () => {
    const seedEvents = Object.values(SEED_EVENTS).map((e) => ({ ...e, event_id: randomUUID(), id: undefined }));
    const verbatim = VERBATIM_SEED_ROWS.map(({ row }) => ({ ...row, id: undefined }));
    const awkward = [
      {
        kind: 'audit',
        event_type: 'profile_updated',
        event_id: randomUUID(),
        user_id: 'ü-ser "quoted" \\ back/slash',
        reason: 'tab\there, newline\nthere, control \u0001, DEL \u007f, emoji 🚀, accents éà',
        previous_value: { 'deep.key': 1, nested: { b: [1, 'two', null], a: -0.5 }, empty: {}, nothing: null },
        new_value: { n: 2.5, big: 12345678901, neg: -3, ok: false, at: '2026-11-22T03:37:49.948Z', day: '2026-11-22', list: [] },
        metadata: { path: '/a/b', 'x-y': 'dash', unicode: 'ℌ', 'it\'s "q" \\ `tick`': { "x')) OR 1=1 --": 1 } },
      },
      // Both a value and an object under one key, in different rows of the same seal.
      { kind: 'audit', event_type: 'profile_updated', event_id: randomUUID(), user_id: 'u-4', metadata: { a: 1 } },
      { kind: 'audit', event_type: 'profile_updated', event_id: randomUUID(), user_id: 'u-4', metadata: { a: { b: 2, c: [{ d: 1 }] } } },
      { kind: 'auth', event_type: 'login_failed', event_id: randomUUID(), user_id: 'u-1', ip_address: '10.0.0.1', location: { lat: 45.76, lon: 4.84, city: 'Lyon' }, details: {} },
      { kind: 'security', event_type: 'SUSPICIOUS_ACTIVITY', event_id: randomUUID(), severity_level: 'HIGH', event_description: 'x', metadata: { n: 1, s: 'a' } },
    ];
    const body = [...seedEvents, ...verbatim, ...awkward].map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)));
    const response = await postEvents(stack.url, key, body);
    expect([202, 207]).toContain(response.status);
    await drainIngest(stack, ns);

    const verdicts = await digestVerdicts();
    expect(verdicts.length).toBeGreaterThanOrEqual(5);
    expect(verdicts.filter((v) => !v.holds)).toEqual([]);
    expect((await verifier.verify()).ok).toBe(true);
  });

  it('agrees where a JSON column holds more paths than are built from subcolumns (printed whole instead)', async () => {
    const wide = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`k${i}`, i % 2 ? `v${i}` : i]));
    expect((await postEvents(stack.url, key, [{ kind: 'audit', event_type: 'profile_updated', event_id: randomUUID(), user_id: 'u-5', metadata: wide }])).status).toBe(202);
    await drainIngest(stack, ns);
    expect((await digestVerdicts()).filter((v) => !v.holds)).toEqual([]);
  });

  it('falls back to the row-by-row check where ClickHouse prints a value otherwise, and still verifies', async () => {
    // ClickHouse prints 1e21 as "1e21" and escapes U+2028; JSON.stringify gives "1e+21" and the raw character.
    const events = [
      { kind: 'audit', event_type: 'profile_updated', event_id: randomUUID(), user_id: 'u-2', new_value: { huge: 1e21 } },
      { kind: 'audit', event_type: 'profile_updated', event_id: randomUUID(), user_id: 'u-2', reason: 'line\u2028separator' },
    ];
    expect((await postEvents(stack.url, key, events)).status).toBe(202);
    await drainIngest(stack, ns);
    const failing = (await digestVerdicts()).filter((v) => !v.holds);
    expect(failing.length).toBeGreaterThan(0);
    expect(failing.every((v) => v.table === 'audit_logs')).toBe(true);
    const result = await verifier.verify();
    expect(result.tables.filter((t) => !t.ok)).toEqual([]);
  });

  it('stores integers past 64 bits inside JSON values (ClickHouse reads them as floats), and they verify', async () => {
    // JSON.stringify prints these as plain digits, which ClickHouse's default JSON parser refuses outright.
    const eventId = randomUUID();
    const metadata = { big: 168326442904487300000, negative: -1e20, list: [2 ** 64, 1], nested: { min: -(2 ** 63) - 4096 } };
    expect((await postEvents(stack.url, key, [{ kind: 'audit', event_type: 'profile_updated', event_id: eventId, user_id: 'u-6', metadata }])).status).toBe(202);
    await drainIngest(stack, ns);
    const rows = await (
      await stack.clickhouse!.query({
        query: `SELECT toJSONString(metadata) AS m FROM audit_logs WHERE event_id = {id:String}`,
        query_params: { id: eventId },
        format: 'JSONEachRow',
      })
    ).json<{ m: string }>();
    expect(rows.map((r) => JSON.parse(r.m))).toEqual([metadata]);
    const [dead] = await (await stack.clickhouse!.query({ query: 'SELECT count() AS n FROM dead_letter_events', format: 'JSONEachRow' })).json<{ n: string | number }>();
    expect(Number(dead!.n)).toBe(0);
    expect((await verifier.verify()).tables.filter((t) => !t.ok)).toEqual([]);
  });

  it('reads the first seals and the unsealed rows of every table in one query each, as the per-table reads give them', async () => {
    const tables = Object.values(EVENT_TABLES);
    const all = await chain.firstSeals(tables);
    // The seals made above span several flushes of several tables, so a limit of 1 or 2 cuts real pages.
    expect(Math.max(...tables.map((table) => all.get(table)!.length))).toBeGreaterThan(2);
    for (const [window, limit] of [
      [{}, 1],
      [{}, 2],
      [{}, 1000],
      [{ to: new Date(0) }, 1000],
    ] as const) {
      const pages = await chain.firstSeals(tables, window, limit);
      for (const table of tables) expect(pages.get(table)).toEqual(await chain.seals(table, 0, window, limit));
    }
    const unsealed = await chain.unsealedRows(tables);
    expect([...unsealed.keys()]).toEqual(tables);
    expect([...unsealed.values()].map((u) => u.count)).toEqual(tables.map(() => 0));
  });

  it('refuses a changed row in its digest, and the verifier names the row', async () => {
    const eventId = randomUUID();
    expect((await postEvents(stack.url, key, [{ kind: 'audit', event_type: 'profile_updated', event_id: eventId, user_id: 'u-3', new_value: { plan: 'free' } }])).status).toBe(202);
    await drainIngest(stack, ns);
    await stack.clickhouse!.command({
      query: `ALTER TABLE audit_logs UPDATE reason = 'edited' WHERE event_id = '${eventId}'`,
      clickhouse_settings: { mutations_sync: '2' },
    });
    const [sealSeq] = await (await stack.clickhouse!.query({ query: `SELECT seal_seq FROM audit_logs WHERE event_id = '${eventId}'`, format: 'JSONEachRow' })).json<{ seal_seq: string }>();
    const verdict = (await digestVerdicts()).find((v) => v.table === 'audit_logs' && v.seq === Number(sealSeq!.seal_seq));
    expect(verdict?.holds).toBe(false);
    const audit = (await verifier.verify()).tables.find((t) => t.table === 'audit_logs')!;
    expect(audit.first_break).toMatchObject({ kind: 'row_modified', event_id: eventId });
  });
});

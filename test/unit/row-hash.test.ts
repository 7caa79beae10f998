import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { canonicalJson } from '../../src/domain/canonical-json';
import { HASHED_COLUMNS, normalizedJson, normalizeForHash, RISK_COLUMNS, rowHash, rowHashByDefinition } from '../../src/domain/row-hash';
import { EVENT_TABLES } from '../../src/schemas/event';
import { auditRow } from './support/sealed-chain';

const row = {
  event_id: '2b0c3a62-3d4f-4b8e-9a61-6f0e1c2d3e4f',
  source_app: 'app',
  event_type: 'profile_updated',
  occurred_at: '2026-11-22 03:37:49.948',
  received_at: '2026-11-22 03:37:50.000',
  content_hash: 'c0ffee',
  user_id: 'u1',
  operation_status: 'SUCCESS',
  previous_value: { name: 'a', 'deep.key': 1 },
  new_value: { name: 'b', n: 2.5 },
};

describe('a row hash', () => {
  it('is SHA-256 of the row as canonical JSON, bound to its table, dotted keys as nested paths', () => {
    const text =
      '{"$table":"audit_logs","content_hash":"c0ffee","event_id":"2b0c3a62-3d4f-4b8e-9a61-6f0e1c2d3e4f","event_type":"profile_updated",' +
      '"new_value":{"n":2.5,"name":"b"},"occurred_at":"2026-11-22 03:37:49.948","operation_status":"SUCCESS",' +
      '"previous_value":{"deep":{"key":1},"name":"a"},"received_at":"2026-11-22 03:37:50.000","source_app":"app","user_id":"u1"}';
    expect(rowHash('audit_logs', row)).toBe(createHash('sha256').update(text).digest('hex'));
  });

  it('is the same for the row as written and as ClickHouse reads it back', () => {
    const readBack = {
      ...row,
      // JSON columns come back with dotted keys as nested objects, absent Nullable columns as null, empty maps as {}.
      previous_value: { deep: { key: 1 }, name: 'a' },
      action: null,
      reason: null,
      metadata: {},
      // The chain's own columns are not content.
      row_hash: 'x',
      previous_hash: 'y',
      seal_seq: 3,
      chain_index: 7,
    };
    expect(rowHash('audit_logs', readBack)).toBe(rowHash('audit_logs', row));
  });

  it('does not change when a column is added to the table later', () => {
    expect(rowHash('audit_logs', { ...row, tenant_id: 'acme' })).toBe(rowHash('audit_logs', row));
  });

  it('changes with any hashed column, at any depth', () => {
    const columns = Object.keys(row);
    fc.assert(
      fc.property(fc.constantFrom(...columns), fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant({ x: 1 })), (column, value) => {
        fc.pre(JSON.stringify(value) !== JSON.stringify(row[column as keyof typeof row]));
        expect(rowHash('audit_logs', { ...row, [column]: value })).not.toBe(rowHash('audit_logs', row));
      }),
    );
    expect(rowHash('audit_logs', { ...row, new_value: { name: 'b', n: 2.51 } })).not.toBe(rowHash('audit_logs', row));
    expect(rowHash('audit_logs', { ...row, new_value: { name: 'b', n: '2.5' } })).not.toBe(rowHash('audit_logs', row));
  });

  it('differs between tables for the same content', () => {
    expect(rowHash('security_events', row)).not.toBe(rowHash('audit_logs', row));
  });

  it('refuses a table it has no columns for', () => {
    expect(() => rowHash('audit_logs_v2', row)).toThrow('no hash columns for table audit_logs_v2');
  });

  it('covers the envelope of every event table, and the risk decision of auth and failed_login rows only', () => {
    for (const table of Object.values(EVENT_TABLES)) {
      const columns = HASHED_COLUMNS.get(table)!;
      expect(columns).toEqual(expect.arrayContaining(['event_id', 'source_app', 'event_type', 'occurred_at', 'received_at', 'content_hash']));
      expect(columns).toEqual([...columns].sort());
      const scored = table === 'auth_audit_log' || table === 'failed_login_attempts';
      expect({ table, risk: RISK_COLUMNS.every((c) => columns.includes(c)) }).toEqual({ table, risk: scored });
    }
  });

  it('seals a risk score: changing it afterwards changes the hash', () => {
    const auth = { ...row, event_type: 'login_failed', risk_score: 35, risk_level: 'medium', risk_factors: { failed_attempt: 5, new_device: 30 } };
    expect(rowHash('auth_audit_log', { ...auth, risk_score: 5 })).not.toBe(rowHash('auth_audit_log', auth));
    expect(rowHash('auth_audit_log', { ...auth, risk_factors: { failed_attempt: 5 } })).not.toBe(rowHash('auth_audit_log', auth));
  });

  it('hashes a row built by the ingest path', () => {
    expect(rowHash('audit_logs', auditRow(1))).toMatch(/^[0-9a-f]{64}$/);
    expect(rowHash('audit_logs', auditRow(1))).not.toBe(rowHash('audit_logs', auditRow(2)));
  });
});

describe('normalizeForHash: one value, however ClickHouse spells it', () => {
  it('treats null, absent and empty objects alike', () => {
    expect(normalizeForHash(null)).toBeUndefined();
    expect(normalizeForHash({})).toBeUndefined();
    expect(normalizeForHash({ a: null, b: { c: null } })).toBeUndefined();
  });

  it('keeps nulls inside arrays, where position matters', () => {
    expect(normalizeForHash([1, null, undefined, { a: null }])).toEqual([1, null, null, undefined]);
  });

  it('merges dotted keys and nested objects into one tree', () => {
    expect(normalizeForHash({ 'a.b': 1, a: { c: 2 }, 'a.d.e': 3 })).toEqual({ a: { b: 1, c: 2, d: { e: 3 } } });
  });

  it('keeps scalars, including 0, false and the empty string', () => {
    expect([0, false, '', 'x'].map(normalizeForHash)).toEqual([0, false, '', 'x']);
  });
});

describe('rowHash, built in one pass', () => {
  const json = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined), tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 3 }),
    object: fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('a', 'a.b', 'a.b.c', 'x-y')), tie('value'), { maxKeys: 4 }),
  }));

  it('agrees with the definition (canonical JSON of the content object) on any row of any table', () => {
    const tables = [...HASHED_COLUMNS.keys()];
    fc.assert(
      fc.property(fc.constantFrom(...tables), fc.array(fc.tuple(fc.nat(40), json.value), { maxLength: 30 }), (table, cells) => {
        const columns = HASHED_COLUMNS.get(table)!;
        const row: Record<string, unknown> = { not_hashed: 'x' };
        for (const [i, value] of cells) row[columns[i % columns.length]!] = value;
        expect(rowHash(table, row)).toBe(rowHashByDefinition(table, row));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes any value as the canonical JSON of its normalized copy, in one pass', () => {
    const twoPass = (value: unknown) => {
      const normalized = normalizeForHash(value);
      return normalized === undefined ? undefined : canonicalJson(normalized);
    };
    fc.assert(
      fc.property(json.value, (value) => {
        expect(normalizedJson(value)).toBe(twoPass(value));
      }),
      { numRuns: 5000 },
    );
    // An own __proto__ key, as JSON.parse makes it: the copy cannot hold it as a key, and the one pass must agree.
    const hostile = JSON.parse('{"__proto__": {"polluted": 1}, "b": {"__proto__": 2, "c": 3}}') as unknown;
    expect(normalizedJson(hostile)).toBe(twoPass(hostile));
  });

  it('agrees on rows as JSON.parse and a spread make them, own __proto__ key included', () => {
    const parsed = JSON.parse(`{"__proto__": {"user_id": "x"}, "event_id": "e1", "metadata": {"a.b": 1}, "user_id": null, "zzz": 1}`) as Record<string, unknown>;
    expect(rowHash('audit_logs', parsed)).toBe(rowHashByDefinition('audit_logs', parsed));
    const spread = { ...row, not_hashed: 1, user_id: undefined };
    expect(rowHash('audit_logs', spread)).toBe(rowHashByDefinition('audit_logs', spread));
  });

  it('agrees on a Date value, which the definition leaves out', () => {
    expect(rowHash('audit_logs', { ...row, metadata: new Date() })).toBe(rowHashByDefinition('audit_logs', { ...row, metadata: new Date() }));
  });
});

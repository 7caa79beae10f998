import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { canonicalJson, quotedKeyCacheSize, sortedKeys } from '../../src/domain/canonical-json';
import { sha256Hex } from '../../src/domain/sha256';

/** The same value with every object's keys in another order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reversedKeys(v)]),
  );
}

/** The plain recursive form: stored hashes were taken over these bytes, so every speed-up must write exactly them. */
function referenceCanonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : referenceCanonicalJson(v))).join(',')}]`;
  const record = value as Record<string, unknown>;
  const members = Object.keys(record)
    .sort()
    .filter((k) => record[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${referenceCanonicalJson(record[k])}`);
  return `{${members.join(',')}}`;
}

describe('canonical JSON: equal content gives equal bytes', () => {
  it('keeps a bounded number of short quoted keys, whatever keys a hostile app sends', () => {
    const long = 'k'.repeat(100_000);
    const before = quotedKeyCacheSize();
    expect(canonicalJson({ [long]: 1 })).toBe(`{"${long}":1}`);
    // A long key is quoted each time, never kept.
    expect(quotedKeyCacheSize()).toBe(before);
    for (let i = 0; i < 10_000; i++) canonicalJson({ [`key-${i}`]: i });
    expect(quotedKeyCacheSize()).toBeLessThanOrEqual(4096);
    expect(canonicalJson({ 'key-9999': 1, 'key-0': 2 })).toBe('{"key-0":2,"key-9999":1}');
  });

  it('writes exactly the bytes of the plain recursive form, past the quoted-key cache too', () => {
    const value = fc.oneof(fc.jsonValue(), fc.date({ noInvalidDate: true }), fc.constant(undefined), fc.double(), fc.string());
    const objects = fc.dictionary(fc.string(), fc.oneof(value, fc.array(value), fc.dictionary(fc.string(), value)), { maxKeys: 40 });
    fc.assert(
      fc.property(objects, (o) => canonicalJson(o) === referenceCanonicalJson(o)),
      { numRuns: 500 },
    );
  });

  it('sorts the keys of short and long objects exactly as Array#sort does, integer-like keys and surrogates included', () => {
    const key = fc.oneof(fc.string(), fc.nat().map(String), fc.string({ unit: 'binary', maxLength: 3 }));
    fc.assert(
      fc.property(fc.dictionary(key, fc.constant(1), { maxKeys: 120 }), (o) => {
        expect(sortedKeys(o)).toEqual(Object.keys(o).sort());
      }),
      { numRuns: 500 },
    );
  });

  it('sorts a hostile object of 50,000 keys in n log n, not by insertion', () => {
    const many = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${50_000 - i}`, i]));
    const started = performance.now();
    const keys = sortedKeys(many);
    // Insertion sort of these (reversed) keys would make over a billion comparisons: many seconds, not milliseconds.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(keys).toEqual(Object.keys(many).sort());
  });

  it('sorts keys at every level and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
  });

  it('gives the same text whatever order the keys were sent in', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => canonicalJson(reversedKeys(value)) === canonicalJson(value)));
  });

  it('reads back as the same value JSON.stringify would give', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('orders keys by UTF-16 code unit, upper case before lower case, so stored hashes never move', () => {
    // 'Z' (0x5a) < 'a' (0x61) < 'é' (0xe9) < '😀' (0xd83d…) < 'ﬀ' (0xfb00): code point order would put the emoji last.
    expect(canonicalJson({ ﬀ: 5, '😀': 4, é: 3, a: 2, Z: 1 })).toBe('{"Z":1,"a":2,"é":3,"😀":4,"ﬀ":5}');
    expect(canonicalJson({ a10: 1, a9: 2, a: 3, '': 4 })).toBe('{"":4,"a":3,"a10":1,"a9":2}');
  });

  it('keeps non-ASCII text as it is and escapes only what JSON requires', () => {
    expect(canonicalJson({ name: 'Zoë 東京 😀', ctl: '"\\\n\t\u0001' })).toBe('{"ctl":"\\"\\\\\\n\\t\\u0001","name":"Zoë 東京 😀"}');
    // A lone surrogate is escaped, so the text is valid UTF-8 and hashes one way.
    expect(canonicalJson('\ud800')).toBe('"\\ud800"');
  });

  it('writes numbers as JavaScript does: -0 as 0, no trailing zeros, exponents past 1e21', () => {
    expect(canonicalJson([-0, 0, 1.0, 2.5, 0.1, 1e21, 1e-7, -12, 2 ** 53])).toBe('[0,0,1,2.5,0.1,1e+21,1e-7,-12,9007199254740992]');
    expect(canonicalJson({ n: -0 })).toBe(canonicalJson({ n: 0 }));
  });

  it('writes numbers JSON cannot hold as null', () => {
    expect(canonicalJson([NaN, Infinity, -Infinity])).toBe('[null,null,null]');
  });

  it('leaves out undefined members, and writes an undefined array item as null', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson({ a: undefined })).toBe('{}');
    expect(canonicalJson([undefined, 1, [undefined]])).toBe('[null,1,[null]]');
    expect(canonicalJson(undefined)).toBe('null');
    // So an absent member and an undefined one are the same content; null is not.
    expect(canonicalJson({ a: undefined, b: 1 })).toBe(canonicalJson({ b: 1 }));
    expect(canonicalJson({ a: null, b: 1 })).not.toBe(canonicalJson({ b: 1 }));
  });

  it('keeps array order, at every depth', () => {
    expect(canonicalJson([[3, [2, 1]], [], [{}], { a: [[]] }])).toBe('[[3,[2,1]],[],[{}],{"a":[[]]}]');
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });

  it('writes a Date as its ISO 8601 instant, at any depth', () => {
    const at = new Date('2026-11-22T03:37:49.948Z');
    expect(canonicalJson({ at, list: [at] })).toBe('{"at":"2026-11-22T03:37:49.948Z","list":["2026-11-22T03:37:49.948Z"]}');
  });

  it('writes top-level scalars as JSON', () => {
    expect([null, true, false, 'x', 7].map(canonicalJson)).toEqual(['null', 'true', 'false', '"x"', '7']);
  });
});

describe('sha256Hex', () => {
  it('is SHA-256 of the UTF-8 text, in lower-case hex', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('é')).toBe(
      createHash('sha256')
        .update(Buffer.from([0xc3, 0xa9]))
        .digest('hex'),
    );
  });
});

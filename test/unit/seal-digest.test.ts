import { digestHolds, type SealDigest } from '../../src/domain/seal-digest';
import { columnJsonExpression } from '../../src/features/integrity/seal-digest-query';
import { jsonTextExpression, MAX_BUILT_PATHS } from '../../src/features/integrity/json-text-expression';
import { auditRow, newKey, sealedChain } from './support/sealed-chain';

const key = newKey();
const { seals } = sealedChain('audit_logs', [[auditRow(1), auditRow(2), auditRow(3)]], key);
const seal = seals[0]!;
const exact: SealDigest = {
  seal_seq: seal.seq,
  rows: seal.row_count,
  bad_hashes: 0,
  indexes_ok: true,
  links_ok: true,
  first_previous_hash: seal.first_previous_hash,
  last_hash: seal.last_hash,
  rows_root: seal.rows_root,
};

describe('digestHolds', () => {
  it('holds for a digest that matches the seal in every part', () => {
    expect(digestHolds(seal, exact)).toBe(true);
  });

  it.each<[string, Partial<SealDigest>]>([
    ['a row missing', { rows: seal.row_count - 1 }],
    ['a row added', { rows: seal.row_count + 1 }],
    ['a row whose hash is not its content', { bad_hashes: 1 }],
    ['chain indexes not 0..n-1', { indexes_ok: false }],
    ['a row not linked to the one before', { links_ok: false }],
    ['a chain that starts elsewhere', { first_previous_hash: 'f'.repeat(64) }],
    ['a chain that ends elsewhere', { last_hash: 'f'.repeat(64) }],
    ['another root', { rows_root: 'f'.repeat(64) }],
  ])('fails for %s', (_, change) => {
    expect(digestHolds(seal, { ...exact, ...change })).toBe(false);
  });
});

describe('columnJsonExpression', () => {
  it('leaves out what normalizeForHash leaves out: NULL, an empty map, a JSON value with no path', () => {
    expect(columnJsonExpression('reason', 'Nullable(String)')).toMatch(/^if\(isNull\(`reason`\), '', /);
    expect(columnJsonExpression('risk_factors', 'Map(LowCardinality(String), UInt8)')).toMatch(/^if\(empty\(`risk_factors`\), '', .*mapSort/);
    expect(columnJsonExpression('metadata', 'Nullable(JSON)')).toContain("= '{}', '', ");
  });

  it('prints numbers and booleans bare and everything else as a JSON string', () => {
    expect(columnJsonExpression('risk_score', 'UInt8')).toBe('concat(\',"risk_score":\', toString(`risk_score`))');
    expect(columnJsonExpression('is_resolved', 'Bool')).toContain('toString(`is_resolved`)');
    expect(columnJsonExpression('event_id', 'UUID')).toContain('toJSONString(toString(`event_id`))');
    expect(columnJsonExpression('occurred_at', "DateTime64(3, 'UTC')")).toContain('toJSONString(toString(`occurred_at`))');
  });
});

describe('jsonTextExpression', () => {
  it('builds the object from the paths, keys in canonical order and nested', () => {
    const sql = jsonTextExpression('metadata', ['b', 'a.y', 'a.x']);
    expect(sql.indexOf(`'"a":'`)).toBeLessThan(sql.indexOf(`'"b":'`));
    expect(sql.indexOf(`'"x":'`)).toBeLessThan(sql.indexOf(`'"y":'`));
    expect(sql).toContain("getSubcolumn(`metadata`, 'a.x')");
  });

  it('quotes any path as a SQL string', () => {
    const sql = jsonTextExpression('metadata', ["it's \\ x"]);
    expect(sql).toContain("getSubcolumn(`metadata`, 'it\\'s \\\\ x')");
  });

  it('prints the value whole past MAX_BUILT_PATHS paths, when the paths are unknown, or for an empty key', () => {
    const many = Array.from({ length: MAX_BUILT_PATHS + 1 }, (_, i) => `k${i}`);
    for (const paths of [many, undefined, ['a..b']]) expect(jsonTextExpression('metadata', paths)).toContain('toJSONString(`metadata`)');
  });
});

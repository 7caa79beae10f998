import { digestHolds, type SealDigest } from '../../src/domain/seal-digest';
import { columnJsonExpression } from '../../src/features/integrity/seal-digest-query';
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
    expect(columnJsonExpression('metadata', 'Nullable(JSON)')).toMatch(/^if\(empty\(JSONAllPaths\(`metadata`\)\), '', /);
  });

  it('prints numbers and booleans bare and everything else as a JSON string', () => {
    expect(columnJsonExpression('risk_score', 'UInt8')).toBe('concat(\',"risk_score":\', toString(`risk_score`))');
    expect(columnJsonExpression('is_resolved', 'Bool')).toContain('toString(`is_resolved`)');
    expect(columnJsonExpression('event_id', 'UUID')).toContain('toJSONString(toString(`event_id`))');
    expect(columnJsonExpression('occurred_at', "DateTime64(3, 'UTC')")).toContain('toJSONString(toString(`occurred_at`))');
  });
});

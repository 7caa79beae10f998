import { hostileJsonProblem, MAX_JSON_DEPTH } from '../../src/http/hostile-json';

/** `depth` arrays, one inside the other, around `inner`. */
function nested(depth: number, inner: unknown = 1): unknown {
  let value = inner;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('hostileJsonProblem', () => {
  it('passes ordinary JSON, surrogate pairs included', () => {
    expect(hostileJsonProblem({ a: [1, 'two', { 'emoji 😀': 'Zoë 東京 😀' }], b: null, c: true })).toBeNull();
  });

  it('names the path of a bad string, through objects and arrays', () => {
    expect(hostileJsonProblem({ metadata: { tags: ['ok', 'bad\u0000'] } })).toEqual({ path: 'metadata.tags.1', message: 'holds a NUL character (\\u0000)' });
    expect(hostileJsonProblem({ reason: 'half \uD83D of an emoji' })).toEqual({ path: 'reason', message: 'holds a lone UTF-16 surrogate (not valid Unicode)' });
    expect(hostileJsonProblem('\uDE00')).toEqual({ path: '', message: 'holds a lone UTF-16 surrogate (not valid Unicode)' });
  });

  it('names the object that holds a bad key', () => {
    expect(hostileJsonProblem({ new_value: { 'k\u0000': 1 } })).toEqual({ path: 'new_value', message: 'has a key that holds a NUL character (\\u0000)' });
  });

  it(`allows ${MAX_JSON_DEPTH} levels and refuses one more, however deep the body goes, without overflowing the stack`, () => {
    expect(hostileJsonProblem(nested(MAX_JSON_DEPTH))).toBeNull();
    expect(hostileJsonProblem(nested(MAX_JSON_DEPTH + 1))?.message).toBe(`is nested deeper than ${MAX_JSON_DEPTH} levels`);
    expect(hostileJsonProblem(nested(200_000))).toEqual({ path: Array(MAX_JSON_DEPTH).fill('0').join('.'), message: `is nested deeper than ${MAX_JSON_DEPTH} levels` });
  });
});

import { hostileJsonProblem, MAX_JSON_DEPTH } from '../../src/lib/hostile-json-value';

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

describe('hostileJsonProblem and integers beyond 2^53', () => {
  const lossy = { path: 'metadata.order_id', message: 'is an integer a double cannot hold exactly (it reads as 9007199254740992); send it as a string' };

  it('asks the text only for a value holding an integer beyond 2^53, and reports what it finds', () => {
    const lossyNumber = jest.fn(() => lossy);
    expect(hostileJsonProblem({ a: [1, 2 ** 53 - 1, -(2 ** 53 - 1), 1.5, 0.1, 'x', null] }, { lossyNumber })).toBeNull();
    expect(lossyNumber).not.toHaveBeenCalled();
    expect(hostileJsonProblem({ metadata: { order_id: 2 ** 53 } }, { lossyNumber })).toEqual(lossy);
    expect(hostileJsonProblem([{ n: -1e20 }], { lossyNumber })).toEqual(lossy);
    expect(lossyNumber).toHaveBeenCalledTimes(2);
  });

  it('asks once, however many such integers the value holds, and passes the value when the text holds none altered', () => {
    const lossyNumber = jest.fn(() => null);
    expect(hostileJsonProblem({ a: 1e20, b: [2 ** 60, 2 ** 61] }, { lossyNumber })).toBeNull();
    expect(lossyNumber).toHaveBeenCalledTimes(1);
  });

  it('reports another problem first, without reading the text', () => {
    const lossyNumber = jest.fn(() => lossy);
    expect(hostileJsonProblem({ a: 2 ** 60, b: 'x\u0000' }, { lossyNumber })).toEqual({ path: 'b', message: 'holds a NUL character (\\u0000)' });
    expect(lossyNumber).not.toHaveBeenCalled();
  });

  it('passes such an integer when there is no text to read (a value not parsed from JSON, or checked already)', () => {
    expect(hostileJsonProblem({ n: 2 ** 60 })).toBeNull();
  });
});

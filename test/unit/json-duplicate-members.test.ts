import { duplicateMember } from '../../src/lib/json-duplicate-members';

describe('duplicateMember', () => {
  it('finds a key an object holds twice, at any depth, escaped or spaced', () => {
    expect(duplicateMember('{"a":1,"a":{"b":2}}')).toBe('a');
    expect(duplicateMember('{"x":[{"k":1},{"k":2,"k":3}]}')).toBe('k');
    expect(duplicateMember('{ "t\\u006fp" : 1 , "top" : 2 }')).toBe('top');
  });

  it('takes the same key in different objects, and keys inside strings, for what they are', () => {
    expect(duplicateMember('{"a":{"k":1},"b":{"k":1},"s":"\\"a\\":1,\\"a\\":2","l":["a","a"]}')).toBeNull();
  });
});

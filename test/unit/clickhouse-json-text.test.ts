import fc from 'fast-check';
import { clickHouseJson } from '../../src/lib/clickhouse-json-text';

describe('clickHouseJson', () => {
  it('writes integers past 64 bits with an exponent, as the same double', () => {
    const value = { big: 2 ** 64, e20: 1e20, negative: -(2 ** 63), list: [1, -1e20, 168326442904487300000], nested: { x: 999999999999999900000 } };
    const text = clickHouseJson(value);
    expect(text).toBe('{"big":1.8446744073709552e+19,"e20":1e+20,"negative":-9.223372036854776e+18,"list":[1,-1e+20,1.683264429044873e+20],"nested":{"x":9.999999999999999e+20}}');
    expect(JSON.parse(text)).toEqual(value);
  });

  it('leaves every integer simdjson reads as Int64 or UInt64 as it is, and larger doubles JavaScript already writes with an exponent', () => {
    const value = [2 ** 63, 2 ** 64 - 2048, -(2 ** 63) + 1024, 9007199254740993n.toString(), 1e21, 1234567890123456800];
    expect(clickHouseJson(value)).toBe(JSON.stringify(value));
  });

  it('is JSON.stringify for everything else, a string of many digits included', () => {
    const value = { id: '12345678901234567890123', at: new Date(0), skip: undefined, list: [undefined, null, true, 0.48234350983390195], 'k:1234567890123456789': 'x' };
    expect(clickHouseJson(value)).toBe(JSON.stringify(value));
  });

  it('reads back as the value JSON.stringify would give, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.double({ min: -1e21, max: 1e21, noNaN: true }), (value, n) => {
        const doc = { value, wide: Math.trunc(n) };
        expect(JSON.parse(clickHouseJson(doc))).toEqual(JSON.parse(JSON.stringify(doc)));
      }),
    );
  });
});

/**
 * JSON text for ClickHouse's input formats: what JSON.stringify writes, except
 * that an integer outside the 64-bit range is written in exponent form
 * (100000000000000000000 → 1e+20).
 *
 * ClickHouse parses JSON columns with simdjson, which refuses a whole value
 * holding an integer literal past 64 bits (ClickHouse#81132), and JavaScript
 * writes every double below 1e21 as an integer literal. The exponent form is
 * the same double, so ClickHouse stores and prints the same value. The other
 * parser (`allow_simdjson=0`) accepts such literals but reads about one
 * full-precision double in ten as its neighbour: the stored value would differ
 * from the one sent, and from its row's hash.
 */
export function clickHouseJson(value: unknown): string {
  const text = JSON.stringify(value);
  // Only a number token of 19 or more digits can be out of range (−2^63 has 19); a quick
  // test that a string's text may also pass, which only costs the exact pass below.
  return MAYBE_WIDE_INTEGER.test(text) ? (write(value) ?? text) : text;
}

const MAYBE_WIDE_INTEGER = /[:,[]-?\d{19}/;

/** Past what simdjson reads as Int64 or UInt64; from 1e21 on JavaScript writes an exponent itself. */
function isWideInteger(n: number): boolean {
  return Number.isInteger(n) && (n >= 2 ** 64 || n <= -(2 ** 63)) && Math.abs(n) < 1e21;
}

/** JSON.stringify's output for plain JSON data (what a parsed request holds), with wide integers in exponent form. */
function write(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return isWideInteger(value) ? value.toExponential() : JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map((v) => write(v) ?? 'null').join(',')}]`;
      const toJson = (value as { toJSON?: () => unknown }).toJSON;
      if (typeof toJson === 'function') return write(toJson.call(value));
      const members: string[] = [];
      for (const key of Object.keys(value)) {
        const member = write((value as Record<string, unknown>)[key]);
        if (member !== undefined) members.push(`${JSON.stringify(key)}:${member}`);
      }
      return `{${members.join(',')}}`;
    }
    default:
      // undefined, functions and symbols: left out, as JSON.stringify leaves them.
      return undefined;
  }
}

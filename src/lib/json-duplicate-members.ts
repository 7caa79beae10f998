/**
 * The first key that an object in a JSON text holds twice, or null.
 * JSON.parse keeps the last of two members silently, while a person reading
 * the text, and parsers that keep the first, see the other: a signed report
 * naming a member twice says two things, and only one was checked. ClickHouse
 * prints a JSON value holding both a path and a path below it (`a` and `a.b`)
 * as `{"a":1,"a":{"b":2}}`, and a Map with a repeated key likewise, so a check
 * of the parsed row never sees the first. The text must be valid JSON (one
 * JSON.parse accepted). One pass, no recursion.
 */
export function duplicateMember(text: string): string | null {
  const objects: (Set<string> | null)[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === BACKSLASH) j += 2;
        else if (d === QUOTE) break;
        else j++;
      }
      const keys = objects[objects.length - 1];
      if (keys) {
        let k = j + 1;
        while (k < n && isSpace(text.charCodeAt(k))) k++;
        if (text.charCodeAt(k) === COLON) {
          const raw = text.slice(i + 1, j);
          const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
          if (keys.has(key)) return key;
          keys.add(key);
        }
      }
      i = j;
    } else if (c === OPEN_BRACE) objects.push(new Set());
    else if (c === OPEN_BRACKET) objects.push(null);
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) objects.pop();
  }
  return null;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

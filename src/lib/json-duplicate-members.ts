/** An open object (its keys so far, the last one read) or array of the scan. */
interface Frame {
  keys: Set<string> | null;
  last: string;
  path: string[];
}

/**
 * The first member a JSON text names twice in one object, as a path
 * (`content.failed_logins`), or null when there is none. JSON.parse keeps
 * the last of two members silently, while a person reading the file, and
 * parsers that keep the first, see the other: a signed document with such a
 * member says two things, and only one of them was checked. The text must be
 * one JSON.parse accepted. One pass with an explicit stack (no recursion).
 */
export function duplicateMember(text: string): string | null {
  const stack: Frame[] = [];
  /** Whether the next string token is a key of the current object. */
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '[') {
      const top = stack[stack.length - 1];
      stack.push({ keys: c === '{' ? new Set() : null, last: '[]', path: top ? [...top.path, top.last] : [] });
      expectKey = c === '{';
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      expectKey = stack[stack.length - 1]?.keys != null;
    } else if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top?.keys) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) return [...top.path, key].join('.');
        top.keys.add(key);
        top.last = key;
        expectKey = false;
      }
      i = end;
    }
  }
  return null;
}

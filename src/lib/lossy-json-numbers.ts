/**
 * JSON integers a double cannot hold. JSON.parse reads every number as a
 * double, so 9007199254740993 becomes 9007199254740992 and
 * 12345678901234567890123 becomes 1.2345678901234568e+22: stored, that is a
 * value the client never sent. Only the source text can tell, and Node 20's
 * JSON.parse does not give it (the reviver's `context.source` came with V8
 * 11.4), so this scans the text itself, and only when the parsed value holds
 * an integer beyond 2^53 (isUnsafeInteger): no other double can be one.
 */

/** A number token of a JSON text that does not survive JSON.parse, and where it is. */
export interface LossyNumber {
  /** Object keys and array indexes from the root, as hostileJsonProblem spells a path. */
  path: string[];
  /** What JSON.parse reads instead. */
  reads: number;
}

/** An integer beyond ±(2^53 − 1): below it a double holds every integer exactly, so only such a number may have lost digits. */
export function isUnsafeInteger(n: number): boolean {
  return (n > Number.MAX_SAFE_INTEGER || n < -Number.MAX_SAFE_INTEGER) && Number.isFinite(n);
}

/**
 * Whether a JSON number token is an integer literal that the double it parses
 * to differs from: `9007199254740993`, `12345678901234567890123`. Only integer
 * literals are judged, and not a double's own shortest spelling
 * (`18446744073709552000`); a number written with a fraction or an exponent
 * (`0.1`, `6.02e23`, `1.2345678901234568e+22`, which is how JavaScript writes a
 * large double back) is a float by its sender's own spelling, and its
 * rounding is what a JSON number means.
 */
export function isLossyInteger(token: string): boolean {
  const reads = Number(token);
  // The common case ends here; non-finite numbers are refused as such (hostileJsonProblem).
  if (!isUnsafeInteger(reads)) return false;
  if (!INTEGER_LITERAL.test(token)) return false;
  // A double's own shortest spelling: JavaScript and Go write 2^64 as 18446744073709552000. Sent back as it was
  // received, it reads as the same double and is written out as the same text: nothing is altered.
  if (String(reads) === token) return false;
  return BigInt(token) !== BigInt(reads);
}

const INTEGER_LITERAL = /^-?\d+$/;

/** A frame of the scan: an array and the index of its current element, or an object and where its current key's string token is. */
interface Frame {
  array: boolean;
  index: number;
  keyStart: number;
  keyEnd: number;
}

/**
 * Every number token of a JSON text (one JSON.parse has accepted) that
 * isLossyInteger, with its path. One pass and an explicit stack, so a deep
 * text cannot overflow the call stack; keys are decoded only for a path
 * reported. A key a later duplicate overrides is scanned like any other.
 */
export function lossyJsonNumbers(text: string): LossyNumber[] {
  const found: LossyNumber[] = [];
  const stack: Frame[] = [];
  // In an object, after `{` or `,`: the next string is a key.
  let keyNext = false;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    switch (c) {
      case QUOTE: {
        const end = endOfString(text, i);
        const top = stack.at(-1);
        if (keyNext && top) {
          top.keyStart = i;
          top.keyEnd = end;
        }
        keyNext = false;
        i = end;
        continue;
      }
      case OPEN_BRACE:
      case OPEN_BRACKET:
        stack.push({ array: c === OPEN_BRACKET, index: 0, keyStart: -1, keyEnd: -1 });
        keyNext = c === OPEN_BRACE;
        break;
      case CLOSE_BRACE:
      case CLOSE_BRACKET:
        stack.pop();
        keyNext = false;
        break;
      case COMMA: {
        const top = stack.at(-1);
        if (top?.array) top.index++;
        keyNext = top !== undefined && !top.array;
        break;
      }
      case COLON:
        keyNext = false;
        break;
      default:
        if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) {
          let end = i + 1;
          while (end < text.length && isNumberPart(text.charCodeAt(end))) end++;
          const token = text.slice(i, end);
          if (isLossyInteger(token)) found.push({ path: pathOf(stack, text), reads: Number(token) });
          i = end;
          continue;
        }
      // Whitespace, and the letters of true, false and null, change nothing.
    }
    i++;
  }
  return found;
}

/** Where the string token opened at `start` ends (just past its closing quote): a quote after an odd run of backslashes is escaped. */
function endOfString(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote === -1) return text.length;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

function pathOf(stack: Frame[], text: string): string[] {
  return stack.map((frame) => (frame.array ? String(frame.index) : (JSON.parse(text.slice(frame.keyStart, frame.keyEnd)) as string)));
}

function isNumberPart(c: number): boolean {
  return (c >= DIGIT_0 && c <= DIGIT_9) || c === DOT || c === LOWER_E || c === UPPER_E || c === PLUS || c === MINUS;
}

/**
 * Whether a parsed JSON value holds an integer beyond 2^53 anywhere: the cheap
 * test before lossyJsonNumbers, for values hostileJsonProblem does not walk.
 * An explicit stack, so a deep value cannot overflow the call stack.
 */
export function holdsUnsafeInteger(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const v = pending.pop();
    if (typeof v === 'number') {
      if (isUnsafeInteger(v)) return true;
    } else if (typeof v === 'object' && v !== null) {
      for (const member of Array.isArray(v) ? v : Object.values(v)) pending.push(member);
    }
  }
  return false;
}

/** The first lossy number of a JSON text as a refusal (its dotted path and message), or null; call it only for a value that holds an integer beyond 2^53. */
export function firstLossyNumber(text: string): { path: string; message: string } | null {
  const lossy = lossyJsonNumbers(text)[0];
  return lossy ? refusalOf(lossy) : null;
}

/** A lossy number as a refusal: its dotted path (less the first `skip` keys, for an element of a batch) and message. */
export function refusalOf(lossy: LossyNumber, skip = 0): { path: string; message: string } {
  return { path: lossy.path.slice(skip).join('.'), message: lossyNumberMessage(lossy.reads) };
}

/** The refusal's message, after the path: what was read, and what to do instead. */
export function lossyNumberMessage(reads: number): string {
  return `is an integer a double cannot hold exactly (it reads as ${String(reads)}); send it as a string`;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

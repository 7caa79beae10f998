import type { IncomingMessage } from 'node:http';
import type { LossyNumberCheck } from '../lib/hostile-json-value';
import { firstLossyNumber, type LossyNumber, lossyJsonNumbers, refusalOf } from '../lib/lossy-json-numbers';

/** A problem as hostileJsonProblem reports one: the path of the field, and what is wrong with it. */
type Problem = NonNullable<ReturnType<LossyNumberCheck>>;

/** What lossyNumberIn answers when it cannot read the text back: the integer may be exact, but nothing can tell. */
const UNREADABLE: Problem = { path: '', message: 'holds an integer beyond 2^53 that cannot be checked in this charset; send it as a string, or the body as UTF-8' };

const bodies = new WeakMap<IncomingMessage, { bytes: Buffer; encoding: string | null }>();

/** Keeps a JSON body's bytes (body-parser's verify sees them; the parser drops them) for the rare request whose value needs its text. */
export function keepJsonBody(req: IncomingMessage, bytes: Buffer, encoding: string | null): void {
  bodies.set(req, { bytes, encoding });
}

/** The text of a JSON body kept by keepJsonBody, decoded as body-parser decoded it; undefined for none, or a charset TextDecoder lacks (UTF-32). */
function textOfBody(req: IncomingMessage): string | undefined {
  const body = bodies.get(req);
  if (!body) return undefined;
  try {
    return new TextDecoder(body.encoding ?? 'utf-8').decode(body.bytes);
  } catch {
    return undefined;
  }
}

/** The first lossy number of a JSON text, with its path; the text is scanned, so call it only for a value that holds an integer beyond 2^53. */
export function lossyNumberIn(text: string | undefined): Problem | null {
  return text === undefined ? UNREADABLE : firstLossyNumber(text);
}

/**
 * The checks of the value of a JSON body, or of each element of the array it
 * holds (the events of a batch, each with paths of its own). The text is read
 * and scanned once, on the first ask, however many events ask.
 */
export class JsonBodySource {
  private found: LossyNumber[] | null | undefined;

  constructor(private readonly req: IncomingMessage) {}

  readonly whole: LossyNumberCheck = () => {
    const found = this.lossyNumbers();
    if (found === null) return UNREADABLE;
    return found[0] ? refusalOf(found[0]) : null;
  };

  element(index: number): LossyNumberCheck {
    return () => {
      const found = this.lossyNumbers();
      if (found === null) return UNREADABLE;
      const key = String(index);
      const lossy = found.find((n) => n.path[0] === key);
      return lossy ? refusalOf(lossy, 1) : null;
    };
  }

  private lossyNumbers(): LossyNumber[] | null {
    if (this.found === undefined) {
      const text = textOfBody(this.req);
      this.found = text === undefined ? null : lossyJsonNumbers(text);
    }
    return this.found;
  }
}

import type { IncomingMessage } from 'node:http';
import { JsonBodySource, keepJsonBody, lossyNumberIn } from '../../src/http/json-source';

/** A request whose JSON body body-parser's verify has seen. */
function requestWith(text: string, encoding: string | null = 'utf-8', bytes = Buffer.from(text)): IncomingMessage {
  const req = {} as IncomingMessage;
  keepJsonBody(req, bytes, encoding);
  return req;
}

const message = (reads: string) => `is an integer a double cannot hold exactly (it reads as ${reads}); send it as a string`;

describe('JsonBodySource', () => {
  it('names the path inside the whole body, or inside each element of the array it holds', () => {
    const source = new JsonBodySource(requestWith('[{"kind":"audit"},{"metadata":{"order_id":12345678901234567890123}},{"n":[9007199254740993]}]'));
    expect(source.whole()).toEqual({ path: '1.metadata.order_id', message: message('1.2345678901234568e+22') });
    expect(source.element(0)()).toBeNull();
    expect(source.element(1)()).toEqual({ path: 'metadata.order_id', message: message('1.2345678901234568e+22') });
    expect(source.element(2)()).toEqual({ path: 'n.0', message: message('9007199254740992') });
    expect(source.element(3)()).toBeNull();
  });

  it('finds nothing in a body whose big integers are exact', () => {
    expect(new JsonBodySource(requestWith('{"a":1e20,"b":9007199254740992,"c":1.5}')).whole()).toBeNull();
  });

  it('reads a body in the charset body-parser decoded it from', () => {
    const text = '{"clé":9007199254740993}';
    expect(new JsonBodySource(requestWith(text, 'utf-16le', Buffer.from(text, 'utf16le'))).whole()).toEqual({ path: 'clé', message: message('9007199254740992') });
  });

  it('refuses rather than guesses when the text cannot be read back', () => {
    const unreadable = { path: '', message: 'holds an integer beyond 2^53 that cannot be checked in this charset; send it as a string, or the body as UTF-8' };
    expect(new JsonBodySource(requestWith('{"n":1e20}', 'utf-32')).whole()).toEqual(unreadable);
    expect(new JsonBodySource({} as IncomingMessage).element(0)()).toEqual(unreadable);
    expect(lossyNumberIn(undefined)).toEqual(unreadable);
  });
});

describe('lossyNumberIn', () => {
  it('names the first lossy number of a text, or none', () => {
    expect(lossyNumberIn('{"a":"9007199254740993","b":[1,-9007199254740993]}')).toEqual({ path: 'b.1', message: message('-9007199254740992') });
    expect(lossyNumberIn('{"a":9007199254740992}')).toBeNull();
  });
});

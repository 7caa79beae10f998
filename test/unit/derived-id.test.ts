import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { derivedUuid } from '../../src/domain/derived-id';
import { parseEvent } from '../../src/schemas/event';

const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('an event id derived from its cause', () => {
  it('is the same every time for the same cause, so an event emitted again is stored once', () => {
    expect(derivedUuid('risk-action:42|webhook')).toBe(derivedUuid('risk-action:42|webhook'));
  });

  it('differs for another cause, even one character apart', () => {
    expect(derivedUuid('integrity-failed:1')).not.toBe(derivedUuid('integrity-failed:2'));
    expect(derivedUuid('a')).not.toBe(derivedUuid('A'));
  });

  it('is a well-formed version 8 UUID, which the event schemas accept', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (name) => expect(derivedUuid(name)).toMatch(UUID_V8)));
    const event = { kind: 'security', event_type: 'INTEGRITY_CHECK_FAILED', severity_level: 'HIGH', event_id: derivedUuid('integrity-failed:7') };
    expect(parseEvent(event)).toMatchObject({ ok: true, event: { event_id: event.event_id } });
  });

  it('is the SHA-256 of the name, its version and variant bits set (RFC 9562)', () => {
    const hex = createHash('sha256').update('ndjson\n{"a":1}').digest('hex');
    const id = derivedUuid('ndjson\n{"a":1}').replace(/-/g, '');
    // Every bit but the version nibble (12) and the two variant bits (at 16) is the hash's.
    expect(id.slice(0, 12) + id.slice(13, 16) + id.slice(17, 32)).toBe(hex.slice(0, 12) + hex.slice(13, 16) + hex.slice(17, 32));
    expect(parseInt(id[16]!, 16) & 0x3).toBe(parseInt(hex[16]!, 16) & 0x3);
  });
});

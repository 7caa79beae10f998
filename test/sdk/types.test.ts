import type { RawEvent } from '../../src/schemas/event';
import { parseEvent } from '../../src/schemas/event';
import { userAuditEvent, uuidv7, type AuditEventInput, type AuditflowEvent } from '../../clients/typescript/src/index';

/**
 * Compile-time drift guard (checked by the root `tsc --noEmit`, which `npm test`
 * runs): the SDK's event type must be exactly the server's input type.
 */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const sameEvent: Equal<AuditflowEvent, RawEvent> = true;
const sameAudit: Equal<AuditEventInput, Extract<RawEvent, { kind: 'audit' }>> = true;

describe('@auditflow/client types and ids', () => {
  it('shares its event type with the server', () => {
    expect([sameEvent, sameAudit]).toEqual([true, true]);
  });

  it("maps seed 004's helper call onto an audit event the server's own parser accepts", () => {
    const event = userAuditEvent({
      userId: 'user-1',
      eventType: 'login_failed',
      previousValue: null,
      newValue: { reason: 'Invalid password', attempt_count: 3 },
      triggeredByType: 'user',
      triggeredById: 'user-1',
      ipAddress: '192.0.2.1',
      occurredAt: new Date('2026-01-02T03:04:05Z'),
    });
    const parsed = parseEvent({ ...event, event_id: uuidv7() });
    expect(parsed).toMatchObject({ ok: true, event: { kind: 'audit', event_type: 'login_failed', previous_value: null, triggered_by_id: 'user-1' } });
  });

  it('makes RFC 9562 UUIDv7 ids: version 7, variant 10, time-ordered', () => {
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.replace(/-/g, '').slice(0, 12)).toBe((1_700_000_000_000).toString(16).padStart(12, '0'));
    expect(a < b).toBe(true);
    expect(new Set(Array.from({ length: 1000 }, () => uuidv7())).size).toBe(1000);
  });
});

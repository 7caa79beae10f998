import { toClickHouseRow, type QueuedEvent } from '../../src/domain/event-row';

const event = (fields: Record<string, unknown>) => ({ event_id: 'e1', content_hash: 'h', ...fields }) as unknown as QueuedEvent;

describe('toClickHouseRow', () => {
  it('adds the envelope, writes ISO timestamps in ClickHouse text form, and leaves out kind, client_event_id and undefined fields', () => {
    const row = toClickHouseRow(
      event({
        kind: 'audit',
        client_event_id: 'c1',
        event_type: 'profile_updated',
        occurred_at: '2026-11-22T03:37:49.948Z',
        user_id: 'u1',
        reason: undefined,
        new_value: { at: '2026-11-22T03:37:49Z' },
      }),
      'app-a',
      '2026-11-22T03:38:00.000Z',
    );
    expect(row).toStrictEqual({
      event_id: 'e1',
      content_hash: 'h',
      event_type: 'profile_updated',
      occurred_at: '2026-11-22 03:37:49.948',
      user_id: 'u1',
      // Inside a JSON field a timestamp stays as it was sent.
      new_value: { at: '2026-11-22T03:37:49Z' },
      source_app: 'app-a',
      received_at: '2026-11-22 03:38:00.000',
    });
  });

  it('gives an absent user the empty string, except in error_logs, and derives the ids the seed tables generate', () => {
    expect(toClickHouseRow(event({ kind: 'audit' }), 'a', '2026-11-22T00:00:00Z').user_id).toBe('');
    expect(toClickHouseRow(event({ kind: 'error' }), 'a', '2026-11-22T00:00:00Z')).not.toHaveProperty('user_id');
    expect(toClickHouseRow(event({ kind: 'auth' }), 'a', '2026-11-22T00:00:00Z').correlation_id).toBe('e1');
    expect(toClickHouseRow(event({ kind: 'auth', correlation_id: 'c9' }), 'a', '2026-11-22T00:00:00Z').correlation_id).toBe('c9');
    expect(toClickHouseRow(event({ kind: 'api_access' }), 'a', '2026-11-22T00:00:00Z').request_id).toBe('e1');
  });

  it('keeps the server its envelope: a job naming another source app or receipt time does not change them', () => {
    const row = toClickHouseRow(event({ kind: 'audit', source_app: 'someone-else', received_at: '2000-01-01T00:00:00Z' }), 'app-a', '2026-11-22T00:00:00.000Z');
    expect(row.source_app).toBe('app-a');
    expect(row.received_at).toBe('2026-11-22 00:00:00.000');
  });
});

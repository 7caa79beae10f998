import { fromBinaryCloudEvent, fromStructuredCloudEvents } from '../../src/features/ingest/formats/cloudevents';
import { kindAndTypeOf } from '../../src/features/ingest/formats/event-name';
import { fromNdjson } from '../../src/features/ingest/formats/ndjson';
import { decodeOtlpLogsRequest, fromOtlpLogs } from '../../src/features/ingest/formats/otlp-logs';

const noLimit = () => {};
const raw = (decoded: { raw: unknown } | { issues: unknown }) => (decoded as { raw: Record<string, unknown> }).raw;

describe('<kind>.<event_type> names', () => {
  it.each([
    ['com.acme.shop.auth.login_failed', { kind: 'auth', event_type: 'login_failed' }],
    ['auth.login', { kind: 'auth', event_type: 'login' }],
    ['audit.todo.created', { kind: 'audit', event_type: 'todo.created' }],
    ['com.example.audit.auth.login', { kind: 'auth', event_type: 'login' }],
    ['failed_login.attempt', { kind: 'failed_login', event_type: 'attempt' }],
  ])('%s', (name, expected) => expect(kindAndTypeOf(name)).toEqual(expected));

  it.each(['login_failed', 'com.acme.shop.order_placed', 'auth', '', 'x.auth'])('%s names no kind and type', (name) => {
    const named = kindAndTypeOf(name);
    expect(named === null || named.event_type === '').toBe(true);
  });
});

describe('CloudEvents decoding', () => {
  const event = { specversion: '1.0', id: 'a', source: '/s', type: 'x.auth.login', data: { user_id: 'u' } };

  it('derives one event_id per source and id, whatever the mode', () => {
    const structured = raw((fromStructuredCloudEvents(event, false, noLimit) as never[])[0]!);
    const binary = raw(fromBinaryCloudEvent({ 'ce-specversion': '1.0', 'ce-id': 'a', 'ce-source': '%2Fs', 'ce-type': 'x.auth.login' }, 'application/json', { user_id: 'u' })[0]!);
    expect(binary.event_id).toBe(structured.event_id);
    expect(raw((fromStructuredCloudEvents({ ...event, source: '/t' }, false, noLimit) as never[])[0]!).event_id).not.toBe(structured.event_id);
  });

  it('keeps source and subject in the JSON column, next to what data put there', () => {
    const decoded = fromStructuredCloudEvents({ ...event, type: 'x.audit.thing', subject: 'sub', data: { metadata: { a: 1 } } }, false, noLimit) as never[];
    expect(raw(decoded[0]!).metadata).toEqual({ a: 1, cloudevents: { source: '/s', subject: 'sub' } });
  });

  it('counts a batch before decoding it', () => {
    expect(() =>
      fromStructuredCloudEvents([event, event], true, (n) => {
        throw new Error(`count ${n}`);
      }),
    ).toThrow('count 2');
  });
});

describe('NDJSON decoding', () => {
  it('derives the same event_id for the same line, whatever its key order or line end', () => {
    const [a, b, c] = fromNdjson('{"kind":"auth","event_type":"login"}\n{"event_type":"login","kind":"auth"}\r\n{"kind":"auth","event_type":"logout"}', noLimit);
    expect(raw(a!).event_id).toBe(raw(b!).event_id);
    expect(raw(c!).event_id).not.toBe(raw(a!).event_id);
  });

  it("reads each line's own text for an integer JSON.parse altered, with the path inside the line", () => {
    const [good, lossy] = fromNdjson('{"kind":"audit","n":9007199254740992}\n{"kind":"audit","metadata":{"order_id":12345678901234567890123}}\n', noLimit);
    const check = (decoded: unknown) => (decoded as { lossyNumber: () => unknown }).lossyNumber();
    expect(check(good)).toBeNull();
    expect(check(lossy)).toEqual({ path: 'metadata.order_id', message: 'is an integer a double cannot hold exactly (it reads as 1.2345678901234568e+22); send it as a string' });
  });

  it('leaves a sent event_id or seed id alone', () => {
    const [a] = fromNdjson('{"id":"x"}', noLimit);
    expect(raw(a!)).toEqual({ id: 'x' });
  });
});

describe('OTLP log records', () => {
  const request = (...logRecords: unknown[]) => ({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] }, scopeLogs: [{ logRecords }] }] });
  const attr = (key: string, value: unknown) => ({ key, value });

  it('maps the name, semantic conventions and fields; keeps the rest under otel', () => {
    const [decoded] = fromOtlpLogs(
      request({
        timeUnixNano: '1772438400123456789',
        eventName: 'auth.login',
        attributes: [
          attr('user.id', { intValue: '42' }),
          attr('client.address', { stringValue: '192.0.2.1' }),
          attr('event_status', { stringValue: 'FAILURE' }),
          attr('k8s.pod', { stringValue: 'p' }),
        ],
      }),
      noLimit,
    );
    expect(raw(decoded!)).toMatchObject({
      kind: 'auth',
      event_type: 'login',
      user_id: 42,
      ip_address: '192.0.2.1',
      event_status: 'FAILURE',
      occurred_at: '2026-03-02T08:00:00.123Z',
      details: { otel: { service_name: 'svc', attributes: { 'k8s.pod': 'p' } } },
    });
  });

  it('refuses an OTLP/JSON export with an int64 number JSON.parse altered, naming its path; an exact one, or a timestamp kept to the millisecond, passes', () => {
    const exportOf = (time: string, value: string) =>
      Buffer.from(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":${time},"eventName":"audit.x","attributes":[{"key":"n","value":{"intValue":${value}}}]}]}]}]}`);
    const record = (request: Record<string, unknown>) => raw(fromOtlpLogs(request, noLimit)[0]!);
    expect(record(decodeOtlpLogsRequest(exportOf('1700000000000000000', '9007199254740992'), 'json'))).toMatchObject({ occurred_at: '2023-11-14T22:13:20.000Z' });
    // A nanosecond timestamp sent as a number keeps its millisecond: taken, as the protobuf JSON mapping allows.
    expect(record(decodeOtlpLogsRequest(exportOf('1700000000123456789', '1'), 'json'))).toMatchObject({ occurred_at: '2023-11-14T22:13:20.123Z' });
    expect(() => decodeOtlpLogsRequest(exportOf('1700000000000000001', '9007199254740993'), 'json')).toThrow(
      expect.objectContaining({
        status: 400,
        message: 'resourceLogs.0.scopeLogs.0.logRecords.0.attributes.0.value.intValue: is an integer a double cannot hold exactly (it reads as 9007199254740992); send it as a string',
      }),
    );
    expect(() => decodeOtlpLogsRequest(exportOf('"1700000000000000001"', '12345678901234567890123'), 'json')).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/^resourceLogs\.0\.scopeLogs\.0\.logRecords\.0\.attributes\.0\.value\.intValue: is an integer/) }),
    );
  });

  it('keeps the trace and span ids as hex, from protobuf bytes (base64) or OTLP/JSON hex', () => {
    const [json, proto] = fromOtlpLogs(
      request(
        { eventName: 'audit.x', traceId: '5B8EFFF798038103D269B633813FC60C', spanId: 'eee19b7ec3c1b174' },
        { eventName: 'audit.x', traceId: Buffer.from('5b8efff798038103d269b633813fc60c', 'hex').toString('base64'), spanId: Buffer.from('eee19b7ec3c1b174', 'hex').toString('base64') },
      ),
      noLimit,
    );
    for (const decoded of [json, proto]) expect(raw(decoded!).metadata).toMatchObject({ otel: { trace_id: '5b8efff798038103d269b633813fc60c', span_id: 'eee19b7ec3c1b174' } });
  });

  it('an ERROR with no name, or a name that maps to no kind, is an error event; an INFO is refused', () => {
    const [error, namedError, info, namedInfo] = fromOtlpLogs(
      request(
        { severityNumber: 21, body: { stringValue: 'boom' } },
        { severityNumber: 17, eventName: 'http.server.failure', attributes: [attr('exception.message', { stringValue: 'db down' }), attr('error.type', { stringValue: 'timeout' })] },
        { severityNumber: 9, body: { stringValue: 'hi' } },
        { severityNumber: 9, eventName: 'http.server.request' },
      ),
      noLimit,
    );
    expect(raw(error!)).toMatchObject({ kind: 'error', error_message: 'boom', severity_level: 'critical', error_type: 'log' });
    expect(raw(namedError!)).toMatchObject({
      kind: 'error',
      error_message: 'db down',
      error_type: 'timeout',
      severity_level: 'high',
      technical_details: { otel: { event_name: 'http.server.failure' } },
    });
    expect(info).toEqual({ issues: [expect.objectContaining({ path: 'event_name' })] });
    expect(namedInfo).toEqual({ issues: [{ path: 'event_name', message: expect.stringMatching(/^must end in <kind>.<event_type>/) }] });
  });

  it('derives event_id from the whole record: equal records share it, others do not', () => {
    const record = { timeUnixNano: '1772438400000000000', eventName: 'auth.login' };
    const [a, b, c] = fromOtlpLogs(request(record, { ...record }, { ...record, timeUnixNano: '1772438400000000001' }), noLimit);
    expect(raw(a!).event_id).toBe(raw(b!).event_id);
    expect(raw(c!).event_id).not.toBe(raw(a!).event_id);
  });
});

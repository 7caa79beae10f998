/**
 * Hostile input against the real API: oversized and fuzzed bodies (fast-check)
 * never get a 5xx or bring the process down; injected CR/LF, ANSI escapes and
 * fake JSON keys cannot forge a log line and are stored as sent; a reused
 * event_id with other content is refused, and a repost adds no row.
 */
import { randomUUID } from 'node:crypto';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { createLogger } from '../../src/lib/logger';
import { signUp } from '../helpers/accounts';
import { countUnique, createApiKey, postEvents, queryRows, startStack, drainIngest } from '../helpers/stack';
import { expireIdempotencyWindow } from '../helpers/idempotency';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('hostile');
/** Every line the server logged, as written. */
const logLines: string[] = [];
const logger = createLogger('info', {}, { write: (chunk: string) => void logLines.push(...chunk.split('\n').filter(Boolean)) });
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;
let session: string;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100', BODY_LIMIT_BYTES: String(64 * 1024) }, logger);
  key = await createApiKey(ns, 'hostile-app');
  session = (await signUp(stack.url, ns, 'hostile@example.com')).token;
});

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

/** Sends a raw body as it is, with no JSON encoding in between. */
async function send(method: string, route: string, body: string | Buffer | undefined, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const response = await fetch(`${stack.url}${route}`, { method, headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.status, text: await response.text() };
}

const targets = (): { method: string; route: string; headers: Record<string, string> }[] => [
  { method: 'POST', route: '/v1/events', headers: { authorization: `Bearer ${key}` } },
  { method: 'POST', route: '/auth/login', headers: {} },
  { method: 'POST', route: '/auth/register', headers: {} },
  { method: 'POST', route: '/todos', headers: { authorization: `Bearer ${session}` } },
  { method: 'PATCH', route: '/me', headers: { authorization: `Bearer ${session}` } },
  { method: 'POST', route: '/admin/login', headers: {} },
];

/** A valid event of each kind, for the fuzzer to corrupt: bodies must get past the parser to reach the schemas and ClickHouse. */
const TEMPLATES: Record<string, unknown>[] = [
  { kind: 'audit', event_type: 'profile_updated', user_id: 'u1' },
  { kind: 'auth', event_type: 'login_success', user_id: 'u1', ip_address: '10.0.0.1' },
  { kind: 'failed_login', email_address: 'x@example.com', failure_reason: 'INVALID_PASSWORD' },
  { kind: 'security', event_type: 'SUSPICIOUS_ACTIVITY', severity_level: 'HIGH' },
  { kind: 'session', session_id: 's1', expires_at: '2030-01-01T00:00:00Z' },
  { kind: 'error', error_code: 'TODOAPP-SYS-001', error_type: 'server', severity_level: 'high', error_message: 'x' },
];
const TEXT_FIELDS = [
  'user_id',
  'event_type',
  'reason',
  'user_agent',
  'session_id',
  'error_message',
  'entity_id',
  'failure_reason',
  'device_fingerprint',
  'action',
  'email_address',
  'occurred_at',
  'kind',
];
const JSON_FIELDS = ['metadata', 'new_value', 'previous_value', 'technical_details', 'location', 'duration_ms', 'ip_address'];

const fuzzedEvent = fc
  .tuple(
    fc.constantFrom(...TEMPLATES),
    fc.dictionary(fc.constantFrom(...TEXT_FIELDS), fc.string({ unit: 'binary', maxLength: 300 }), { maxKeys: 3 }),
    fc.dictionary(fc.constantFrom(...JSON_FIELDS), fc.oneof(fc.jsonValue(), fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue())), { maxKeys: 2 }),
  )
  .map(([template, texts, values]) => ({ ...template, ...texts, ...values }));

const body = fc.oneof(
  fc.json(),
  fc.string({ unit: 'binary' }),
  // Valid JSON with text spliced in anywhere: truncated, doubled brackets, stray quotes.
  fc.tuple(fc.json(), fc.nat(), fc.string()).map(([json, at, junk]) => json.slice(0, at % (json.length + 1)) + junk + json.slice(at % (json.length + 1))),
  fc.array(fuzzedEvent, { minLength: 1, maxLength: 20 }).map((events) => JSON.stringify(events)),
  fuzzedEvent.map((event) => JSON.stringify(event)),
  fc.integer({ min: 1, max: 20_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc.constantFrom('{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', '1e999999', '"\\ud800"', '[1,]', '{"a":1,"a":2}', '\u0000', '\ufeff{}', 'null', '[]'),
);

describe('hostile input', () => {
  it('answers every fuzzed body below 500, and the server stays up', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...targets()), body, async (target, raw) => {
        const res = await send(target.method, target.route, raw, target.headers);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 500) throw new Error(`${target.method} ${target.route} answered ${res.status}: ${res.text.slice(0, 300)}`);
      }),
      { numRuns: 400 },
    );
    expect((await send('GET', '/healthz', undefined)).status).toBe(200);
    // A fuzzer that only ever hits the parser proves little: some bodies got past it.
    expect([...statuses.keys()].some((s) => s === 202 || s === 207)).toBe(true);
  }, 120_000);

  it('never acknowledges an event that ClickHouse then refuses (no fuzzed event was dead-lettered)', async () => {
    await drainIngest(stack, ns);
    const dead = await queryRows<{ error: string; raw_payload: string }>(stack.clickhouse!, 'SELECT error, raw_payload FROM dead_letter_events LIMIT 5');
    expect(dead).toEqual([]);
  });

  it('refuses oversized bodies with 413, compressed or not, on every JSON route', async () => {
    const big = JSON.stringify([{ kind: 'audit', event_type: 'x', user_id: 'u', reason: 'x'.repeat(70 * 1024) }]);
    expect((await send('POST', '/v1/events', big, { authorization: `Bearer ${key}` })).status).toBe(413);
    expect(
      (
        await postEvents(
          stack.url,
          key,
          Array.from({ length: 1001 }, () => ({ kind: 'audit', event_type: 'x' })),
        )
      ).status,
    ).toBe(413);
    expect((await send('POST', '/auth/login', JSON.stringify({ email: 'a@b.c', password: 'p'.repeat(200 * 1024) }))).status).toBe(413);
    // 50 MB of JSON whitespace gzips to ~50 KB: the limit applies to what it inflates to.
    const bomb = zlib.gzipSync(Buffer.concat([Buffer.from('['), Buffer.alloc(50 * 1024 * 1024, ' '), Buffer.from(']')]));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const res = await send('POST', '/v1/events', bomb, { authorization: `Bearer ${key}`, 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('keeps CR/LF, ANSI escapes and fake JSON keys inside their field: no forged log line, stored exactly as sent', async () => {
    const forged = '{"level":60,"time":"2026-01-01T00:00:00.000Z","msg":"FORGED admin login"}';
    const hostile = `eve\r\n${forged}\n\u001b[2J\u001b[31mRED\u001b[0m\u0007`;
    const eventId = randomUUID();
    const before = logLines.length;
    const res = await postEvents(stack.url, key, {
      kind: 'audit',
      event_id: eventId,
      event_type: 'profile_updated',
      user_id: hostile,
      reason: hostile,
      metadata: { msg: 'FORGED', level: 60, '\r\nlevel': 60 },
    });
    expect(res.status).toBe(202);
    // The same in the URL and in credentials, which reach the request log and the failed-login path.
    await send('GET', `/todos?search=${encodeURIComponent(hostile)}&${encodeURIComponent(forged)}=1`, undefined, { authorization: `Bearer ${session}` });
    await send('GET', `/no-such-route/${encodeURIComponent(hostile)}`, undefined);
    await send('POST', '/auth/login', JSON.stringify({ email: hostile, password: hostile }));
    await send('POST', '/auth/login', JSON.stringify({ email: `x@example.com\r\n${forged}`, password: 'wrong password!' }));

    const [row] = await eventually(async () => {
      const rows = await queryRows<{ user_id: string; reason: string; metadata: Record<string, unknown> }>(
        stack.clickhouse!,
        'SELECT user_id, reason, metadata FROM audit_logs WHERE event_id = {id:UUID}',
        { id: eventId },
      );
      return rows.length > 0 && rows;
    });
    expect(row!.user_id).toBe(hostile);
    expect(row!.reason).toBe(hostile);
    expect(row!.metadata).toMatchObject({ msg: 'FORGED', level: 60 });

    const lines = logLines.slice(before);
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) {
      // One JSON object per line, with no raw control character that a terminal or a line-based shipper would act on.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the assertion is that no raw CR, ESC or BEL reaches a log line, so the pattern must name those control characters
      expect(line).not.toMatch(/[\r\u001b\u0007]/);
      const parsed = JSON.parse(line) as Record<string, unknown>;
      expect(parsed.service).toBe('auditflow');
      expect(parsed.msg).not.toMatch(/FORGED/);
      expect(parsed.level).toBeLessThan(60);
    }
  });

  it('answers 409 to an event_id reused with other content, on its own or in a batch, and keeps the first', async () => {
    const eventId = randomUUID();
    const first = { kind: 'audit', event_id: eventId, event_type: 'profile_updated', user_id: 'alice' };
    expect((await postEvents(stack.url, key, first)).status).toBe(202);
    const changed = await postEvents(stack.url, key, { ...first, user_id: 'mallory' });
    expect(changed.status).toBe(409);
    expect(changed.body.error!.code).toBe('CONFLICT');
    const mixed = await postEvents(stack.url, key, [
      { ...first, user_id: 'mallory' },
      { kind: 'audit', event_type: 'profile_updated', user_id: 'bob' },
    ]);
    expect(mixed.status).toBe(207);
    expect(mixed.body.events[0]).toMatchObject({ status: 'conflict' });

    // Past the API's idempotency window (its Redis record gone), the writer still refuses it: a dead letter, not a silent drop.
    await expireIdempotencyWindow(ns.queuePrefix, [{ app: 'hostile-app', eventId }]);
    expect((await postEvents(stack.url, key, { ...first, user_id: 'mallory' })).status).toBe(202);
    const dead = await eventually(async () => {
      const rows = await queryRows<{ error: string }>(stack.clickhouse!, 'SELECT error FROM dead_letter_events WHERE event_id = {id:UUID}', { id: eventId });
      return rows.length > 0 && rows;
    });
    expect(dead[0]!.error).toMatch(/conflict/);
    const stored = await queryRows<{ user_id: string }>(stack.clickhouse!, 'SELECT user_id FROM audit_logs WHERE event_id = {id:UUID}', { id: eventId });
    expect(stored).toEqual([{ user_id: 'alice' }]);
  });

  it('stores a reposted batch once, reposted in sequence or all at once', async () => {
    const events = Array.from({ length: 200 }, () => ({ kind: 'session', event_id: randomUUID(), session_id: `repost-${randomUUID()}`, expires_at: '2030-01-01T00:00:00Z' }));
    expect((await postEvents(stack.url, key, events)).status).toBe(202);
    const again = await postEvents(stack.url, key, events);
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 200 });
    const together = await Promise.all(Array.from({ length: 5 }, () => postEvents(stack.url, key, events)));
    expect(together.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    await eventually(async () => (await countUnique(stack.clickhouse!, 'user_sessions')).unique >= 200);
    await stack.writer!.flushAll();
    const counts = await countUnique(stack.clickhouse!, 'user_sessions');
    expect(counts.count).toBe(counts.unique);
  });

  // Issue 12 §8: JSON 10,000 deep answered 500, a NUL reached PostgreSQL as a 500, a lone surrogate was accepted and then dead-lettered.
  describe('bodies no route can store (issue 12 §8)', () => {
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    const session$ = () => ({ authorization: `Bearer ${session}` });

    it('answers 400 to JSON nested 10,000 deep, on every JSON route', async () => {
      for (const [method, route, headers] of [
        ['POST', '/auth/login', {}],
        ['POST', '/auth/register', {}],
        ['POST', '/todos', session$()],
        ['PATCH', '/me', session$()],
      ] as const) {
        const res = await send(method, route, deep, headers);
        expect([route, res.status]).toEqual([route, 400]);
        expect(JSON.parse(res.text).error.message).toMatch(/nested deeper than 64 levels/);
      }
      const events = await send('POST', '/v1/events', deep, { authorization: `Bearer ${key}` });
      expect(events.status).toBe(400);
      expect(JSON.parse(events.text).errors[0].message).toMatch(/nested deeper/);
    });

    it('refuses a NUL in any string or key with 400 at validation, before PostgreSQL', async () => {
      const register = await send('POST', '/auth/register', JSON.stringify({ email: 'nul\u0000@example.com', password: 'correct horse battery staple' }));
      expect(register.status).toBe(400);
      expect(JSON.parse(register.text).error).toMatchObject({
        code: 'VALIDATION_FAILED',
        message: 'email: holds a NUL character (\\u0000)',
        details: [{ path: 'email', message: 'holds a NUL character (\\u0000)' }],
      });
      expect((await send('POST', '/todos', JSON.stringify({ title: 'a\u0000b' }), session$())).status).toBe(400);
      expect((await send('PATCH', '/me', JSON.stringify({ 'x\u0000': 1 }), session$())).status).toBe(400);
      expect((await send('POST', '/auth/login', JSON.stringify({ email: 'a@example.com', password: 'pass\u0000word' }))).status).toBe(400);
    });

    it('refuses a lone surrogate with 400 at validation', async () => {
      const res = await send('POST', '/auth/register', JSON.stringify({ email: 'lone\ud800@example.com', password: 'correct horse battery staple' }));
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text).error.message).toMatch(/lone UTF-16 surrogate/);
      expect((await send('POST', '/todos', '{"title":"\\udc00 alone"}', session$())).status).toBe(400);
    });

    it('refuses them per event on ingest, in every format, so none is dead-lettered after a 2xx', async () => {
      const good = (user: string) => ({ kind: 'audit', event_type: 'profile_updated', user_id: user });
      const mixed = await postEvents(stack.url, key, [
        good('s8-ok'),
        { ...good('nul\u0000') },
        { ...good('s8'), reason: 'half \ud800' },
        { ...good('s8'), metadata: JSON.parse(`${'{"a":'.repeat(100)}1${'}'.repeat(100)}`) },
      ]);
      expect(mixed.status).toBe(207);
      expect(mixed.body.events.map((e: { status: string }) => e.status)).toEqual(['accepted', 'rejected', 'rejected', 'rejected']);
      expect(mixed.body.events[1]!.errors).toEqual([{ path: 'user_id', message: 'holds a NUL character (\\u0000)' }]);
      expect(mixed.body.events[2]!.errors![0]).toMatchObject({ path: 'reason', message: expect.stringMatching(/lone UTF-16 surrogate/) });

      const ndjson = await postEvents(stack.url, key, [good('s8-nd'), good('nd\u0000')].map((e) => JSON.stringify(e)).join('\n'), { raw: true, contentType: 'application/x-ndjson' });
      expect([ndjson.status, ndjson.body.events[1]!.status]).toEqual([207, 'rejected']);

      const cloud = await postEvents(
        stack.url,
        key,
        { specversion: '1.0', id: randomUUID(), source: '/s8', type: 'app.audit.profile_updated', data: { user_id: 'ce\ud800' } },
        { contentType: 'application/cloudevents+json' },
      );
      expect(cloud.status).toBe(400);

      const otlp = await fetch(`${stack.url}/v1/logs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({
          resourceLogs: [
            {
              resource: { attributes: [] },
              scopeLogs: [
                { scope: { name: 't' }, logRecords: [{ timeUnixNano: '1772438400000000000', eventName: 'auth.login', attributes: [{ key: 'user.id', value: { stringValue: 'otel\u0000' } }] }] },
              ],
            },
          ],
        }),
      });
      expect(otlp.status).toBe(200);
      expect(((await otlp.json()) as { partialSuccess: unknown }).partialSuccess).toMatchObject({ rejectedLogRecords: 1, errorMessage: expect.stringMatching(/NUL/) });
    });

    // Each was answered 202 and then stored as something else: a `__proto__` member dropped, 1e400 (Infinity) dropped, bytes that are not UTF-8 turned into U+FFFD.
    it('refuses what it could only store altered: a __proto__ key, a number beyond a double, bytes that are not UTF-8', async () => {
      const event = (user: string, extra = '') => `{"kind":"audit","event_type":"altered_check","user_id":"${user}"${extra}}`;
      const auth$ = { authorization: `Bearer ${key}` };
      const batch = await send(
        'POST',
        '/v1/events',
        `[${event('alt-ok')},${event('alt-proto', ',"metadata":{"__proto__":{"admin":true},"a":1}')},${event('alt-inf', ',"metadata":{"n":1e400}')}]`,
        auth$,
      );
      expect(batch.status).toBe(207);
      const events = JSON.parse(batch.text).events as { status: string; errors?: { path: string; message: string }[] }[];
      expect(events.map((e) => e.status)).toEqual(['accepted', 'rejected', 'rejected']);
      expect(events[1]!.errors).toEqual([{ path: 'metadata', message: 'has a key named __proto__, which cannot be stored' }]);
      expect(events[2]!.errors).toEqual([{ path: 'metadata.n', message: 'is a number beyond the range of a double (it reads as Infinity)' }]);

      const notUtf8 = (user: string) => Buffer.concat([Buffer.from(event(user).slice(0, -2)), Buffer.from([0xff, 0xfe, 0xed, 0xa0, 0x80]), Buffer.from('"}')]);
      const json = await send('POST', '/v1/events', notUtf8('alt-bytes'), auth$);
      expect([json.status, JSON.parse(json.text).error.message]).toEqual([400, 'the body is not valid UTF-8 (declare its charset if it is in another one)']);
      // NDJSON: only the line that holds them.
      const ndjson = await send('POST', '/v1/events', Buffer.concat([Buffer.from(`${event('alt-nd-ok')}\n`), notUtf8('alt-nd-bytes'), Buffer.from('\n')]), {
        ...auth$,
        'content-type': 'application/x-ndjson',
      });
      expect(ndjson.status).toBe(207);
      expect(JSON.parse(ndjson.text).events[1]).toMatchObject({ status: 'rejected', errors: [{ path: '', message: 'line 2 is not valid UTF-8' }] });
      const otlp = await send(
        'POST',
        '/v1/logs',
        Buffer.concat([Buffer.from('{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"eventName":"audit.altered_check","body":{"stringValue":"'), Buffer.from([0xff]), Buffer.from('"}}]}]}]}')]),
        auth$,
      );
      expect(otlp.status).toBe(400);
      expect((await send('POST', '/todos', Buffer.concat([Buffer.from('{"title":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), session$())).status).toBe(400);

      await drainIngest(stack, ns);
      const stored = await queryRows<{ user_id: string }>(stack.clickhouse!, `SELECT user_id FROM audit_logs WHERE event_type = 'altered_check' ORDER BY user_id`);
      expect(stored.map((r) => r.user_id)).toEqual(['alt-nd-ok', 'alt-ok']);
    });

    // 9007199254740993 was answered 202 and stored as 9007199254740992, 12345678901234567890123 as 1.2345678901234568e22.
    it('refuses an integer a double cannot hold, naming its path, in every JSON format; exact integers and floats are stored as sent', async () => {
      const event = (user: string, metadata: string) => `{"kind":"audit","event_type":"lossy_check","user_id":"${user}","metadata":${metadata}}`;
      const auth$ = { authorization: `Bearer ${key}` };
      const lossy = (reads: string) => `is an integer a double cannot hold exactly (it reads as ${reads}); send it as a string`;
      type Results = { status: string; errors?: { path: string; message: string }[] }[];

      const batch = await send(
        'POST',
        '/v1/events',
        `[${[
          event('lossy-safe', '{"max":9007199254740991,"min":-9007199254740991,"two53":9007199254740992,"e20":1e20,"text":"12345678901234567890123"}'),
          event('lossy-float', '{"price":0.1,"pi":3.14159,"small":-2.5e-3}'),
          event('lossy-big', '{"order_id":12345678901234567890123}'),
          event('lossy-53', '{"ids":[1,9007199254740993]}'),
          event('lossy-float-spelled', '{"n":12345678901234567890.0,"avogadro":6.02e23,"js":1.2345678901234568e+22}'),
          event('lossy-encoded', '"{\\"order\\":{\\"id\\":-9007199254740993}}"'),
        ].join(',')}]`,
        auth$,
      );
      expect(batch.status).toBe(207);
      const events = JSON.parse(batch.text).events as Results;
      // A number spelled with a fraction or an exponent is a float by its sender's spelling: taken, rounded as JSON means.
      expect(events.map((e) => e.status)).toEqual(['accepted', 'accepted', 'rejected', 'rejected', 'accepted', 'rejected']);
      expect([2, 3, 5].map((i) => events[i]!.errors)).toEqual([
        [{ path: 'metadata.order_id', message: lossy('1.2345678901234568e+22') }],
        [{ path: 'metadata.ids.1', message: lossy('9007199254740992') }],
        [{ path: 'metadata.order.id', message: lossy('-9007199254740992') }],
      ]);
      // Alone, the event is the whole post: a 400.
      const single = await send('POST', '/v1/events', event('lossy-single', '{"order_id":12345678901234567890123}'), auth$);
      expect([single.status, JSON.parse(single.text).errors]).toEqual([400, [{ index: 0, path: 'metadata.order_id', message: lossy('1.2345678901234568e+22') }]]);

      // NDJSON: only the line that holds one.
      const ndjson = await send('POST', '/v1/events', `${event('lossy-nd-ok', '{"n":42}')}\n${event('lossy-nd-bad', '{"n":9007199254740993}')}\n`, {
        ...auth$,
        'content-type': 'application/x-ndjson',
      });
      expect(ndjson.status).toBe(207);
      expect((JSON.parse(ndjson.text).events as Results)[1]).toMatchObject({ status: 'rejected', errors: [{ path: 'metadata.n', message: lossy('9007199254740992') }] });

      // CloudEvents: the path is the one sent, under data.
      const cloudEvent = (id: string, user: string, n: string) =>
        `{"specversion":"1.0","id":"${id}","source":"urn:lossy","type":"app.audit.lossy_check","data":{"user_id":"${user}","metadata":{"n":${n}}}}`;
      const cloud = await send('POST', '/v1/events', `[${cloudEvent(randomUUID(), 'lossy-ce-ok', '1e20')},${cloudEvent(randomUUID(), 'lossy-ce-bad', '12345678901234567890')}]`, {
        ...auth$,
        'content-type': 'application/cloudevents-batch+json',
      });
      expect(cloud.status).toBe(207);
      expect((JSON.parse(cloud.text).events as Results)[1]).toMatchObject({ status: 'rejected', errors: [{ path: 'data.metadata.n', message: lossy('12345678901234567000') }] });

      // OTLP/JSON: an int64 sent as a number (OTLP/JSON says a string) refuses the export.
      const otlpExport = (value: string) =>
        `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1772438400000000000","eventName":"audit.lossy_check","attributes":[{"key":"user.id","value":{"stringValue":"lossy-otlp"}},{"key":"order_id","value":{"intValue":${value}}}]}]}]}]}`;
      const otlp = await send('POST', '/v1/logs', otlpExport('12345678901234567890123'), auth$);
      expect([otlp.status, JSON.parse(otlp.text).error.message]).toEqual([400, `resourceLogs.0.scopeLogs.0.logRecords.0.attributes.1.value.intValue: ${lossy('1.2345678901234568e+22')}`]);
      // Its nanosecond timestamps may be numbers (the protobuf JSON mapping allows it): kept to the millisecond, they are taken.
      const otlpTime = await send('POST', '/v1/logs', otlpExport('"7"').replace('"timeUnixNano":"1772438400000000000"', '"timeUnixNano":1772438400123456789'), auth$);
      expect(otlpTime.status).toBe(200);

      // Every other JSON route, before any schema or credential check.
      const todo = await send('POST', '/todos', '{"title":"lossy","due":9007199254740993}', session$());
      expect([todo.status, JSON.parse(todo.text).error]).toEqual([
        400,
        { code: 'VALIDATION_FAILED', error_code: 'TODOAPP-VAL-001', message: `due: ${lossy('9007199254740992')}`, details: [{ path: 'due', message: lossy('9007199254740992') }] },
      ]);
      const setting = await send('PATCH', '/admin/settings/session.idle_timeout_minutes', '{"setting_value":99999999999999999999}', {});
      expect([setting.status, JSON.parse(setting.text).error.message]).toEqual([400, `setting_value: ${lossy('100000000000000000000')}`]);
      expect((await send('POST', '/todos', '{"title":"exact 9007199254740993"}', session$())).status).toBe(201);

      await drainIngest(stack, ns);
      const stored = await queryRows<{ user_id: string; metadata: string }>(
        stack.clickhouse!,
        `SELECT user_id, toJSONString(metadata) AS metadata FROM audit_logs WHERE event_type = 'lossy_check' AND user_id NOT IN ('lossy-float-spelled', 'lossy-otlp') ORDER BY user_id`,
      );
      expect(stored).toEqual([
        { user_id: 'lossy-ce-ok', metadata: '{"cloudevents":{"source":"urn:lossy"},"n":100000000000000000000}' },
        { user_id: 'lossy-float', metadata: '{"pi":3.14159,"price":0.1,"small":-0.0025}' },
        { user_id: 'lossy-nd-ok', metadata: '{"n":42}' },
        { user_id: 'lossy-safe', metadata: '{"e20":100000000000000000000,"max":9007199254740991,"min":-9007199254740991,"text":"12345678901234567890123","two53":9007199254740992}' },
      ]);
      const otlpStored = await queryRows<{ occurred_at: string }>(stack.clickhouse!, `SELECT toString(occurred_at) AS occurred_at FROM audit_logs WHERE user_id = 'lossy-otlp'`);
      expect(otlpStored).toEqual([{ occurred_at: '2026-03-02 08:00:00.123' }]);
      const dead = await queryRows(stack.clickhouse!, `SELECT event_id FROM dead_letter_events WHERE raw_payload LIKE '%lossy%'`);
      expect(dead).toEqual([]);
    });
  });
});

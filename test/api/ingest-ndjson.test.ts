import { gzipSync } from 'node:zlib';
import { createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

// NDJSON bodies, one event per line, shaped as Vector's `http` sink (codec json, newline-delimited framing)
// and Fluent Bit's `http` output (format json_lines) send them with the configs in docs/ingest-formats.md;
// and Fluent Bit's `format json`, a JSON array of the records, which every Fluent Bit version labels application/json.
const ns = createNamespace('ingestndjson');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;

beforeAll(async () => {
  key = await createApiKey(ns, 'shipper', ['ingest']);
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100', BODY_LIMIT_BYTES: String(256 * 1024) });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

const ndjson = (lines: unknown[]) => `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`;
const post = (body: string | Buffer, headers: Record<string, string> = {}) => postEvents(stack.url, key, body, { raw: true, contentType: 'application/x-ndjson', headers });

async function rowsOf(table: string, userId: string, expected: number) {
  await stack.writer!.flushAll();
  return eventually(async () => {
    const rows = await queryRows<Record<string, unknown>>(stack.clickhouse!, `SELECT * FROM ${table} WHERE user_id = {u:String} ORDER BY occurred_at`, { u: userId });
    return rows.length >= expected && rows;
  });
}

describe('NDJSON on POST /v1/events', () => {
  it('one event per line, each landing once in its kind, with per-line results like a JSON array', async () => {
    const body = ndjson([
      { kind: 'auth', event_type: 'login_failed', user_id: 'nd-1', ip_address: '192.0.2.1', occurred_at: '2026-03-03T09:00:00.000000Z' },
      { user_id: 'nd-1', action: 'password_reset', metadata: { ip: '192.0.2.1' }, timestamp: '2026-03-03T09:00:01Z' },
      '',
      { kind: 'auth', event_type: 'login', user_id: 'nd-1', ip_address: 'nope' },
      '{"kind": "auth", broken',
    ]);
    const res = await post(body);
    expect(res.status).toBe(207);
    expect(res.body.events.map((e: { status: string }) => e.status)).toEqual(['accepted', 'accepted', 'rejected', 'rejected']);
    expect(res.body.events[2]!.errors).toEqual([{ path: 'ip_address', message: expect.any(String) }]);
    expect(res.body.events[3]!.errors).toEqual([{ path: '', message: 'line 5 is not valid JSON' }]);
    const auth = await rowsOf('auth_audit_log', 'nd-1', 1);
    expect(auth).toHaveLength(1);
    expect(auth[0]).toMatchObject({ event_type: 'login_failed', event_status: 'FAILURE', occurred_at: '2026-03-03 09:00:00.000', source_app: 'shipper' });
    const audit = await rowsOf('audit_logs', 'nd-1', 1);
    expect(audit[0]).toMatchObject({ event_type: 'password_reset' });
  });

  it("Fluent Bit's `format json` (a gzipped JSON array of records, application/json) lands like the same lines as NDJSON", async () => {
    const records = [
      { kind: 'auth', event_type: 'login_failed', user_id: 'nd-fb', ip_address: '192.0.2.7', occurred_at: '2026-03-03T11:00:00Z' },
      { user_id: 'nd-fb', action: 'password_reset', metadata: { ip: '192.0.2.7' }, timestamp: '2026-03-03T11:00:01Z' },
    ];
    const res = await postEvents(stack.url, key, gzipSync(JSON.stringify(records)), { raw: true, contentType: 'application/json', headers: { 'content-encoding': 'gzip' } });
    expect(res.status).toBe(202);
    expect(await rowsOf('auth_audit_log', 'nd-fb', 1)).toEqual([expect.objectContaining({ event_type: 'login_failed', event_status: 'FAILURE', source_app: 'shipper' })]);
    expect(await rowsOf('audit_logs', 'nd-fb', 1)).toEqual([expect.objectContaining({ event_type: 'password_reset' })]);
  });

  it('a shipper resending the same batch (gzip, CRLF) stores nothing twice, though the lines carry no event_id', async () => {
    const lines = [
      { kind: 'auth', event_type: 'login', user_id: 'nd-2', event_status: 'SUCCESS', occurred_at: '2026-03-03T10:00:00Z' },
      { kind: 'auth', event_type: 'logout', user_id: 'nd-2', occurred_at: '2026-03-03T10:05:00Z' },
    ];
    const first = await post(gzipSync(ndjson(lines)), { 'content-encoding': 'gzip' });
    expect(first.status).toBe(202);
    const again = await post(ndjson(lines).replace(/\n/g, '\r\n'));
    expect(again.status).toBe(202);
    expect(again.body.events.map((e: { status: string }) => e.status)).toEqual(['duplicate', 'duplicate']);
    expect(again.body.events.map((e) => e.event_id)).toEqual(first.body.events.map((e) => e.event_id));
    await stack.writer!.flushAll();
    expect(await rowsOf('auth_audit_log', 'nd-2', 2)).toHaveLength(2);
  });

  it('the same limits as a JSON array: over 1000 lines or over the body limit is a 413; no line at all is a 400', async () => {
    const line = { kind: 'auth', event_type: 'login', user_id: 'x' };
    expect((await post(ndjson(Array.from({ length: 1001 }, () => line)))).status).toBe(413);
    expect((await post(ndjson(Array.from({ length: 900 }, () => ({ ...line, user_agent: 'x'.repeat(400) }))))).status).toBe(413);
    const empty = await post('\n\n');
    expect([empty.status, empty.body.error!.message]).toEqual([400, 'the body holds no events (an empty array, batch or NDJSON body)']);
    // Counted before any line is parsed: a body of tiny lines is refused whole, with its count.
    const many = await post('{}\n'.repeat(80_000));
    expect([many.status, many.body.error!.message]).toEqual([413, 'at most 1000 events per request (got 80000)']);
  });

  it('hostile bodies get 4xx, never 5xx', async () => {
    const bodies: (string | Buffer)[] = [
      'null\n[]\n1\n"x"\n',
      '{"__proto__": {"admin": true}, "kind": "auth", "event_type": "login"}\n',
      `${'['.repeat(100_000)}\n`,
      Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x7b]),
      '\u0000\u0000\n',
    ];
    const statuses = [];
    for (const body of bodies) statuses.push((await post(body)).status);
    expect(statuses.every((s) => s >= 400 && s < 500)).toBe(true);
    expect((await post('not gzip', { 'content-encoding': 'gzip' })).status).toBe(400);
    expect((await postEvents(stack.url, key, 'x', { raw: true, contentType: 'text/plain' })).status).toBe(415);
  });
});

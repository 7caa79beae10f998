import { EVENT_KINDS, type EventKind } from '../../src/schemas/event';
import { STORED_AS, storedForm, VERBATIM_SEED_ROWS } from '../fixtures/seed-events';
import { createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

// An app that already writes the seeds' rows posts them as they are: no kind, the seed's column names.
const ns = createNamespace('seedrows');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;

beforeAll(async () => {
  key = await createApiKey(ns, 'seed-app', ['ingest']);
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

describe('seed rows posted verbatim to POST /v1/events', () => {
  let ids: string[];

  beforeAll(async () => {
    const res = await postEvents(
      stack.url,
      key,
      VERBATIM_SEED_ROWS.map((s) => s.row),
    );
    expect({ status: res.status, rejected: res.body.events.filter((e: { status: string }) => e.status !== 'accepted') }).toEqual({ status: 202, rejected: [] });
    ids = res.body.events.map((e) => e.event_id!);
    await stack.writer!.flushAll();
  });

  it.each(VERBATIM_SEED_ROWS.map((s, i) => [`seed ${s.seed} ${s.source}`, i] as const))('%s lands once, in its table, with its type and every value', async (_name, i) => {
    const { row, expected } = VERBATIM_SEED_ROWS[i]!;
    const eventId = ids[i]!;
    if (typeof row.id === 'string') expect(eventId).toBe(row.id);
    const rows = await eventually(async () => {
      const r = await queryRows<Record<string, unknown>>(stack.clickhouse!, `SELECT * FROM ${expected.table} WHERE event_id = {id:UUID}`, { id: eventId });
      return r.length > 0 && r;
    });
    expect(rows).toHaveLength(1);
    const stored = rows[0]!;
    expect({ event_type: stored.event_type, source_app: stored.source_app }).toEqual({ event_type: expected.event_type, source_app: 'seed-app' });
    if (expected.event_status) expect(stored.event_status).toBe(expected.event_status);
    for (const [field, value] of Object.entries(row)) {
      const column = STORED_AS[field] ?? field;
      const want = storedForm(column, value);
      const got = column === 'severity_level' ? String(stored[column]).toLowerCase() : stored[column];
      expect({ [column]: got }).toEqual({ [column]: column === 'severity_level' ? String(want).toLowerCase() : want });
    }
  });

  it("covers every kind, each expected in its kind's table", () => {
    for (const { expected } of VERBATIM_SEED_ROWS) expect({ [expected.kind]: expected.table }).toEqual({ [expected.kind]: EVENT_KINDS[expected.kind as EventKind].table });
    expect(new Set(VERBATIM_SEED_ROWS.map((s) => s.expected.kind))).toEqual(new Set(Object.keys(EVENT_KINDS)));
  });

  it('a row posted again under its own UUID id is a duplicate, not a second row', async () => {
    const seed001 = VERBATIM_SEED_ROWS.find((s) => s.seed === '001')!;
    const again = await postEvents(stack.url, key, seed001.row);
    expect(again.status).toBe(202);
    expect(again.body.events[0]).toMatchObject({ status: 'duplicate', event_id: seed001.row.id });
  });

  it('a row with a serial id is refused under that name', async () => {
    const res = await postEvents(stack.url, key, { id: 17, user_id: 42, event_type: 'login_failed', ip_address: '198.51.100.23' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ index: 0, path: 'id', message: expect.stringMatching(/only if it is a UUID/) }]);
  });

  it('a row no single kind fits is refused, naming the kinds that do', async () => {
    const res = await postEvents(stack.url, key, { user_id: 'u', event_type: 'invoice_paid' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ index: 0, path: 'kind', message: 'is required: the row fits audit, auth; send "kind"' }]);
  });
});

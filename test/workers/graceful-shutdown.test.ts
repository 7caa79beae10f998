import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { openClickHouse } from '../../src/lib/clickhouse';
import { spawnAuditflow } from '../helpers/child';
import { countUnique, createApiKey, ingestQueueEmpty, postEvents } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

const ns = createNamespace('shutdown');
afterAll(() => ns.cleanup());

it.each(['SIGTERM', 'SIGINT'] as const)(
  'on %s flushes every accepted event to ClickHouse and exits 0',
  async (signal) => {
    const key = await createApiKey(ns, `shutdown-${signal}`);
    // Rows would sit in the buffer for a minute: only the shutdown flush can write them in time.
    const server = await spawnAuditflow(ns.env({ FLUSH_MAX_AGE_MS: '60000', FLUSH_MAX_ROWS: '1000000' }));
    const url = `http://127.0.0.1:${server.port}`;
    let accepted = 0;
    for (let i = 0; i < 5; i++) {
      const res = await postEvents(
        url,
        key,
        Array.from({ length: 100 }, () => ({ kind: 'session', event_id: randomUUID(), session_id: `s-${signal}`, expires_at: '2030-01-01T00:00:00Z' })),
      );
      expect(res.status).toBe(202);
      accepted += res.body.accepted;
    }
    await new Promise((r) => setTimeout(r, 500)); // the worker has taken the jobs and buffered their rows
    const started = Date.now();
    server.child.kill(signal);
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(15_000);

    const clickhouse = await openClickHouse(ns.config().clickhouse);
    try {
      const rows = await clickhouse.query({ query: `SELECT count() AS n FROM user_sessions WHERE session_id = {s:String}`, query_params: { s: `s-${signal}` }, format: 'JSONEachRow' });
      expect(Number((await rows.json<{ n: string }>())[0]!.n)).toBe(accepted);
      const all = await countUnique(clickhouse, 'user_sessions');
      expect(all.count).toBe(all.unique);
    } finally {
      await clickhouse.close();
    }
  },
  60_000,
);

it('exits 1 at the SHUTDOWN_TIMEOUT_MS deadline when a step cannot finish, instead of hanging', async () => {
  const key = await createApiKey(ns, 'shutdown-deadline', ['query']);
  // An api-only process with no worker: a relayed analyst query waits for an answer that never comes,
  // so closing the HTTP server (which waits for in-flight requests) cannot finish.
  const server = await spawnAuditflow(ns.env({ ROLE: 'api', SHUTDOWN_TIMEOUT_MS: '1000', DATA_DIR: `${ns.dataDir}/deadline` }));
  const pending = fetch(`http://127.0.0.1:${server.port}/clickhouse?query=SELECT%201`, { headers: { 'X-ClickHouse-Key': key } }).catch(() => null);
  await new Promise((r) => setTimeout(r, 500));
  const started = Date.now();
  server.child.kill('SIGTERM');
  expect(await server.exited).toEqual({ code: 1, signal: null });
  const took = Date.now() - started;
  expect(took).toBeGreaterThanOrEqual(900);
  expect(took).toBeLessThan(5000);
  expect(server.logs.map((l) => l.msg)).toContain('shutdown timed out; exiting');
  await pending;
}, 30_000);

it('exits on SIGTERM while an app keeps posting over keep-alive connections, and keeps every event it acknowledged', async () => {
  const key = await createApiKey(ns, 'shutdown-busy');
  // The deadline is far: only a shutdown that stops serving busy connections exits in time.
  const server = await spawnAuditflow(ns.env({ SHUTDOWN_TIMEOUT_MS: '60000', DATA_DIR: `${ns.dataDir}/busy` }));
  const url = `http://127.0.0.1:${server.port}`;
  let exitedAt: number | undefined;
  void server.exited.then(() => {
    exitedAt = Date.now();
  });
  const until = Date.now() + 20_000;
  let accepted = 0;
  let failures = 0;
  // An app shipping its logs: four connections (fetch keeps them alive), each posting as soon as it is answered.
  const app = async () => {
    while (Date.now() < until && (exitedAt === undefined || Date.now() < exitedAt + 500)) {
      try {
        const res = await postEvents(url, key, [{ kind: 'session', event_id: randomUUID(), session_id: 's-busy', expires_at: '2030-01-01T00:00:00Z' }]);
        if (res.status === 202) accepted += res.body.accepted;
      } catch {
        failures++; // refused once the port is closed; the app would resend elsewhere
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  const apps = Promise.all([app(), app(), app(), app()]);
  await new Promise((r) => setTimeout(r, 2000));
  const started = Date.now();
  server.child.kill('SIGTERM');
  expect(await server.exited).toEqual({ code: 0, signal: null });
  const took = Date.now() - started;
  await apps;
  expect(took).toBeLessThan(10_000);
  expect(accepted).toBeGreaterThan(0);
  expect(failures).toBeGreaterThan(0);

  // Jobs no worker had taken yet wait in Redis for the next one (the fault suite's "SIGTERM during load" row).
  const next = await spawnAuditflow(ns.env({ ROLE: 'worker', DATA_DIR: `${ns.dataDir}/busy` }));
  await ingestQueueEmpty(ns);
  next.child.kill('SIGTERM');
  expect(await next.exited).toEqual({ code: 0, signal: null });
  const clickhouse = await openClickHouse({ mode: 'embedded', path: `${ns.dataDir}/busy/clickhouse`, database: ns.config().clickhouse.database });
  try {
    const rows = await clickhouse.query({ query: `SELECT count() AS n, uniqExact(event_id) AS u FROM user_sessions WHERE session_id = 's-busy'`, format: 'JSONEachRow' });
    const [row] = await rows.json<{ n: string; u: string }>();
    expect({ n: Number(row!.n), u: Number(row!.u) }).toEqual({ n: accepted, u: accepted });
  } finally {
    await clickhouse.close();
  }
}, 60_000);

it('exits 0 on SIGTERM while a client holds a request open, sending its body a byte at a time', async () => {
  const key = await createApiKey(ns, 'shutdown-slow');
  const server = await spawnAuditflow(ns.env({ DATA_DIR: `${ns.dataDir}/slow` }));
  const socket = net.connect(server.port!, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise((r) => socket.once('connect', r));
  socket.write(`POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n[`);
  const drip = setInterval(() => socket.write(' '), 200);
  try {
    await new Promise((r) => setTimeout(r, 500));
    const started = Date.now();
    server.child.kill('SIGTERM');
    // Not the 30 s SHUTDOWN_TIMEOUT_MS and its exit 1: the request is cut once its 5 s of grace are over.
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(12_000);
  } finally {
    clearInterval(drip);
    socket.destroy();
  }
}, 60_000);

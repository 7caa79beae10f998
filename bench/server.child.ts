/**
 * The server under test: the product's own start(config, logger) with
 * loadConfig(process.env) and its logger — what `node dist/main.js` runs —
 * plus an IPC channel through which the bench asks which sampled event_ids
 * are visible in ClickHouse yet.
 *
 * Why not `node dist/main.js` itself: the embedded ClickHouse store belongs to
 * the process that opened it, and the product has no query endpoint yet, so
 * the only way to look into the table during the run is from inside the
 * owning process. The queries use the same client the writer uses
 * (`running.clickhouse`); they are small (an IN list of at most a few hundred
 * UUIDs on the bloom-filter index) and are part of the measured load.
 */
import fs from 'node:fs';
import { Session } from 'node:inspector';
import { isMessage, type FromServer, type ToServer } from './ipc';
import { product } from '../traffic/product';
import { BENCH_TABLE } from '../traffic/workload';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function send(message: FromServer): void {
  process.send?.(message);
}

let profiler: Session | undefined;

function inspectorPost(session: Session, method: 'Profiler.enable' | 'Profiler.start'): Promise<void> {
  return new Promise((resolve, reject) => session.post(method, (error) => (error ? reject(error) : resolve())));
}

async function startProfile(): Promise<void> {
  if (profiler) return;
  profiler = new Session();
  profiler.connect();
  await inspectorPost(profiler, 'Profiler.enable');
  await inspectorPost(profiler, 'Profiler.start');
}

async function stopProfile(file: string): Promise<void> {
  const session = profiler;
  if (!session) return;
  profiler = undefined;
  const profile = await new Promise<object>((resolve, reject) => session.post('Profiler.stop', (error, result) => (error ? reject(error) : resolve(result.profile))));
  session.disconnect();
  fs.writeFileSync(file, JSON.stringify(profile));
}

async function main(): Promise<void> {
  // As src/main.ts does before it loads the config.
  product.zodConfig().configureZod();
  const config = product.env().loadConfig(process.env);
  const logger = product.logger().createLogger(config.logLevel, { pid: process.pid, bench: true });
  const running = await product.start().start(config, logger);
  const clickhouse = running.clickhouse;
  if (!clickhouse && running.port === undefined) throw new Error('the bench server needs the api role, the worker role, or both');
  const store = () => {
    if (!clickhouse) throw new Error('this process runs no worker role, so it holds no ClickHouse');
    return clickhouse;
  };

  let elu = performance.eventLoopUtilization();
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    const clean = await running.stop();
    process.exit(clean ? 0 : 1);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  process.on('disconnect', () => void stop());

  process.on('message', (raw: unknown) => {
    if (!isMessage<ToServer>(raw)) return;
    const message = raw;
    if (message.type === 'stop') {
      void stop();
      return;
    }
    void (async () => {
      try {
        if (message.type === 'visible') {
          const ids = message.ids.filter((id) => UUID.test(id));
          if (ids.length === 0) return send({ type: 'visible', reqId: message.reqId, ids: [] });
          const result = await store().query({
            query: `SELECT toString(event_id) AS id FROM ${BENCH_TABLE} WHERE event_id IN (${ids.map((id) => `'${id}'`).join(',')})`,
            format: 'JSONEachRow',
          });
          const rows = await result.json<{ id: string }>();
          send({ type: 'visible', reqId: message.reqId, ids: rows.map((r) => r.id) });
        } else if (message.type === 'count') {
          const result = await store().query({ query: `SELECT count() AS n FROM ${BENCH_TABLE}`, format: 'JSONEachRow' });
          const [row] = await result.json<{ n: string }>();
          send({ type: 'count', reqId: message.reqId, count: Number(row?.n ?? 0) });
        } else if (message.type === 'elu') {
          const now = performance.eventLoopUtilization();
          const delta = performance.eventLoopUtilization(now, elu);
          elu = now;
          send({ type: 'elu', reqId: message.reqId, utilization: delta.utilization });
        } else if (message.type === 'profile') {
          if (message.action === 'start') await startProfile();
          else await stopProfile(message.file ?? `server-${Date.now()}.cpuprofile`);
          send({ type: 'profile', reqId: message.reqId });
        }
      } catch (error) {
        send({ type: 'error', reqId: message.reqId, message: error instanceof Error ? error.message : String(error) });
      }
    })();
  });

  send({ type: 'ready', ...(running.port === undefined ? {} : { port: running.port }) });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench server failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

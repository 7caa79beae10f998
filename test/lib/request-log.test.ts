import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import { AppError } from '../../src/lib/errors/app-error';
import { createLogger } from '../../src/lib/logger';
import { errorHandler } from '../../src/http/error-handler';
import { requestContext } from '../../src/http/request-context';
import { requestLog } from '../../src/features/ops/request-log';
import { eventually } from '../helpers/test-env';

/** An app with the API's request log and error handler, logging at `level` into `lines`. */
async function serve(level: string) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger(
    level,
    {},
    new Writable({
      write: (chunk, _enc, done) => {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  );
  const app = express();
  app.use(requestContext(undefined));
  app.use(requestLog(logger));
  app.get('/ok', (_req, res) => res.json({ ok: true }));
  app.get('/healthz', (_req, res) => res.json({ ok: true }));
  app.get('/missing', () => {
    throw new AppError('NOT_FOUND', 'no such thing');
  });
  app.get('/broken', () => {
    throw new Error('the database said something private');
  });
  app.use(errorHandler(logger));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const get = async (path: string, requestId: string) => {
    const res = await fetch(`${url}${path}`, { headers: { 'x-request-id': requestId } });
    await res.text();
    return res.status;
  };
  // A line is written on 'close', just after the answer's last byte: wait for the one expected last.
  const linesUpTo = (requestId: string) => eventually(async () => lines.some((l) => l.requestId === requestId && l.msg !== 'unhandled error') && lines);
  return { lines, get, linesUpTo, close: () => new Promise((resolve) => server.close(resolve)) };
}

it('at LOG_LEVEL=warn writes no line for a success, and one line, with the request id, per failure', async () => {
  const app = await serve('warn');
  try {
    expect(await app.get('/ok', 'ok-1')).toBe(200);
    expect(await app.get('/missing?token=hunter2', 'missing-1')).toBe(404);
    expect(await app.linesUpTo('missing-1')).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'request completed',
        requestId: 'missing-1',
        req: { method: 'GET', url: '/missing?token=%5Bredacted%5D' },
        res: { statusCode: 404 },
        route: '/missing',
        responseTime: expect.any(Number),
      }),
    ]);

    app.lines.length = 0;
    expect(await app.get('/broken', 'broken-1')).toBe(500);
    // The error handler's line and the request's, both under the request's id.
    expect(await app.linesUpTo('broken-1')).toEqual([
      expect.objectContaining({ level: 50, msg: 'unhandled error', requestId: 'broken-1', err: expect.objectContaining({ message: 'the database said something private' }) }),
      expect.objectContaining({ level: 50, msg: 'request failed', requestId: 'broken-1', res: { statusCode: 500 } }),
    ]);
  } finally {
    await app.close();
  }
});

it('at LOG_LEVEL=info logs successes too, but never probes', async () => {
  const app = await serve('info');
  try {
    await app.get('/healthz', 'probe-1');
    await app.get('/ok', 'ok-2');
    expect(await app.linesUpTo('ok-2')).toEqual([expect.objectContaining({ level: 30, msg: 'request completed', requestId: 'ok-2', res: { statusCode: 200 }, route: '/ok', ip: '127.0.0.1' })]);
  } finally {
    await app.close();
  }
});

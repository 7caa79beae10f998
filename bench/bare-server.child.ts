/**
 * (c-bare) The baseline: a bare Express 5 app on the same kind of port setup
 * (same host, keep-alive timeout) that only parses the JSON body with
 * express.json and answers 202 with a small JSON body.
 *
 * It listens as Express's own `app.listen` does, so it pays for Express's
 * per-request prototype change, which the product's server avoids
 * (src/roles/http-server.ts); built the product's way it ran 1.5–1.6× faster
 * on Node 20 (docs/performance.md). The baseline stays Express as users run it.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Ready } from './ipc';

const app = express();
app.disable('x-powered-by');
app.post('/v1/events', express.json({ limit: 5 * 1024 * 1024, strict: false, type: () => true }), (req, res) => {
  const events = Array.isArray(req.body) ? req.body.length : 1;
  res.status(202).json({ accepted: events, duplicates: 0, rejected: 0 });
});

const server = app.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  server.keepAliveTimeout = 65_000;
  const message: Ready = { type: 'ready', port: (server.address() as AddressInfo).port };
  process.send?.(message);
});
const stop = () => server.close(() => process.exit(0)) && server.closeIdleConnections();
process.on('SIGTERM', stop);
process.on('disconnect', stop);
process.on('message', (m: unknown) => {
  if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'stop') stop();
});

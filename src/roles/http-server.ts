import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Express } from 'express';

/**
 * Express gives every request and response its app's prototype with
 * `Object.setPrototypeOf`, on every request. V8 then keeps request garbage
 * alive through young-generation collections: with it, 5–10 MB survived each
 * scavenge and the API paused 5–15 ms every 100–200 ms under load, even with
 * one request in flight; without it, a few KB and 0.3 ms. Those pauses were
 * most of the API's tail latency (docs/performance.md).
 *
 * So the server builds them with the app's prototypes from the start, and
 * Express's own call finds the prototype already set and changes nothing
 * (expressjs/express#5998). Node's constructors are plain functions that can
 * initialise an object made here; were they ever classes, which cannot be
 * called so, the server keeps Node's own and Express works as before.
 */
export function requestClassesFor(app: Express): { IncomingMessage: typeof IncomingMessage; ServerResponse: typeof ServerResponse } | undefined {
  const isClass = (f: unknown) => /^class\b/.test(Function.prototype.toString.call(f));
  if (isClass(IncomingMessage) || isClass(ServerResponse)) return undefined;
  const initRequest = IncomingMessage as unknown as (this: IncomingMessage, ...args: unknown[]) => void;
  const initResponse = ServerResponse as unknown as (this: ServerResponse, ...args: unknown[]) => void;
  function AppRequest(this: IncomingMessage, ...args: unknown[]): void {
    initRequest.apply(this, args);
  }
  AppRequest.prototype = app.request;
  function AppResponse(this: ServerResponse, ...args: unknown[]): void {
    initResponse.apply(this, args);
  }
  AppResponse.prototype = app.response;
  return { IncomingMessage: AppRequest as unknown as typeof IncomingMessage, ServerResponse: AppResponse as unknown as typeof ServerResponse };
}

/** Open connections of each server, for a shutdown that can tell them to close (closeServer). */
const openSockets = new WeakMap<Server, Set<Socket>>();

/** Listens on port (0: any free one); resolves once the server accepts connections. */
export function listen(app: Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(requestClassesFor(app) ?? {}, app);
    const sockets = new Set<Socket>();
    openSockets.set(server, sockets);
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

type ServerSocket = Socket & { _httpMessage?: ServerResponse | null };

/**
 * Stops taking requests; resolves once every connection is closed.
 * `server.close()` alone keeps serving open keep-alive connections: an app
 * that posts without pause held the server open until it paused, or until the
 * shutdown timeout cut the stop short (exit 1). So every answer not yet
 * begun, in flight or still to come on an open connection, is sent with
 * `Connection: close`, and Node closes each connection after it. Idle
 * connections are closed at once (by `close()` itself), and one that falls
 * idle later without that header (its answer had begun) within half a second.
 *
 * A request still arriving after `slowRequestGraceMs` (headers or body sent
 * a byte at a time) is cut: nothing has acted on it yet, and it would hold the
 * stop to its timeout. A request that has arrived is always answered. So a
 * client can only lose a request the server had not read, or had not read in
 * full, which was never acknowledged: it resends (as after HTTP/1.1's
 * keep-alive race, a request written as its idle connection was closed).
 */
export function closeServer(server: Server, { slowRequestGraceMs = 5000 }: { slowRequestGraceMs?: number } = {}): Promise<void> {
  const closeAfter = (res: ServerResponse | null | undefined) => {
    if (res && !res.headersSent) res.setHeader('Connection', 'close');
  };
  const sockets = openSockets.get(server) ?? new Set<Socket>();
  const started = performance.now();
  return new Promise<void>((resolve) => {
    server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => closeAfter(res));
    // Node keeps a connection's current response on its socket (`_httpMessage`, also read by http-terminator).
    for (const socket of sockets) closeAfter((socket as ServerSocket)._httpMessage);
    const sweep = setInterval(
      () => {
        server.closeIdleConnections();
        if (performance.now() - started < slowRequestGraceMs) return;
        for (const socket of sockets as Set<ServerSocket>) {
          const res = socket._httpMessage;
          // No response yet on a connection that is not idle: its headers are still arriving.
          if (!res?.req.complete) socket.destroy();
        }
      },
      Math.min(500, slowRequestGraceMs),
    ).unref();
    server.close(() => {
      clearInterval(sweep);
      resolve();
    });
  });
}

export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

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

/**
 * Stops taking requests; resolves once every connection is closed.
 * `server.close()` alone keeps serving open keep-alive connections: an app
 * that posts without pause held the server open until it paused, or until the
 * shutdown timeout killed the process with the store open. So every answer
 * not yet begun, in flight or still to come on an open connection, is sent
 * with `Connection: close`, and Node closes each connection after it. Idle
 * connections are closed at once (by `close()` itself), and one that falls
 * idle later without that header (its answer had begun) within half a
 * second. An answer in flight is never cut: a client can only lose a request
 * it wrote as its idle connection was closed, which the server never read,
 * so never acknowledged (HTTP/1.1's keep-alive race; it resends).
 */
export function closeServer(server: Server): Promise<void> {
  const closeAfter = (res: ServerResponse | undefined) => {
    if (res && !res.headersSent) res.setHeader('Connection', 'close');
  };
  return new Promise<void>((resolve) => {
    server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => closeAfter(res));
    // Node keeps a connection's current response on its socket (`_httpMessage`, also read by http-terminator).
    for (const socket of openSockets.get(server) ?? []) closeAfter((socket as Socket & { _httpMessage?: ServerResponse })._httpMessage);
    const sweep = setInterval(() => server.closeIdleConnections(), 500).unref();
    server.close(() => {
      clearInterval(sweep);
      resolve();
    });
  });
}

export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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

/** Listens on port (0: any free one); resolves once the server accepts connections. */
export function listen(app: Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(requestClassesFor(app) ?? {}, app);
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

import http, { type Server } from 'node:http';
import net from 'node:net';
import express from 'express';
import { closeServer, listen, portOf, requestClassesFor } from '../../src/roles/http-server';

/**
 * The server builds requests and responses with the app's prototypes, so
 * Express never has to change an object's prototype (which cost the API
 * 5–15 ms young-generation pauses under load). Everything Express gives a
 * handler must still be there, for the app and for an app mounted in it.
 */
describe('listen: requests built with the app’s prototypes', () => {
  const app = express();
  const admin = express();
  let server: Server;
  let base: string;
  const builtWithAppPrototypes: boolean[] = [];

  beforeAll(async () => {
    app.set('trust proxy', 'loopback');
    admin.get('/who', (req, res) => {
      res.json({ app: req.app === admin, baseUrl: req.baseUrl, path: req.path });
    });
    app.use('/admin', admin);
    app.post('/echo', express.json(), (req, res) => {
      res
        .status(201)
        .set('X-Seen', req.get('x-probe') ?? '')
        .json({ body: req.body as unknown, ip: req.ip, protocol: req.protocol, is: req.is('application/json') });
    });
    app.use((_req, res) => {
      res.status(404).send('none');
    });
    server = await listen(app, 0, '127.0.0.1');
    server.prependListener('request', (req, res) => {
      builtWithAppPrototypes.push(Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response);
    });
    base = `http://127.0.0.1:${portOf(server)}`;
  });

  afterAll(async () => {
    await closeServer(server);
  });

  it('hands Express a request and response that already have the app’s prototypes', async () => {
    expect(requestClassesFor(app)).toBeDefined();
    const response = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-probe': 'p1' }, body: JSON.stringify({ a: [1, 2] }) });
    expect(response.status).toBe(201);
    expect(builtWithAppPrototypes.at(-1)).toBe(true);
  });

  it('keeps every request and response method Express adds, over one keep-alive connection', async () => {
    for (let i = 0; i < 20; i++) {
      const response = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-probe': `p${i}` }, body: JSON.stringify({ i }) });
      expect(response.status).toBe(201);
      expect(response.headers.get('x-seen')).toBe(`p${i}`);
      expect(await response.json()).toEqual({ body: { i }, ip: '127.0.0.1', protocol: 'http', is: 'application/json' });
    }
    expect(builtWithAppPrototypes.every(Boolean)).toBe(true);
  });

  it('still gives a mounted app its own request and response', async () => {
    const response = await fetch(`${base}/admin/who`);
    expect(await response.json()).toEqual({ app: true, baseUrl: '/admin', path: '/who' });
  });

  it('answers a bad body and an unknown route as before', async () => {
    const bad = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    expect(bad.status).toBe(400);
    const none = await fetch(`${base}/nowhere`);
    expect(none.status).toBe(404);
    expect(await none.text()).toBe('none');
  });

  it('refuses a body over the limit with 413, and keeps serving after a client drops mid-body', async () => {
    const huge = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(200_000) }) });
    expect(huge.status).toBe(413);
    await new Promise<void>((resolve) => {
      const socket = net.connect(portOf(server), '127.0.0.1', () => {
        socket.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":');
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
    });
    const after = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ok":true}' });
    expect(after.status).toBe(201);
  });
});

/**
 * An app shipping its logs posts without pause over keep-alive connections.
 * `server.close()` alone kept answering them, so a shutdown waited until the
 * clients paused, or until its timeout killed the process with the store open.
 */
describe('closeServer: busy keep-alive clients cannot hold the server open', () => {
  it('answers what is in flight, tells each connection to close, and is closed while the clients still post', async () => {
    let closing = false;
    const served: { inFlightAtClose: boolean; arrivedWhileClosing: boolean; toldToClose: boolean }[] = [];
    const app = express();
    app.post('/slow', (_req, res) => {
      const arrivedWhileClosing = closing;
      setTimeout(() => {
        const inFlightAtClose = !arrivedWhileClosing && closing;
        res.json({ ok: true });
        served.push({ inFlightAtClose, arrivedWhileClosing, toldToClose: res.getHeader('connection') === 'close' });
      }, 5);
    });
    const server = await listen(app, 0, '127.0.0.1');
    const port = portOf(server);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const statuses: number[] = [];
    const errors: string[] = [];
    const post = () =>
      new Promise<void>((resolve) => {
        const req = http.request({ port, host: '127.0.0.1', agent, method: 'POST', path: '/slow' }, (res) => {
          statuses.push(res.statusCode ?? 0);
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', (error: NodeJS.ErrnoException) => {
          errors.push(error.code ?? error.message);
          resolve();
        });
        req.end('x');
      });
    const until = Date.now() + 2500;
    const client = async () => {
      while (Date.now() < until) await post();
    };
    const clients = Promise.all([client(), client(), client(), client()]);
    await new Promise((r) => setTimeout(r, 300));
    closing = true;
    const started = performance.now();
    await closeServer(server);
    const closedMs = performance.now() - started;
    const stillPosting = Date.now() < until;
    await clients;
    agent.destroy();

    expect(stillPosting).toBe(true);
    expect(closedMs).toBeLessThan(400);
    // Every request the server read was answered in full.
    expect(statuses.length).toBe(served.length);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const beforeClose = served.filter((r) => !r.inFlightAtClose && !r.arrivedWhileClosing);
    const afterClose = served.filter((r) => r.inFlightAtClose || r.arrivedWhileClosing);
    expect(beforeClose.length).toBeGreaterThan(10);
    // Each of the four connections answers at most once more, told to close: what it had in flight, or the next request.
    expect(afterClose.length).toBeLessThanOrEqual(4);
    expect(afterClose.every((r) => r.toldToClose)).toBe(true);
    // Then the port is closed. A reset can only meet a request written to a connection as it was closed idle,
    // which the server never read (above: every request read was answered), so nothing acknowledged is lost.
    expect(errors).toContain('ECONNREFUSED');
    expect(errors.every((e) => e === 'ECONNREFUSED' || e === 'ECONNRESET')).toBe(true);
  });
});

describe('closeServer: a request sent a byte at a time cannot hold the server open', () => {
  it('cuts requests still arriving after the grace, and answers one that has arrived however long it takes', async () => {
    const app = express();
    app.post('/work', express.json(), (_req, res) => {
      setTimeout(() => res.json({ done: true }), 800);
    });
    const server = await listen(app, 0, '127.0.0.1');
    const port = portOf(server);
    const opened = (first: string) =>
      new Promise<net.Socket>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.write(first);
          resolve(socket);
        });
      });
    const closed = (socket: net.Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
    const slowBody = await opened('POST /work HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":');
    const slowHeaders = await opened('POST /work HTTP/1.1\r\nHost: x\r\nContent-Ty');
    slowBody.on('error', () => undefined);
    slowHeaders.on('error', () => undefined);
    const working = fetch(`http://127.0.0.1:${port}/work`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await new Promise((r) => setTimeout(r, 100));

    const started = performance.now();
    await closeServer(server, { slowRequestGraceMs: 300 });
    const took = performance.now() - started;
    await Promise.all([closed(slowBody), closed(slowHeaders)]);
    const answer = await working;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ done: true });
    expect(answer.headers.get('connection')).toBe('close');
    expect(took).toBeGreaterThanOrEqual(600);
    expect(took).toBeLessThan(2000);
  });
});

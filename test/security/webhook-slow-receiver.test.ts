import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pinnedPost } from '../../src/features/webhooks/pinned-post';
import { OutboundAddressPolicy } from '../../src/lib/outbound-address';

/**
 * An app points its webhook at a receiver that never finishes: it answers
 * 200 at once and then sends one byte of body every few hundred
 * milliseconds, for ever (or stalls the same way inside the request). The
 * delivery's timeout was the socket's idle timeout, which a trickle resets,
 * so the call never ended. The webhook worker delivers every app's calls
 * 16 at a time: 16 such calls held every slot, and no other app's
 * `integrity.failed` or `subject.locked` went out.
 */
const sockets = new Set<import('node:net').Socket>();
const timers = new Set<NodeJS.Timeout>();
const tarpit = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain' });
  const timer = setInterval(() => res.write('.'), 200);
  timers.add(timer);
  res.on('close', () => clearInterval(timer));
});
tarpit.on('connection', (socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});
let port: number;

beforeAll(async () => {
  await new Promise<void>((r) => tarpit.listen(0, '127.0.0.2', r));
  port = (tarpit.address() as AddressInfo).port;
});
afterAll(async () => {
  for (const timer of timers) clearInterval(timer);
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((r) => tarpit.close(() => r()));
});

it('a delivery ends within its timeout even when the receiver keeps trickling bytes', async () => {
  // 127.0.0.2 stands in for a public receiver (allowed here).
  const policy = new OutboundAddressPolicy(['127.0.0.2/32']);
  const started = performance.now();
  const outcome = await Promise.race([
    pinnedPost(new URL(`http://127.0.0.2:${port}/hook`), {}, '{}', policy, 1000).then(
      (status) => `answered ${status}`,
      (error: Error) => `failed: ${error.message}`,
    ),
    new Promise<string>((r) => setTimeout(() => r('still running after 5 s'), 5000)),
  ]);
  expect(outcome).not.toBe('still running after 5 s');
  expect(performance.now() - started).toBeLessThan(3000);
}, 10_000);

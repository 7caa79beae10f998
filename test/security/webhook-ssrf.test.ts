import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OutboundAddressPolicy, type Resolver } from '../../src/lib/outbound-address';
import { pinnedPost } from '../../src/features/webhooks/pinned-post';
import { api } from '../helpers/accounts';
import { createApiKey, startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

/**
 * Issue 12 §3: webhooks reached internal addresses. Every form the attack
 * run used, names that resolve inside, DNS rebinding between check and
 * connect, and redirects; an operator's allow-list for receivers on premises.
 */
const ns = createNamespace('ssrf');
let stack: Awaited<ReturnType<typeof startStack>>;
let key: string;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  key = await createApiKey(ns, 'ssrf-app', ['risk']);
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

const INTERNAL = [
  ['http://127.0.0.1:6379/', 'loopback'],
  ['http://0x7f000001:5432/', 'loopback'],
  ['http://2130706433/', 'loopback'],
  ['http://0177.0.0.1/', 'loopback'],
  ['http://127.1/', 'loopback'],
  ['http://[::1]:3000/admin/users', 'loopback'],
  ['http://[::ffff:127.0.0.1]/', 'loopback'],
  ['http://[::7f00:1]/', 'IPv4-compatible'],
  ['http://[::a00:5]/', 'IPv4-compatible'],
  ['http://169.254.169.254/latest/meta-data/', 'link-local'],
  ['http://10.0.0.5/', 'private'],
  ['http://172.16.3.4/', 'private'],
  ['http://192.168.1.1/', 'private'],
  ['http://100.64.0.1/', 'carrier-grade NAT'],
  ['http://[fd12:3456::1]/', 'unique-local'],
  ['http://[fe80::1]/', 'link-local'],
  ['http://0.0.0.0/', 'unspecified'],
  ['http://[::]/', 'unspecified'],
  ['http://224.0.0.1/', 'multicast'],
  ['http://localhost:6379/', 'loopback'],
] as const;

it.each(INTERNAL)('PUT /v1/webhook refuses %s with 400 and the reason (%s)', async (url, reason) => {
  const res = await api(stack.url, 'PUT', '/v1/webhook', { token: key, body: { url } });
  expect(res.status).toBe(400);
  expect(JSON.stringify(res.body)).toContain(reason);
  expect((await api(stack.url, 'GET', '/v1/webhook', { token: key })).status).toBe(404);
});

it('accepts a public address, and refuses a name that does not resolve', async () => {
  expect((await api(stack.url, 'PUT', '/v1/webhook', { token: key, body: { url: 'https://93.184.215.14/hook' } })).status).toBe(201);
  const unresolvable = await api(stack.url, 'PUT', '/v1/webhook', { token: key, body: { url: 'https://no-such-host.invalid/hook' } });
  expect(unresolvable.status).toBe(400);
  expect(JSON.stringify(unresolvable.body)).toContain('does not resolve');
});

describe('delivery', () => {
  const received: string[] = [];
  const receiver = http.createServer((req, res) => {
    received.push(`${req.socket.localAddress} ${req.url}`);
    req.resume();
    if (req.url === '/redirect') res.writeHead(302, { location: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/internal` }).end();
    else res.writeHead(200).end();
  });
  let port: number;
  beforeAll(
    () =>
      new Promise<void>((r) =>
        receiver.listen(0, '127.0.0.2', () => {
          port = (receiver.address() as AddressInfo).port;
          r();
        }),
      ),
  );
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));
  beforeEach(() => (received.length = 0));

  it('connects to the address it checked, and a rebinding to an internal address is refused at the next delivery', async () => {
    // 127.0.0.2 stands in for a public receiver (allowed here); the name then rebinds to 127.0.0.1.
    const answers = ['127.0.0.2', '127.0.0.1'];
    const resolver: Resolver = async () => [{ address: answers.shift()!, family: 4 }];
    const policy = new OutboundAddressPolicy(['127.0.0.2/32'], resolver);
    const url = new URL(`http://hooks.example.test:${port}/hook`);
    // The system resolver knows no hooks.example.test: the request reached 127.0.0.2 only through the checked address.
    expect(await pinnedPost(url, {}, '{}', policy, 2000)).toBe(200);
    expect(received).toEqual(['127.0.0.2 /hook']);
    await expect(pinnedPost(url, {}, '{}', policy, 2000)).rejects.toThrow(/resolves to 127\.0\.0\.1; 127\.0\.0\.1 is a loopback address/);
    expect(received).toHaveLength(1);
  });

  it('refuses a name when any of its addresses is internal', async () => {
    const policy = new OutboundAddressPolicy([], async () => [
      { address: '93.184.215.14', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ]);
    await expect(policy.check(new URL('https://mixed.example.test/'))).rejects.toThrow(/10\.0\.0\.7 is a private/);
  });

  it('follows no redirect: a 302 is the answer, and the internal target is never called', async () => {
    const policy = new OutboundAddressPolicy(['127.0.0.2/32']);
    expect(await pinnedPost(new URL(`http://127.0.0.2:${port}/redirect`), {}, '{}', policy, 2000)).toBe(302);
    expect(received).toEqual(['127.0.0.2 /redirect']);
  });

  it('the default policy refuses loopback at delivery too', async () => {
    await expect(pinnedPost(new URL(`http://127.0.0.2:${port}/hook`), {}, '{}', new OutboundAddressPolicy(), 2000)).rejects.toThrow(/loopback/);
    expect(received).toEqual([]);
  });
});

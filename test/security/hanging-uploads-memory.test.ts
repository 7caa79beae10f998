import net from 'node:net';
import type { ErrorBody } from '../helpers/accounts';
import { createApiKey, postEvents, startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

/**
 * docs/reliability.md and PostsInFlight call uploads left hanging mid-body a
 * slowloris "which costs the process nothing". It costs the body read so far:
 * the ingest route admits a post before reading its body, and body-parser keeps
 * every byte that arrived until the last one does, for up to Node's
 * requestTimeout (5 minutes). One app with an ingest key that sends each post
 * but its last byte holds BODY_LIMIT_BYTES (5 MiB by default) of the API's
 * memory per connection: a few hundred connections and the API process is out
 * of memory, every app's ingest and the todo API with it.
 */
const ns = createNamespace('hanginguploads');
afterAll(() => ns.cleanup());

const LIMIT = 1024 * 1024;

/** Opens a post of `key` whose body stops one byte short of its Content-Length; resolves with its answer if one comes within `waitMs`. */
function hangingUpload(port: number, key: string, sockets: net.Socket[]): { answered: Promise<string | null> } {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => undefined);
  let text = '';
  const answered = new Promise<string | null>((resolve) => {
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n\r\n')) resolve(text);
    });
    socket.on('close', () => resolve(text || null));
    setTimeout(() => resolve(text || null), 4000).unref();
  });
  socket.write(`POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${LIMIT}\r\n\r\n`);
  socket.write(`[{"kind":"audit","event_type":"logout","user_id":"${'x'.repeat(LIMIT - 100)}`);
  return { answered };
}

it("one app's uploads left hanging just short of the body limit are bounded: the rest are refused with 429 and Retry-After, other apps are served, and the memory held stays small", async () => {
  const stack = await startStack(ns, { ROLE: 'api', BODY_LIMIT_BYTES: String(LIMIT) });
  const sockets: net.Socket[] = [];
  try {
    const attacker = await createApiKey(ns, 'hanging-app');
    const other = await createApiKey(ns, 'other-app');
    const port = Number(new URL(stack.url).port);
    // Warm up both keys and the route, so what is measured next is the uploads.
    expect((await postEvents(stack.url, attacker, { kind: 'audit', event_type: 'logout', user_id: 'warm' })).status).toBe(202);
    global.gc?.();
    const before = process.memoryUsage().arrayBuffers;

    // 60 posts of 1 MiB, each one byte short: 60 MiB held on the old code.
    const uploads = Array.from({ length: 60 }, () => hangingUpload(port, attacker, sockets));
    const answers = await Promise.all(uploads.map((u) => u.answered));
    global.gc?.();
    const held = process.memoryUsage().arrayBuffers - before;

    const refused = answers.filter((a): a is string => a !== null && /^HTTP\/1\.1 429/.test(a));
    // Beyond the app's share of upload memory, posts are refused before their body is read, and told when to come back.
    expect(refused.length).toBeGreaterThan(0);
    for (const answer of refused) expect(answer).toMatch(/\r\nretry-after: \d+\r\n/i);
    // Nothing was answered with a 5xx.
    expect(answers.filter((a) => a !== null && /^HTTP\/1\.1 5/.test(a))).toEqual([]);
    expect(held).toBeLessThan(40 * LIMIT);

    // The attacker's next post is refused too, while another app's is accepted.
    const again = await postEvents<ErrorBody>(stack.url, attacker, { kind: 'audit', event_type: 'logout', user_id: 'more' });
    expect(again.status).toBe(429);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await postEvents(stack.url, other, { kind: 'audit', event_type: 'logout', user_id: 'other' })).status).toBe(202);
  } finally {
    for (const s of sockets) s.destroy();
    await stack.stop();
  }
}, 60_000);

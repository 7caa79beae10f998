/**
 * A request whose api_access event the API could not build. The
 * event's bytes_received is the request's Content-Length, which a client
 * chooses: one beyond 2^53 (9007199254740993; Node's parser takes any
 * 64-bit length) failed the event's own schema, so the request was answered
 * (413) and never recorded, and the server logged an error for each one.
 */
import net from 'node:net';
import { drainIngest, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('claimed-length');
let stack: Awaited<ReturnType<typeof startStack>>;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
});

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

/** Sends the request as written (fetch would refuse such a Content-Length), and gives up on the answer after a moment. */
function rawRequest(request: string): Promise<void> {
  return new Promise((resolve) => {
    const { hostname, port } = new URL(stack.url);
    const socket = net.connect(Number(port), hostname, () => socket.write(request));
    const done = () => {
      socket.destroy();
      resolve();
    };
    socket.on('error', done);
    socket.on('end', done);
    setTimeout(done, 1500);
  });
}

describe('the access log of a request with a huge Content-Length', () => {
  it('records the request whatever Content-Length it claims', async () => {
    for (const length of ['9007199254740991', '9007199254740993', '18446744073709551615']) {
      await rawRequest(`POST /auth/login HTTP/1.1\r\nHost: x\r\nUser-Agent: huge-length-${length}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n{}`);
    }
    const rows = await eventually(
      async () => {
        await drainIngest(stack, ns);
        const found = await queryRows<{ user_agent: string; response_status: number }>(
          stack.clickhouse!,
          "SELECT user_agent, response_status FROM api_access_log WHERE user_agent LIKE 'huge-length-%' ORDER BY user_agent",
        );
        return found.length === 3 && found;
      },
      10_000,
      250,
    );
    expect(rows).toEqual([
      { user_agent: 'huge-length-18446744073709551615', response_status: 413 },
      { user_agent: 'huge-length-9007199254740991', response_status: 413 },
      { user_agent: 'huge-length-9007199254740993', response_status: 413 },
    ]);
  }, 60_000);
});

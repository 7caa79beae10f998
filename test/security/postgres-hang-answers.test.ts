import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { api, signUp } from '../helpers/accounts';
import { ThrowawayPostgres } from '../helpers/postgres-server';
import { startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

/**
 * docs/reliability.md: while PostgreSQL cannot be asked, the API answers
 * 503 with Retry-After, never a 500 and never a hang. A server that stops
 * answering without closing its connections (a frozen host, a network
 * partition, a server stalled on its disk) is such an outage too: the pool's
 * idle connections still look open, so a query sent on one waited for ever,
 * and every request that needed PostgreSQL hung with it.
 */
const ns = createNamespace('pg-hang');
let pg: ThrowawayPostgres;
let stack: Awaited<ReturnType<typeof startStack>>;
let frozen: number[] = [];

/** The server's processes: the postmaster (first line of postmaster.pid) and its children. */
function serverPids(): number[] {
  const dataDir = path.join((pg as unknown as { dir: string }).dir, 'data');
  const postmaster = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' })
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => n > 0);
  return [postmaster, ...children];
}

const signal = (pids: number[], sig: NodeJS.Signals) => {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      /* gone */
    }
  }
};

beforeAll(async () => {
  pg = await ThrowawayPostgres.start();
  stack = await startStack(ns, { DATABASE_URL: pg.url(`af_test_${ns.id}`), ROLE: 'api', PG_REQUEST_TIMEOUT_MS: '3000' });
}, 60_000);
afterAll(async () => {
  signal(frozen, 'SIGCONT');
  await stack?.stop();
  await pg?.destroy();
  await ns.cleanup();
}, 60_000);

/** The answer, or 'no answer' once `ms` have passed. */
async function within(ms: number, call: Promise<{ status: number; headers: Headers }>): Promise<{ status: number; retryAfter: string | null } | 'no answer'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'no answer'>((resolve) => {
    timer = setTimeout(() => resolve('no answer'), ms);
  });
  try {
    const answer = await Promise.race([call, timeout]);
    return answer === 'no answer' ? answer : { status: answer.status, retryAfter: answer.headers.get('retry-after') };
  } finally {
    clearTimeout(timer);
  }
}

it('answers 503 with Retry-After, within seconds, while PostgreSQL accepts connections but answers nothing', async () => {
  const { token } = await signUp(stack.url, ns, `pg-hang-${randomUUID()}@example.com`);
  // The pool now holds idle connections, as a running API does.
  expect((await api(stack.url, 'POST', '/todos', { token, body: { title: 'before' } })).status).toBe(201);

  frozen = serverPids();
  signal(frozen, 'SIGSTOP');
  try {
    const todo = within(12_000, api(stack.url, 'POST', '/todos', { token, body: { title: 'during' } }));
    const me = within(12_000, api(stack.url, 'GET', '/me', { token }));
    const login = within(12_000, api(stack.url, 'POST', '/auth/login', { body: { email: 'nobody@example.com', password: 'x'.repeat(12) } }));
    expect(await todo).toEqual({ status: 503, retryAfter: expect.any(String) });
    expect(await me).toEqual({ status: 503, retryAfter: expect.any(String) });
    expect(await login).toEqual({ status: 503, retryAfter: expect.any(String) });
  } finally {
    signal(frozen, 'SIGCONT');
    frozen = [];
  }
  // And it recovers once the server answers again.
  expect((await api(stack.url, 'POST', '/todos', { token, body: { title: 'after' } })).status).toBe(201);
}, 90_000);

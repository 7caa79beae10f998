import { Client } from 'pg';
import { runCli } from '../helpers/child';
import { freePort } from '../helpers/redis-server';
import { spooledEvents } from '../helpers/spool';
import { createNamespace } from '../helpers/test-env';

/**
 * docs/security.md: a CLI operator cannot do anything unaudited; "a command
 * whose event can be recorded nowhere does nothing", and "if an event still
 * could not be recorded, the command fails with exit code 1".
 *
 * `auditflow admin suspend|reactivate --reason` took a reason of any length
 * into the audit event, whose `reason` holds at most 2000 characters. The
 * event then failed its schema, the publisher logged "the API built an
 * invalid event" and dropped it, and the command exited 0: an operator could
 * give a suspended administrator their access back (or shut one out) with no
 * trace, by padding the reason.
 */
const ns = createNamespace('cliunrecorded');
let env: Record<string, string>;

beforeAll(async () => {
  // Redis unreachable: every audit event of a command goes to the spool, where the test reads it.
  env = ns.env({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
});
afterAll(() => ns.cleanup());

async function adminStatus(email: string): Promise<string | undefined> {
  const pg = new Client({ connectionString: ns.databaseUrl });
  await pg.connect();
  try {
    return (await pg.query<{ status: string }>('SELECT status FROM administrators WHERE email = $1', [email])).rows[0]?.status;
  } finally {
    await pg.end();
  }
}

const recorded = (type: string) => spooledEvents(ns.dataDir).filter((e) => (e as { event_type?: string }).event_type === type);

it('an administrator suspended or reactivated with a long --reason is either recorded or not done at all', async () => {
  const email = 'insider@example.com';
  expect(runCli(['admin', 'create', '--email', email, '--password', 'an operator passphrase'], env).code).toBe(0);

  const reason = `routine review ${'.'.repeat(2100)}`;
  // Exit 0 means done and on record; anything else must say so (refused before acting, or done but not recorded).
  const suspended = runCli(['admin', 'suspend', email, '--reason', reason], env);
  expect(recorded('administrator_created')).toHaveLength(1);
  if (suspended.code === 0) {
    expect(await adminStatus(email)).toBe('suspended');
    expect(recorded('administrator_suspended')).toHaveLength(1);
  } else {
    expect(suspended.stderr).toMatch(/reason|could not be recorded/);
  }

  // Suspended as an operator would do it properly, if the long reason was refused.
  if ((await adminStatus(email)) === 'active') expect(runCli(['admin', 'suspend', email, '--reason', 'left the company'], env).code).toBe(0);
  expect(await adminStatus(email)).toBe('suspended');

  const reactivated = runCli(['admin', 'reactivate', email, '--reason', reason], env);
  if (reactivated.code === 0) {
    expect(await adminStatus(email)).toBe('active');
    // The reactivation is on record, whatever the reason's length.
    expect(recorded('administrator_reactivated')).toHaveLength(1);
  } else {
    expect(reactivated.stderr).toMatch(/reason|could not be recorded/);
  }
}, 120_000);

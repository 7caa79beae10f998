import { Client, type Pool } from 'pg';
import { createPgPool, ensureDatabase, isPgUnavailable, withTransaction } from '../../src/lib/pg';
import { createNamespace } from '../helpers/test-env';

const ns = createNamespace('pgtx');
let pool: Pool;

beforeAll(async () => {
  await ensureDatabase(ns.databaseUrl);
  // One connection: a client that withTransaction failed to release would make the next call wait until the connect timeout.
  pool = createPgPool(ns.databaseUrl, 1);
  await pool.query('CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)');
});

afterAll(async () => {
  await pool.end();
  await ns.cleanup();
});

async function notes(): Promise<string[]> {
  return (await pool.query<{ body: string }>('SELECT body FROM notes ORDER BY id')).rows.map((r) => r.body);
}

describe('withTransaction', () => {
  beforeEach(async () => {
    await pool.query('TRUNCATE notes');
  });

  it('commits every statement of the work together and resolves to what the work returned', async () => {
    const result = await withTransaction(pool, async (client) => {
      await client.query(`INSERT INTO notes VALUES (1, 'first')`);
      await client.query(`INSERT INTO notes VALUES (2, 'second')`);
      return 'done';
    });
    expect(result).toBe('done');
    expect(await notes()).toEqual(['first', 'second']);
  });

  it('rolls back every statement when the work throws, and passes the error on', async () => {
    const failure = new Error('the work failed halfway');
    await expect(
      withTransaction(pool, async (client) => {
        await client.query(`INSERT INTO notes VALUES (1, 'kept only if committed')`);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await notes()).toEqual([]);
  });

  it('rolls back when a statement fails, and the database error reaches the caller', async () => {
    await expect(
      withTransaction(pool, async (client) => {
        await client.query(`INSERT INTO notes VALUES (1, 'first')`);
        await client.query(`INSERT INTO notes VALUES (1, 'same key')`);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await notes()).toEqual([]);
  });

  it('loses its connection between two queries (a restart, a killed backend) as an error for the caller, never an unhandled one', async () => {
    const admin = new Client({ connectionString: ns.databaseUrl });
    await admin.connect();
    try {
      const work = withTransaction(pool, async (client) => {
        await client.query(`INSERT INTO notes VALUES (1, 'never committed')`);
        const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
        // The connection's 'error' arrives now, while no query of the client runs (as during a password hash).
        await new Promise((r) => setTimeout(r, 300));
        await client.query(`INSERT INTO notes VALUES (2, 'nor this')`);
      });
      const failure = await work.then(
        () => null,
        (error: unknown) => error,
      );
      expect(isPgUnavailable(failure)).toBe(true);
    } finally {
      await admin.end();
    }
    // The pool dropped the dead client and serves again; nothing of the cut transaction stayed.
    expect(await notes()).toEqual([]);
  });

  it('returns its client to the pool after a commit and after a rollback', async () => {
    for (let i = 0; i < 3; i++) {
      await withTransaction(pool, async (client) => client.query(`INSERT INTO notes VALUES (${i}, 'n${i}')`));
      await expect(withTransaction(pool, async () => Promise.reject(new Error('undo')))).rejects.toThrow('undo');
    }
    expect(pool.totalCount).toBe(1);
    expect(pool.idleCount).toBe(1);
    expect(pool.waitingCount).toBe(0);
    expect(await notes()).toEqual(['n0', 'n1', 'n2']);
  });

  it('runs on a client the caller holds, without releasing it', async () => {
    const client = await pool.connect();
    try {
      await withTransaction(client, async (tx) => {
        expect(tx).toBe(client);
        await tx.query(`INSERT INTO notes VALUES (1, 'on the held client')`);
      });
      await expect(withTransaction(client, async (tx) => tx.query(`INSERT INTO notes VALUES (2, 'undone'), (2, 'clash')`))).rejects.toMatchObject({ code: '23505' });
      // Still checked out: the pool's only connection is not idle, and the caller may go on using it.
      expect(pool.idleCount).toBe(0);
      expect((await client.query<{ n: string }>('SELECT count(*) AS n FROM notes')).rows[0]!.n).toBe('1');
    } finally {
      client.release();
    }
    expect(await notes()).toEqual(['on the held client']);
  });
});

import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { newSecret } from '../../src/features/auth/tokens';
import { api, type ErrorBody, type JsonResponse, signUp } from '../helpers/accounts';
import { queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('todos');
let stack: Awaited<ReturnType<typeof startStack>>;
let pg: Pool;
let accounts = 0;

beforeAll(async () => {
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  pg = new Pool({ connectionString: ns.databaseUrl, max: 2 });
});
afterAll(async () => {
  await pg?.end();
  await stack?.stop();
  await ns.cleanup();
});

/** A fresh, signed-in user. */
async function newUser(): Promise<{ token: string; userId: string }> {
  accounts += 1;
  return signUp(stack.url, ns, `todo-user-${accounts}@example.com`);
}

/** A live administrator session, written straight into user_sessions: administrator login is not this component's. */
async function adminSession(adminId: string): Promise<string> {
  const { token, hash } = newSecret('afs_');
  await pg.query(
    `INSERT INTO user_sessions (session_id, token_hash, subject_type, user_id, idle_expires_at, expires_at)
     VALUES ($1, $2, 'admin', $3, now() + interval '1 hour', now() + interval '1 hour')`,
    [randomUUID(), hash, adminId],
  );
  return token;
}

/** A todo as the API shows it. */
interface Todo {
  id: string;
  title: string;
  description: string | null;
  is_completed: boolean;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  /** Never shown: the tests check it is absent. */
  owner_id?: unknown;
}
interface TodoPage {
  todos: Todo[];
  next_cursor: string | null;
}
interface TodoHistory {
  todo_id: string;
  status_history: { previous_status: boolean; new_status: boolean }[];
  snapshots: { is_completed: boolean; original_updated_at: string }[];
}
/** A refusal, with the paths of the fields refused. */
interface Refusal {
  error: { code: string; details?: { path: string; message: string }[] };
}

async function createTodo(token: string, title: string, description?: string | null): Promise<Todo> {
  const res = await api<Todo>(stack.url, 'POST', '/todos', { token, body: description === undefined ? { title } : { title, description } });
  expect(res.status).toBe(201);
  return res.body;
}

/** Every todo of a listing, following next_cursor to the end. */
async function listAll(token: string, query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res: JsonResponse<TodoPage> = await api<TodoPage>(stack.url, 'GET', `/todos?limit=${limit}${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
    expect(res.status).toBe(200);
    expect(res.body.todos.length).toBeLessThanOrEqual(limit);
    ids.push(...res.body.todos.map((t: { id: string }) => t.id));
    cursor = res.body.next_cursor;
    pages += 1;
  } while (cursor && pages < 100);
  return { ids, pages };
}

function fieldPaths(body: { error?: { details?: { path: string }[] } }): string[] {
  return (body.error?.details ?? []).map((d) => d.path);
}

describe('todos: create, read, update', () => {
  it('creates a todo, keeps the title exactly as entered, and reads it back', async () => {
    const { token } = await newUser();
    const created = await createTodo(token, '  Buy milk  ', '');
    expect(created).toMatchObject({ title: '  Buy milk  ', description: '', is_completed: false, deleted_at: null });
    expect(created.created_at).toBe(created.updated_at);
    const read = await api<Todo>(stack.url, 'GET', `/todos/${created.id}`, { token });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created);
    expect(read.body.owner_id).toBeUndefined();
    expect((await createTodo(token, 'No description')).description).toBeNull();
  });

  it('updates only the fields sent, and a no-op update changes nothing', async () => {
    const { token } = await newUser();
    const todo = await createTodo(token, 'Draft', 'first notes');
    const patched = await api<Todo>(stack.url, 'PATCH', `/todos/${todo.id}`, { token, body: { title: 'Final' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: todo.id, title: 'Final', description: 'first notes', is_completed: false, created_at: todo.created_at });
    expect(Date.parse(patched.body.updated_at)).toBeGreaterThan(Date.parse(todo.updated_at));

    const cleared = await api<Todo>(stack.url, 'PATCH', `/todos/${todo.id}`, { token, body: { description: null } });
    expect(cleared.body.description).toBeNull();

    const same = await api<Todo>(stack.url, 'PATCH', `/todos/${todo.id}`, { token, body: { title: 'Final', description: null } });
    expect(same.status).toBe(200);
    expect(same.body.updated_at).toBe(cleared.body.updated_at);
    const history = await api<TodoHistory>(stack.url, 'GET', `/todos/${todo.id}/history`, { token });
    expect(history.body.snapshots).toHaveLength(2);
  });

  it('requires a session', async () => {
    expect((await api(stack.url, 'GET', '/todos')).status).toBe(401);
    expect((await api(stack.url, 'POST', '/todos', { body: { title: 'x' } })).status).toBe(401);
  });
});

describe('todos: validation', () => {
  let token: string;
  beforeAll(async () => {
    ({ token } = await newUser());
  });

  it.each([
    ['an empty title', { title: '' }, 'title', /empty/],
    ['a whitespace-only title', { title: ' \t ' }, 'title', /empty/],
    ['a 256-character title', { title: 'x'.repeat(256) }, 'title', /at most 255/],
    ['256 emoji', { title: '😀'.repeat(256) }, 'title', /at most 255/],
    ['no title', { description: 'd' }, 'title', /required/],
    ['a non-string title', { title: 42 }, 'title', /string/],
    ['a NUL in the title', { title: 'a\u0000b' }, 'title', /NUL/],
    ['a 2001-character description', { title: 't', description: 'd'.repeat(2001) }, 'description', /at most 2000/],
    ['an unknown field', { title: 't', owner_id: randomUUID() }, '', /owner_id/],
  ])('refuses %s with 400 and the field path', async (_name, body, path, message) => {
    const res = await api<Refusal>(stack.url, 'POST', '/todos', { token, body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details).toEqual([{ path, message: expect.stringMatching(message) }]);
  });

  it('accepts the longest title and description, counting characters rather than UTF-16 units', async () => {
    expect((await createTodo(token, 'x'.repeat(255), 'd'.repeat(2000))).title).toHaveLength(255);
    expect([...(await createTodo(token, '😀'.repeat(255))).title]).toHaveLength(255);
  });

  it('refuses bad updates', async () => {
    const todo = await createTodo(token, 'to update');
    for (const [body, path] of [
      [{}, ''],
      [{ title: '' }, 'title'],
      [{ is_completed: 'yes' }, 'is_completed'],
      [{ description: 'd'.repeat(2001) }, 'description'],
      [{ deleted_at: null }, ''],
    ] as const) {
      const res = await api<Refusal>(stack.url, 'PATCH', `/todos/${todo.id}`, { token, body });
      expect({ body, status: res.status, paths: fieldPaths(res.body) }).toEqual({ body, status: 400, paths: [path] });
    }
    expect((await api<TodoHistory>(stack.url, 'GET', `/todos/${todo.id}/history`, { token })).body.snapshots).toEqual([]);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=1&limit=2', 'limit'],
    ['sort=title', 'sort'],
    ['order=up', 'order'],
    ['completed=yes', 'completed'],
    ['deleted=1', 'deleted'],
    ['q=', 'q'],
    ['offset=10', ''],
    ['cursor=not-a-cursor', 'cursor'],
  ])('refuses the query ?%s with 400 at "%s"', async (query, path) => {
    const res = await api<Refusal>(stack.url, 'GET', `/todos?${query}`, { token });
    expect(res.status).toBe(400);
    expect(fieldPaths(res.body)).toEqual([path]);
  });
});

describe('todos: listing', () => {
  it('pages through every todo exactly once, in order, even when timestamps tie', async () => {
    const { token } = await newUser();
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) ids.push((await createTodo(token, `item ${i}`)).id);
    // Ten todos created in the same millisecond: only the id breaks the tie.
    await pg.query(`UPDATE todos SET created_at = '2030-01-01T00:00:00.000Z' WHERE id = ANY($1::uuid[])`, [ids.slice(5, 15)]);
    const { rows } = await pg.query<{ id: string }>(`SELECT id FROM todos WHERE id = ANY($1::uuid[]) ORDER BY created_at DESC, id DESC`, [ids]);
    const expected = rows.map((r) => r.id);

    const desc = await listAll(token, '', 4);
    expect(desc.ids).toEqual(expected);
    expect(desc.pages).toBe(6);
    expect((await listAll(token, '&order=asc', 3)).ids).toEqual([...expected].reverse());

    const first = await api<TodoPage>(stack.url, 'GET', '/todos', { token });
    expect(first.body.todos).toHaveLength(20);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const last = await api<TodoPage>(stack.url, 'GET', '/todos?limit=100', { token });
    expect(last.body.todos).toHaveLength(23);
    expect(last.body.next_cursor).toBeNull();
  });

  it('refuses a cursor issued for another sort order', async () => {
    const { token } = await newUser();
    await createTodo(token, 'a');
    await createTodo(token, 'b');
    const page = await api<TodoPage>(stack.url, 'GET', '/todos?limit=1', { token });
    const res = await api<Refusal>(stack.url, 'GET', `/todos?limit=1&order=asc&cursor=${page.body.next_cursor}`, { token });
    expect(res.status).toBe(400);
    expect(fieldPaths(res.body)).toEqual(['cursor']);
  });

  it('filters by completion and by text, with LIKE wildcards taken literally', async () => {
    const { token } = await newUser();
    const percent = await createTodo(token, '100% done');
    const plain = await createTodo(token, '100 percent');
    const underscore = await createTodo(token, 'a_b');
    const axb = await createTodo(token, 'axb', 'notes about GROCERIES');
    await api(stack.url, 'POST', `/todos/${plain.id}/toggle`, { token });

    const ids = async (query: string) => (await api<TodoPage>(stack.url, 'GET', `/todos?${query}`, { token })).body.todos.map((t: { id: string }) => t.id).sort();
    expect(await ids('completed=true')).toEqual([plain.id]);
    expect(await ids('completed=false')).toEqual([percent.id, underscore.id, axb.id].sort());
    expect(await ids(`q=${encodeURIComponent('%')}`)).toEqual([percent.id]);
    expect(await ids('q=_')).toEqual([underscore.id]);
    expect(await ids('q=groceries')).toEqual([axb.id]);
    expect(await ids('q=100&completed=false')).toEqual([percent.id]);
  });

  it('sorts by updated_at', async () => {
    const { token } = await newUser();
    const older = await createTodo(token, 'older');
    const newer = await createTodo(token, 'newer');
    const byCreated = (await api<TodoPage>(stack.url, 'GET', '/todos?sort=created_at', { token })).body.todos.map((t: { id: string }) => t.id);
    expect(byCreated).toEqual([newer.id, older.id]);
    await api(stack.url, 'PATCH', `/todos/${older.id}`, { token, body: { title: 'older, edited' } });
    const byUpdated = (await api<TodoPage>(stack.url, 'GET', '/todos?sort=updated_at&order=desc', { token })).body.todos.map((t: { id: string }) => t.id);
    expect(byUpdated).toEqual([older.id, newer.id]);
  });
});

describe('todos: history', () => {
  it('toggling writes a status-history row and a snapshot of the todo before', async () => {
    const { token } = await newUser();
    const todo = await createTodo(token, 'walk the dog');
    const toggled = await api<Todo>(stack.url, 'POST', `/todos/${todo.id}/toggle`, { token });
    expect(toggled.status).toBe(200);
    expect(toggled.body.is_completed).toBe(true);
    const patched = await api<Todo>(stack.url, 'PATCH', `/todos/${todo.id}`, { token, body: { is_completed: false } });
    expect(patched.body.is_completed).toBe(false);

    const history = (await api<TodoHistory>(stack.url, 'GET', `/todos/${todo.id}/history`, { token })).body;
    expect(history.todo_id).toBe(todo.id);
    expect(history.status_history.map((h: { previous_status: boolean; new_status: boolean }) => [h.previous_status, h.new_status])).toEqual([
      [false, true],
      [true, false],
    ]);
    expect(history.snapshots.map((s: { is_completed: boolean }) => s.is_completed)).toEqual([false, true]);
    expect(history.snapshots[0]).toMatchObject({ title: 'walk the dog', original_created_at: todo.created_at, original_updated_at: todo.updated_at });
    expect(history.snapshots[1]!.original_updated_at).toBe(toggled.body.updated_at);
  });

  it('an update writes a snapshot of the todo as it was', async () => {
    const { token } = await newUser();
    const todo = await createTodo(token, 'old title', 'old notes');
    await api(stack.url, 'PATCH', `/todos/${todo.id}`, { token, body: { title: 'new title', description: 'new notes' } });
    const { snapshots, status_history } = (await api<TodoHistory>(stack.url, 'GET', `/todos/${todo.id}/history`, { token })).body;
    expect(status_history).toEqual([]);
    expect(snapshots).toEqual([
      {
        id: expect.any(String),
        title: 'old title',
        description: 'old notes',
        is_completed: false,
        snapshot_created_at: expect.any(String),
        original_created_at: todo.created_at,
        original_updated_at: todo.updated_at,
      },
    ]);
  });

  it('concurrent toggles apply one after another: the history is one unbroken chain', async () => {
    const { token } = await newUser();
    const todo = await createTodo(token, 'contested');
    const results = await Promise.all(Array.from({ length: 12 }, () => api<Todo>(stack.url, 'POST', `/todos/${todo.id}/toggle`, { token })));
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(200));
    // Six responses say completed, six say not: each toggle saw the previous one's result.
    expect(results.filter((r) => r.body.is_completed).length).toBe(6);
    const { status_history, snapshots } = (await api<TodoHistory>(stack.url, 'GET', `/todos/${todo.id}/history`, { token })).body;
    expect(status_history).toHaveLength(12);
    expect(snapshots).toHaveLength(12);
    status_history.forEach((h: { previous_status: boolean; new_status: boolean }, i: number) => {
      expect([h.previous_status, h.new_status]).toEqual(i % 2 === 0 ? [false, true] : [true, false]);
    });
    expect((await api<Todo>(stack.url, 'GET', `/todos/${todo.id}`, { token })).body.is_completed).toBe(false);
  });
});

describe('todos: delete and restore', () => {
  it('soft-deletes, hides, lists in the bin, and restores', async () => {
    const { token } = await newUser();
    const todo = await createTodo(token, 'to delete');
    const deleted = await api<Todo & { deleted_at: string; restore_until: string }>(stack.url, 'DELETE', `/todos/${todo.id}`, { token });
    expect(deleted.status).toBe(200);
    expect(deleted.body.deleted_at).toEqual(expect.any(String));
    const window = Date.parse(deleted.body.restore_until) - Date.parse(deleted.body.deleted_at);
    expect(window).toBe(30 * 86_400_000);

    expect((await api(stack.url, 'GET', `/todos/${todo.id}`, { token })).status).toBe(404);
    expect((await api(stack.url, 'PATCH', `/todos/${todo.id}`, { token, body: { title: 'x' } })).status).toBe(404);
    expect((await api(stack.url, 'POST', `/todos/${todo.id}/toggle`, { token })).status).toBe(404);
    expect((await api(stack.url, 'DELETE', `/todos/${todo.id}`, { token })).status).toBe(404);
    expect((await api<TodoPage>(stack.url, 'GET', '/todos', { token })).body.todos).toEqual([]);
    const bin = await api<TodoPage>(stack.url, 'GET', '/todos?deleted=true', { token });
    expect(bin.body.todos.map((t: { id: string }) => t.id)).toEqual([todo.id]);

    const restored = await api(stack.url, 'POST', `/todos/${todo.id}/restore`, { token });
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ id: todo.id, title: 'to delete', deleted_at: null });
    expect((await api(stack.url, 'GET', `/todos/${todo.id}`, { token })).status).toBe(200);
    expect((await api<TodoPage>(stack.url, 'GET', '/todos?deleted=true', { token })).body.todos).toEqual([]);
    expect((await api(stack.url, 'POST', `/todos/${todo.id}/restore`, { token })).status).toBe(409);
    // One snapshot before the delete, one before the restore.
    const { snapshots } = (await api<TodoHistory>(stack.url, 'GET', `/todos/${todo.id}/history`, { token })).body;
    expect(snapshots).toHaveLength(2);
  });

  it('answers 410 to a restore after the window, and drops the todo from the bin', async () => {
    const { token } = await newUser();
    const todo = await createTodo(token, 'long gone');
    await api(stack.url, 'DELETE', `/todos/${todo.id}`, { token });
    await pg.query(`UPDATE todos SET deleted_at = now() - interval '31 days' WHERE id = $1`, [todo.id]);
    const res = await api<ErrorBody>(stack.url, 'POST', `/todos/${todo.id}/restore`, { token });
    expect(res.status).toBe(410);
    expect(res.body.error.code).toBe('GONE');
    expect((await api<TodoPage>(stack.url, 'GET', '/todos?deleted=true', { token })).body.todos).toEqual([]);
    const { rows } = await pg.query<{ deleted_at: Date | null }>('SELECT deleted_at FROM todos WHERE id = $1', [todo.id]);
    expect(rows[0]!.deleted_at).not.toBeNull();

    // Just inside the window it still works.
    const recent = await createTodo(token, 'recently deleted');
    await api(stack.url, 'DELETE', `/todos/${recent.id}`, { token });
    await pg.query(`UPDATE todos SET deleted_at = now() - interval '29 days' WHERE id = $1`, [recent.id]);
    expect((await api(stack.url, 'POST', `/todos/${recent.id}/restore`, { token })).status).toBe(200);
  });
});

describe('todos: another owner', () => {
  it("answers 404 to every attempt on someone else's todo, changes nothing, and records a PERMISSION_VIOLATION for each", async () => {
    const alice = await newUser();
    const mallory = await newUser();
    const todo = await createTodo(alice.token, "alice's secret", 'private');
    const missing = randomUUID();

    // A missing id and a malformed one: 404, but no security event.
    const notFound = await api(stack.url, 'GET', `/todos/${missing}`, { token: mallory.token });
    expect(notFound.status).toBe(404);
    expect((await api(stack.url, 'PATCH', '/todos/not-a-uuid', { token: mallory.token, body: { title: 'x' } })).status).toBe(404);

    const attempts = [
      ['GET', `/todos/${todo.id}`, undefined],
      ['GET', `/todos/${todo.id}/history`, undefined],
      ['PATCH', `/todos/${todo.id}`, { title: 'pwned' }],
      ['POST', `/todos/${todo.id}/toggle`, undefined],
      ['DELETE', `/todos/${todo.id}`, undefined],
      ['POST', `/todos/${todo.id}/restore`, undefined],
    ] as const;
    for (const [method, route, body] of attempts) {
      const res = await api(stack.url, method, route, { token: mallory.token, body });
      expect({ method, route, status: res.status, body: res.body }).toEqual({ method, route, status: 404, body: notFound.body });
    }
    expect((await api<TodoPage>(stack.url, 'GET', '/todos', { token: mallory.token })).body.todos).toEqual([]);

    const mine = await api(stack.url, 'GET', `/todos/${todo.id}`, { token: alice.token });
    expect(mine.body).toEqual(todo);
    expect((await api<TodoHistory>(stack.url, 'GET', `/todos/${todo.id}/history`, { token: alice.token })).body).toEqual({ todo_id: todo.id, status_history: [], snapshots: [] });

    type Row = { event_type: string; severity_level: string; user_id: string; event_source: string; ip_address: string; resource_involved: string; action_taken: string };
    const rows = await eventually(async () => {
      const r = await queryRows<Row>(
        stack.clickhouse!,
        `SELECT event_type, severity_level, user_id, event_source, ip_address, resource_involved, action_taken
         FROM security_events WHERE user_id = {u:String} ORDER BY occurred_at`,
        { u: mallory.userId },
      );
      return r.length >= attempts.length && r;
    });
    expect(rows).toHaveLength(attempts.length);
    for (const row of rows) {
      expect(row).toMatchObject({
        event_type: 'PERMISSION_VIOLATION',
        user_id: mallory.userId,
        event_source: 'TODO_API',
        ip_address: '127.0.0.1',
        resource_involved: todo.id,
        action_taken: 'REQUEST_BLOCKED',
      });
    }
    // Reads weigh MEDIUM, attempted changes HIGH.
    expect(rows.map((r) => r.severity_level).sort()).toEqual(['HIGH', 'HIGH', 'HIGH', 'HIGH', 'MEDIUM', 'MEDIUM']);
    // The earlier missing id left no trace (its event would have been published first).
    const [none] = await queryRows<{ n: number }>(stack.clickhouse!, `SELECT count() AS n FROM security_events WHERE resource_involved IN ({m:String}, 'not-a-uuid')`, { m: missing });
    expect(Number(none!.n)).toBe(0);
  });

  it('scopes by owner type too: an administrator session never sees a user’s todos, and keeps its own', async () => {
    const alice = await newUser();
    const aliceTodo = await createTodo(alice.token, 'user todo');
    // The same id as Alice, but an administrator: a different owner.
    const admin = await adminSession(alice.userId);
    expect((await api(stack.url, 'GET', `/todos/${aliceTodo.id}`, { token: admin })).status).toBe(404);
    expect((await api<TodoPage>(stack.url, 'GET', '/todos', { token: admin })).body.todos).toEqual([]);
    const adminTodo = await createTodo(admin, 'admin todo');
    expect((await api<TodoPage>(stack.url, 'GET', '/todos', { token: admin })).body.todos.map((t: { id: string }) => t.id)).toEqual([adminTodo.id]);
    expect((await api(stack.url, 'GET', `/todos/${adminTodo.id}`, { token: alice.token })).status).toBe(404);
    expect((await api<TodoPage>(stack.url, 'GET', '/todos', { token: alice.token })).body.todos.map((t: { id: string }) => t.id)).toEqual([aliceTodo.id]);
  });
});

describe('todos: audit events', () => {
  it('records each action in audit_logs with its entity, actor and old and new values', async () => {
    const { token, userId } = await newUser();
    const todo = await createTodo(token, 'Buy milk');
    await api(stack.url, 'GET', `/todos/${todo.id}`, { token });
    await api(stack.url, 'PATCH', `/todos/${todo.id}`, { token, body: { title: 'Buy oat milk' } });
    await api(stack.url, 'POST', `/todos/${todo.id}/toggle`, { token });
    await api(stack.url, 'DELETE', `/todos/${todo.id}`, { token });
    await api(stack.url, 'POST', `/todos/${todo.id}/restore`, { token });

    type Row = {
      event_type: string;
      action_type: string;
      entity_type: string;
      user_id: string;
      triggered_by_type: string;
      triggered_by_id: string;
      operation_status: string;
      duration_ms: number | null;
      ip_address: string;
      previous: string;
      next: string;
    };
    const rows = await eventually(async () => {
      const r = await queryRows<Row>(
        stack.clickhouse!,
        `SELECT event_type, action_type, entity_type, user_id, triggered_by_type, triggered_by_id, operation_status, duration_ms, ip_address,
                toJSONString(previous_value) AS previous, toJSONString(new_value) AS next
         FROM audit_logs WHERE entity_id = {id:String}`,
        { id: todo.id },
      );
      return r.length >= 6 && r;
    });
    expect(rows).toHaveLength(6);
    const byAction = Object.fromEntries(rows.map((r) => [r.action_type, r]));
    expect(Object.keys(byAction).sort()).toEqual(['COMPLETE_TOGGLE', 'CREATE', 'DELETE', 'READ', 'RESTORE', 'UPDATE']);
    for (const row of rows) {
      expect(row).toMatchObject({ entity_type: 'TODO', user_id: userId, triggered_by_type: 'user', triggered_by_id: userId, operation_status: 'SUCCESS', ip_address: '127.0.0.1' });
      expect(row.duration_ms).toEqual(expect.any(Number));
    }
    const values = (action: string) => ({ previous: JSON.parse(byAction[action]!.previous || 'null'), next: JSON.parse(byAction[action]!.next || 'null') });
    expect(byAction.CREATE!.event_type).toBe('todo_created');
    expect(values('CREATE').next).toMatchObject({ id: todo.id, title: 'Buy milk', is_completed: false });
    expect(byAction.READ!.event_type).toBe('todo_viewed');
    expect(byAction.UPDATE!.event_type).toBe('todo_updated');
    expect(values('UPDATE')).toEqual({ previous: { title: 'Buy milk' }, next: { title: 'Buy oat milk' } });
    expect(byAction.COMPLETE_TOGGLE!.event_type).toBe('todo_completion_toggled');
    expect(values('COMPLETE_TOGGLE')).toEqual({ previous: { is_completed: false }, next: { is_completed: true } });
    expect(byAction.DELETE!.event_type).toBe('todo_deleted');
    expect(values('DELETE').previous).toMatchObject({ id: todo.id, title: 'Buy oat milk', is_completed: true });
    expect(values('DELETE').next).toEqual({ deleted_at: expect.any(String) });
    expect(byAction.RESTORE!.event_type).toBe('todo_restored');
    expect(values('RESTORE').previous).toEqual(values('DELETE').next);
    expect(values('RESTORE').next).toMatchObject({ id: todo.id, title: 'Buy oat milk' });
  });

  it('records a refused restore as a FAILURE', async () => {
    const { token } = await newUser();
    const todo = await createTodo(token, 'expired');
    await api(stack.url, 'DELETE', `/todos/${todo.id}`, { token });
    await pg.query(`UPDATE todos SET deleted_at = now() - interval '40 days' WHERE id = $1`, [todo.id]);
    expect((await api(stack.url, 'POST', `/todos/${todo.id}/restore`, { token })).status).toBe(410);
    const rows = await eventually(async () => {
      const r = await queryRows<{ operation_status: string; failure_reason: string }>(
        stack.clickhouse!,
        `SELECT operation_status, failure_reason FROM audit_logs WHERE entity_id = {id:String} AND action_type = 'RESTORE'`,
        { id: todo.id },
      );
      return r.length > 0 && r;
    });
    expect(rows).toEqual([{ operation_status: 'FAILURE', failure_reason: expect.stringMatching(/more than 30 days/) }]);
  });
});

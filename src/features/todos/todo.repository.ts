import type { Pool, PoolClient } from 'pg';
import { withTransaction } from '../../lib/pg';

type Db = Pool | PoolClient;

/** Who a todo belongs to: a user or an administrator (administrators keep their own todos too). */
export interface TodoOwner {
  type: 'user' | 'admin';
  id: string;
}

/** todos (todo_app_todos). */
export interface TodoRow {
  id: string;
  owner_type: 'user' | 'admin';
  owner_id: string;
  title: string;
  description: string | null;
  is_completed: boolean;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

/** todo_status_history (todo_app_todo_status_history). */
export interface TodoStatusChangeRow {
  id: string;
  todo_id: string;
  previous_status: boolean;
  new_status: boolean;
  changed_at: Date;
}

/** todo_snapshots (todo_app_todo_snapshots): the todo as it was before an update. */
export interface TodoSnapshotRow {
  id: string;
  todo_id: string;
  title: string;
  description: string | null;
  is_completed: boolean;
  snapshot_created_at: Date;
  original_created_at: Date;
  original_updated_at: Date;
}

export type TodoSortColumn = 'created_at' | 'updated_at';

export interface TodoListQuery {
  limit: number;
  sort: TodoSortColumn;
  order: 'asc' | 'desc';
  completed?: boolean;
  /** Matched as a substring of title or description, case-insensitively; LIKE wildcards are literal. */
  q?: string;
  /** Lists soft-deleted todos deleted after this instant instead of live ones. */
  deletedAfter?: Date;
  /** Keyset position: rows strictly after (sort value, id) in the listing order. */
  after?: { value: Date; id: string };
}

export type TodoChanges = Partial<Pick<TodoRow, 'title' | 'description' | 'is_completed' | 'deleted_at'>>;

/** Rows of todos, their status history and snapshots. Writes that go together take a transaction client. */
export class TodoRepository {
  constructor(private readonly pg: Pool) {}

  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  async transaction<T>(fn: (tx: PoolClient) => Promise<T>): Promise<T> {
    return withTransaction(this.pg, fn);
  }

  async insert(owner: TodoOwner, title: string, description: string | null): Promise<TodoRow> {
    const { rows } = await this.pg.query<TodoRow>('INSERT INTO todos (owner_type, owner_id, title, description) VALUES ($1, $2, $3, $4) RETURNING *', [owner.type, owner.id, title, description]);
    return rows[0]!;
  }

  /** The owner's todo (deleted or not); with `forUpdate`, locked until the transaction ends. Null if it is not theirs. */
  async owned(id: string, owner: TodoOwner, db: Db = this.pg, forUpdate = false): Promise<TodoRow | null> {
    const { rows } = await db.query<TodoRow>(`SELECT * FROM todos WHERE id = $1 AND owner_type = $2 AND owner_id = $3${forUpdate ? ' FOR UPDATE' : ''}`, [id, owner.type, owner.id]);
    return rows[0] ?? null;
  }

  /** Whoever owns a todo, whatever its state; null when there is no such todo. */
  async ownerOf(id: string): Promise<TodoOwner | null> {
    const { rows } = await this.pg.query<{ owner_type: TodoOwner['type']; owner_id: string }>('SELECT owner_type, owner_id FROM todos WHERE id = $1', [id]);
    return rows[0] ? { type: rows[0].owner_type, id: rows[0].owner_id } : null;
  }

  /** Sets the given columns (and updated_at) on a todo the caller has locked. */
  async update(id: string, changes: TodoChanges, db: Db): Promise<TodoRow> {
    const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
    // Column names come from TodoChanges' keys, never from the request.
    const sets = entries.map(([k], i) => `${k} = $${i + 2}`).join(', ');
    const { rows } = await db.query<TodoRow>(`UPDATE todos SET ${sets ? `${sets}, ` : ''}updated_at = clock_timestamp() WHERE id = $1 RETURNING *`, [id, ...entries.map(([, v]) => v)]);
    return rows[0]!;
  }

  /** Marks a locked todo deleted, now. */
  async softDelete(id: string, db: Db): Promise<TodoRow> {
    const { rows } = await db.query<TodoRow>('UPDATE todos SET deleted_at = clock_timestamp(), updated_at = clock_timestamp() WHERE id = $1 RETURNING *', [id]);
    return rows[0]!;
  }

  /** Records the todo as it is now, before it changes. */
  async insertSnapshot(todo: TodoRow, db: Db): Promise<void> {
    await db.query(
      `INSERT INTO todo_snapshots (todo_id, title, description, is_completed, original_created_at, original_updated_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [todo.id, todo.title, todo.description, todo.is_completed, todo.created_at, todo.updated_at],
    );
  }

  async insertStatusChange(todoId: string, previous: boolean, next: boolean, db: Db): Promise<void> {
    await db.query('INSERT INTO todo_status_history (todo_id, previous_status, new_status) VALUES ($1, $2, $3)', [todoId, previous, next]);
  }

  /** The newest `limit` status changes and snapshots of a todo, each oldest first. */
  async history(todoId: string, limit: number): Promise<{ statusChanges: TodoStatusChangeRow[]; snapshots: TodoSnapshotRow[] }> {
    const [statusChanges, snapshots] = await Promise.all([
      this.pg.query<TodoStatusChangeRow>('SELECT * FROM (SELECT * FROM todo_status_history WHERE todo_id = $1 ORDER BY changed_at DESC, id DESC LIMIT $2) h ORDER BY changed_at, id', [todoId, limit]),
      this.pg.query<TodoSnapshotRow>('SELECT * FROM (SELECT * FROM todo_snapshots WHERE todo_id = $1 ORDER BY snapshot_created_at DESC, id DESC LIMIT $2) s ORDER BY snapshot_created_at, id', [
        todoId,
        limit,
      ]),
    ]);
    return { statusChanges: statusChanges.rows, snapshots: snapshots.rows };
  }

  /** One page of the owner's todos in keyset order; asks for `limit` rows (the caller asks one more to know if a page follows). */
  async list(owner: TodoOwner, query: TodoListQuery): Promise<TodoRow[]> {
    const params: unknown[] = [owner.type, owner.id];
    const where = ['owner_type = $1', 'owner_id = $2'];
    if (query.deletedAfter) {
      params.push(query.deletedAfter);
      where.push(`deleted_at > $${params.length}`);
    } else {
      where.push('deleted_at IS NULL');
    }
    if (query.completed !== undefined) {
      params.push(query.completed);
      where.push(`is_completed = $${params.length}`);
    }
    if (query.q !== undefined) {
      params.push(`%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.push(`(title ILIKE $${params.length} ESCAPE '\\' OR description ILIKE $${params.length} ESCAPE '\\')`);
    }
    // The sort column and direction come from a closed enum, never from the request text.
    const column = query.sort === 'updated_at' ? 'updated_at' : 'created_at';
    const direction = query.order === 'asc' ? 'ASC' : 'DESC';
    if (query.after) {
      params.push(query.after.value, query.after.id);
      where.push(`(${column}, id) ${direction === 'ASC' ? '>' : '<'} ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(query.limit);
    const { rows } = await this.pg.query<TodoRow>(`SELECT * FROM todos WHERE ${where.join(' AND ')} ORDER BY ${column} ${direction}, id ${direction} LIMIT $${params.length}`, params);
    return rows;
  }
}

import type { PoolClient } from 'pg';
import { AppError } from '../../lib/errors/app-error';
import type { RequestContext } from '../../http/request-context';
import type { SettingsService } from '../settings/settings.service';
import { encodeCursor } from './todo-cursor';
import type { TodoEvents } from './todo-events';
import type { TodoChanges, TodoOwner, TodoRepository, TodoRow, TodoSnapshotRow, TodoStatusChangeRow } from './todo.repository';
import type { CreateTodoInput, ListTodosInput, UpdateTodoInput } from './todo.schemas';
import { UUID_PATTERN } from '../../schemas/fields';

export interface TodoServiceDeps {
  todos: TodoRepository;
  settings: SettingsService;
  events: TodoEvents;
}

/** A todo as its owner sees it (and as events record it). A type, not an interface, so it is a plain JSON record. */
export type TodoView = {
  id: string;
  title: string;
  description: string | null;
  is_completed: boolean;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
};

export interface TodoPage {
  todos: TodoView[];
  /** Pass as `cursor` (with the same sort and order) for the next page; null on the last page. */
  next_cursor: string | null;
}

export interface TodoHistory {
  todo_id: string;
  status_history: Omit<TodoStatusChangeRow, 'todo_id'>[];
  snapshots: Omit<TodoSnapshotRow, 'todo_id'>[];
}

export function publicTodo(row: TodoRow): TodoView {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    is_completed: row.is_completed,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    deleted_at: row.deleted_at?.toISOString() ?? null,
  };
}

/** What a requester tried to do, as a security event describes it. */
type Operation = 'read' | 'read the history of' | 'update' | 'toggle' | 'delete' | 'restore';

const DAY_MS = 86_400_000;
/** Most status changes and most snapshots one history answer carries (the newest). */
export const HISTORY_LIMIT = 1000;

/** One answer for a missing todo, a malformed id and someone else's todo, so ids cannot be probed. */
const notFound = () => new AppError('NOT_FOUND', 'todo not found');

/**
 * Todos of one owner (a user or an administrator). Every change locks the
 * todo's row, records a snapshot of it as it was (and a status-history row
 * when completion changes) in the same transaction, then emits an audit
 * event. A soft-deleted todo is invisible except to `list({ deleted })`,
 * `restore` and `history`, until the restore window passes.
 */
export class TodoService {
  constructor(private readonly d: TodoServiceDeps) {}

  async create(owner: TodoOwner, input: CreateTodoInput, ctx: RequestContext): Promise<TodoView> {
    const startedAt = performance.now();
    const todo = publicTodo(await this.d.todos.insert(owner, input.title, input.description ?? null));
    this.d.events.audit({ action: 'created', todoId: todo.id, owner, ctx, startedAt, next: todo });
    return todo;
  }

  /** Lists are not audited one by one: the api_access event already records each request. */
  async list(owner: TodoOwner, query: ListTodosInput): Promise<TodoPage> {
    const deletedAfter = query.deleted ? new Date(Date.now() - (await this.restoreWindowDays()) * DAY_MS) : undefined;
    const rows = await this.d.todos.list(owner, {
      limit: query.limit + 1,
      sort: query.sort,
      order: query.order,
      completed: query.completed,
      q: query.q,
      deletedAfter,
      after: query.after,
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return { todos: page.map(publicTodo), next_cursor: rows.length > query.limit && last ? encodeCursor(last, query.sort, query.order) : null };
  }

  /** Reading one todo is audited (READ, `todo_viewed`): todo_app_audit_logs covers reads (docs/data-model.md). */
  async get(owner: TodoOwner, id: string, ctx: RequestContext): Promise<TodoView> {
    const startedAt = performance.now();
    const row = await this.findOwned(owner, id, 'read', ctx);
    if (row.deleted_at) throw notFound();
    this.d.events.audit({ action: 'viewed', todoId: row.id, owner, ctx, startedAt });
    return publicTodo(row);
  }

  /** Status changes and snapshots, oldest first (the newest HISTORY_LIMIT of each); also for a deleted todo. */
  async history(owner: TodoOwner, id: string, ctx: RequestContext): Promise<TodoHistory> {
    const startedAt = performance.now();
    const row = await this.findOwned(owner, id, 'read the history of', ctx);
    const { statusChanges, snapshots } = await this.d.todos.history(row.id, HISTORY_LIMIT);
    this.d.events.audit({ action: 'historyViewed', todoId: row.id, owner, ctx, startedAt });
    return {
      todo_id: row.id,
      status_history: statusChanges.map(({ todo_id: _todo, ...rest }) => rest),
      snapshots: snapshots.map(({ todo_id: _todo, ...rest }) => rest),
    };
  }

  /**
   * Changes the given fields. Only fields whose value differs count: sending
   * the current values changes nothing and records nothing. A change of
   * is_completed is a completion toggle (status history, COMPLETE_TOGGLE
   * event); title and description changes are one UPDATE event.
   */
  async update(owner: TodoOwner, id: string, input: UpdateTodoInput, ctx: RequestContext): Promise<TodoView> {
    const startedAt = performance.now();
    const { before, after, changes } = await this.change(owner, id, 'update', ctx, async (tx, before) => {
      if (before.deleted_at) throw notFound();
      const changes: TodoChanges = {};
      if (input.title !== undefined && input.title !== before.title) changes.title = input.title;
      if (input.description !== undefined && input.description !== before.description) changes.description = input.description;
      if (input.is_completed !== undefined && input.is_completed !== before.is_completed) changes.is_completed = input.is_completed;
      if (Object.keys(changes).length === 0) return { before, after: before, changes };
      await this.d.todos.insertSnapshot(before, tx);
      if (changes.is_completed !== undefined) await this.d.todos.insertStatusChange(before.id, before.is_completed, changes.is_completed, tx);
      return { before, after: await this.d.todos.update(before.id, changes, tx), changes };
    });
    const edited = (['title', 'description'] as const).filter((f) => f in changes);
    if (edited.length > 0) {
      this.d.events.audit({
        action: 'updated',
        todoId: before.id,
        owner,
        ctx,
        startedAt,
        previous: Object.fromEntries(edited.map((f) => [f, before[f]])),
        next: Object.fromEntries(edited.map((f) => [f, after[f]])),
        changedFields: edited,
      });
    }
    if (changes.is_completed !== undefined) this.recordToggle(owner, before, after, ctx, startedAt);
    return publicTodo(after);
  }

  async toggle(owner: TodoOwner, id: string, ctx: RequestContext): Promise<TodoView> {
    const startedAt = performance.now();
    const { before, after } = await this.change(owner, id, 'toggle', ctx, async (tx, before) => {
      if (before.deleted_at) throw notFound();
      await this.d.todos.insertSnapshot(before, tx);
      await this.d.todos.insertStatusChange(before.id, before.is_completed, !before.is_completed, tx);
      return { before, after: await this.d.todos.update(before.id, { is_completed: !before.is_completed }, tx) };
    });
    this.recordToggle(owner, before, after, ctx, startedAt);
    return publicTodo(after);
  }

  /** Soft delete: restorable for `account.restore_window_days`. */
  async delete(owner: TodoOwner, id: string, ctx: RequestContext): Promise<TodoView & { restore_until: string }> {
    const startedAt = performance.now();
    const days = await this.restoreWindowDays();
    const { before, after } = await this.change(owner, id, 'delete', ctx, async (tx, before) => {
      if (before.deleted_at) throw notFound();
      await this.d.todos.insertSnapshot(before, tx);
      return { before, after: await this.d.todos.softDelete(before.id, tx) };
    });
    const deletedAt = after.deleted_at!;
    this.d.events.audit({
      action: 'deleted',
      todoId: before.id,
      owner,
      ctx,
      startedAt,
      previous: publicTodo(before),
      next: { deleted_at: deletedAt.toISOString() },
      changedFields: ['deleted_at'],
    });
    return { ...publicTodo(after), restore_until: new Date(deletedAt.getTime() + days * DAY_MS).toISOString() };
  }

  /** Undoes a soft delete within `account.restore_window_days`; 410 after it, 409 if the todo is not deleted. */
  async restore(owner: TodoOwner, id: string, ctx: RequestContext): Promise<TodoView> {
    const startedAt = performance.now();
    const days = await this.restoreWindowDays();
    const { before, after } = await this.change(owner, id, 'restore', ctx, async (tx, before) => {
      if (!before.deleted_at) throw new AppError('CONFLICT', 'this todo is not deleted');
      if (Date.now() - before.deleted_at.getTime() > days * DAY_MS) {
        const reason = `deleted more than ${days} days ago`;
        this.d.events.audit({ action: 'restored', todoId: before.id, owner, ctx, startedAt, previous: { deleted_at: before.deleted_at.toISOString() }, failureReason: reason });
        throw new AppError('GONE', `this todo was ${reason} and can no longer be restored`);
      }
      await this.d.todos.insertSnapshot(before, tx);
      return { before, after: await this.d.todos.update(before.id, { deleted_at: null }, tx) };
    });
    const todo = publicTodo(after);
    this.d.events.audit({
      action: 'restored',
      todoId: before.id,
      owner,
      ctx,
      startedAt,
      previous: { deleted_at: before.deleted_at!.toISOString() },
      // The whole todo: `deleted_at: null` alone would be stored as an empty object.
      next: todo,
      changedFields: ['deleted_at'],
    });
    return todo;
  }

  private recordToggle(owner: TodoOwner, before: TodoRow, after: TodoRow, ctx: RequestContext, startedAt: number): void {
    this.d.events.audit({
      action: 'completionToggled',
      todoId: before.id,
      owner,
      ctx,
      startedAt,
      previous: { is_completed: before.is_completed },
      next: { is_completed: after.is_completed },
      changedFields: ['is_completed'],
    });
  }

  private restoreWindowDays(): Promise<number> {
    return this.d.settings.integer('account.restore_window_days', 30);
  }

  /** The owner's todo, unlocked (for reads); anything else answers 404. */
  private async findOwned(owner: TodoOwner, id: string, operation: Operation, ctx: RequestContext): Promise<TodoRow> {
    const row = UUID_PATTERN.test(id) ? await this.d.todos.owned(id, owner) : null;
    return row ?? this.refuse(owner, id, operation, ctx);
  }

  /**
   * Runs `fn` in a transaction holding the owner's todo locked (FOR UPDATE),
   * so concurrent changes to one todo apply one after another, each seeing
   * the last one's result. Anything else answers 404.
   */
  private async change<T>(owner: TodoOwner, id: string, operation: Operation, ctx: RequestContext, fn: (tx: PoolClient, row: TodoRow) => Promise<T>): Promise<T> {
    if (!UUID_PATTERN.test(id)) throw notFound();
    const result = await this.d.todos.transaction(async (tx) => {
      const row = await this.d.todos.owned(id, owner, tx, true);
      return row ? { found: true as const, value: await fn(tx, row) } : { found: false as const };
    });
    return result.found ? result.value : this.refuse(owner, id, operation, ctx);
  }

  /** 404, and when the todo exists but belongs to someone else, a PERMISSION_VIOLATION security event. */
  private async refuse(requester: TodoOwner, id: string, operation: Operation, ctx: RequestContext): Promise<never> {
    const owner = UUID_PATTERN.test(id) ? await this.d.todos.ownerOf(id) : null;
    if (owner && (owner.type !== requester.type || owner.id !== requester.id)) {
      this.d.events.permissionViolation({ todoId: id.toLowerCase(), requester, owner, operation, writes: !operation.startsWith('read'), ctx });
    }
    throw notFound();
  }
}

import type { ApiOperation } from '../../http/api-operation';
import { createTodoBody, listTodosQuery, updateTodoBody } from './todo.schemas';

const invalid = { 400: 'Invalid input: field paths and messages' };
const unauthenticated = { 401: 'No live session' };
/** Also the answer for someone else's todo (recorded as a PERMISSION_VIOLATION security event) and for a malformed id. */
const notFound = { 404: 'No such todo among yours' };

export const todoOperations: ApiOperation[] = [
  { method: 'post', path: '/todos', tag: 'todos', summary: 'Create a todo', security: 'session', body: createTodoBody, responses: { 201: 'The todo', ...unauthenticated, ...invalid } },
  {
    method: 'get',
    path: '/todos',
    tag: 'todos',
    summary: 'List your todos, a page at a time (keyset pagination), with filters',
    security: 'session',
    query: listTodosQuery,
    responses: { 200: '{ todos, next_cursor }; next_cursor is null on the last page', ...unauthenticated, ...invalid },
  },
  { method: 'get', path: '/todos/:id', tag: 'todos', summary: 'One todo (audited as a READ)', security: 'session', responses: { 200: 'The todo', ...unauthenticated, ...notFound } },
  {
    method: 'patch',
    path: '/todos/:id',
    tag: 'todos',
    summary: 'Change title, description and/or is_completed; a snapshot of the todo before is kept',
    security: 'session',
    body: updateTodoBody,
    responses: { 200: 'The todo', ...unauthenticated, ...notFound, ...invalid },
  },
  {
    method: 'post',
    path: '/todos/:id/toggle',
    tag: 'todos',
    summary: 'Flip is_completed; recorded in the status history',
    security: 'session',
    responses: { 200: 'The todo', ...unauthenticated, ...notFound },
  },
  {
    method: 'delete',
    path: '/todos/:id',
    tag: 'todos',
    summary: 'Soft-delete a todo (restorable for account.restore_window_days, 30 by default)',
    security: 'session',
    responses: { 200: 'The todo with deleted_at and restore_until', ...unauthenticated, ...notFound },
  },
  {
    method: 'post',
    path: '/todos/:id/restore',
    tag: 'todos',
    summary: 'Restore a soft-deleted todo',
    security: 'session',
    responses: { 200: 'The todo', ...unauthenticated, ...notFound, 409: 'Not deleted', 410: 'Deleted too long ago' },
  },
  {
    method: 'get',
    path: '/todos/:id/history',
    tag: 'todos',
    summary: 'Status changes and snapshots of a todo, oldest first (also for a deleted todo)',
    security: 'session',
    responses: { 200: '{ todo_id, status_history, snapshots }', ...unauthenticated, ...notFound },
  },
];

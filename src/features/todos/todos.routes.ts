import { Router, type Request, type Response } from 'express';
import type { AuthService } from '../auth/auth.service';
import { requireSession } from '../auth/require-session';
import { validate } from '../../http/validate';
import type { TodoOwner } from './todo.repository';
import type { TodoService } from './todo.service';
import { createTodoBody, listTodosQuery, updateTodoBody } from './todo.schemas';

/** The signed-in user or administrator, as the owner of the todos they ask for. */
function owner(res: Response): TodoOwner {
  const session = res.locals.session!;
  return { type: session.subject_type, id: session.user_id };
}

/** The `:id` of the route, as sent; the service answers 404 for anything that is not a todo id. */
function todoId(req: Request): string {
  const id = req.params.id;
  return typeof id === 'string' ? id : '';
}

/** /todos: the signed-in account's own todos. Someone else's todo answers 404, like a missing one. */
export function todoRoutes(todos: TodoService, auth: AuthService): Router {
  const router = Router();
  // Administrators keep their own todos too.
  const session = requireSession(auth, 'any');

  router.post('/todos', session, async (req, res) => {
    res.status(201).json(await todos.create(owner(res), validate(createTodoBody, req.body), res.locals.ctx));
  });

  router.get('/todos', session, async (req, res) => {
    res.json(await todos.list(owner(res), validate(listTodosQuery, req.query)));
  });

  router.get('/todos/:id', session, async (req, res) => {
    res.json(await todos.get(owner(res), todoId(req), res.locals.ctx));
  });

  router.patch('/todos/:id', session, async (req, res) => {
    res.json(await todos.update(owner(res), todoId(req), validate(updateTodoBody, req.body), res.locals.ctx));
  });

  router.post('/todos/:id/toggle', session, async (req, res) => {
    res.json(await todos.toggle(owner(res), todoId(req), res.locals.ctx));
  });

  router.delete('/todos/:id', session, async (req, res) => {
    res.json(await todos.delete(owner(res), todoId(req), res.locals.ctx));
  });

  router.post('/todos/:id/restore', session, async (req, res) => {
    res.json(await todos.restore(owner(res), todoId(req), res.locals.ctx));
  });

  router.get('/todos/:id/history', session, async (req, res) => {
    res.json(await todos.history(owner(res), todoId(req), res.locals.ctx));
  });

  return router;
}

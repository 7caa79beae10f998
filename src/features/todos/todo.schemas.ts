import { z } from 'zod';
import { decodeCursor } from './todo-cursor';

/**
 * Text stored exactly as entered. Lengths count characters (code points), as
 * PostgreSQL's char_length does, not UTF-16 units; NUL is refused because
 * PostgreSQL text cannot hold it.
 */
const storedText = (max: number, allowBlank: boolean) =>
  z.string().superRefine((s, ctx) => {
    if (!allowBlank && s.trim() === '') ctx.addIssue({ code: 'custom', message: 'must not be empty or only whitespace' });
    else if ([...s].length > max) ctx.addIssue({ code: 'custom', message: `must be at most ${max} characters` });
    else if (s.includes('\u0000')) ctx.addIssue({ code: 'custom', message: 'must not contain NUL characters' });
  });

export const TITLE_MAX = 255;
export const DESCRIPTION_MAX = 2000;

const title = () => storedText(TITLE_MAX, false).describe('1-255 characters, stored exactly as entered; not blank');
/** May be an empty string or null (todo_app_todos; docs/data-model.md). */
const description = () => storedText(DESCRIPTION_MAX, true).nullable().describe('Up to 2000 characters; may be empty or null');

export const createTodoBody = z.strictObject({ title: title(), description: description().optional() });

export const updateTodoBody = z
  .strictObject({ title: title().optional(), description: description().optional(), is_completed: z.boolean().optional() })
  .refine((b) => Object.values(b).some((v) => v !== undefined), {
    message: 'send at least one of title, description, is_completed',
    // Not on top of another complaint (an unknown field): one message per mistake.
    when: (payload) => payload.issues.length === 0,
  });

const flag = () => z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true');

/**
 * GET /todos. Keyset pagination only (no offset): `next_cursor` from one page
 * is the `cursor` of the next, and stays valid while rows are added or removed.
 */
export const listTodosQuery = z
  .strictObject({
    limit: z
      .string()
      .regex(/^\d{1,3}$/, 'must be an integer from 1 to 100')
      .transform(Number)
      .pipe(z.number().min(1, 'must be an integer from 1 to 100').max(100, 'must be an integer from 1 to 100'))
      .default(20)
      .describe('Page size, 1-100 (default 20)'),
    cursor: z.string().max(512, 'is not a cursor from this listing').optional().describe('next_cursor of the previous page, with the same sort and order'),
    completed: flag().optional().describe('Only completed (true) or open (false) todos'),
    q: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters').optional().describe('Text in the title or description, case-insensitive'),
    deleted: flag().default(false).describe('true: the bin, soft-deleted todos that can still be restored'),
    sort: z.enum(['created_at', 'updated_at'], { error: 'must be created_at or updated_at' }).default('created_at').describe('Sort column (default created_at)'),
    order: z.enum(['asc', 'desc'], { error: 'must be asc or desc' }).default('desc').describe('Sort direction (default desc)'),
  })
  .transform((query, ctx) => {
    if (query.cursor === undefined) return { ...query, after: undefined };
    const cursor = decodeCursor(query.cursor);
    if (!cursor) {
      ctx.addIssue({ code: 'custom', path: ['cursor'], message: 'is not a cursor from this listing' });
      return z.NEVER;
    }
    if (cursor.sort !== query.sort || cursor.order !== query.order) {
      ctx.addIssue({ code: 'custom', path: ['cursor'], message: `was issued for sort=${cursor.sort}&order=${cursor.order}; send the same sort and order, or start again without a cursor` });
      return z.NEVER;
    }
    return { ...query, after: { value: cursor.value, id: cursor.id } };
  });

export type CreateTodoInput = z.output<typeof createTodoBody>;
export type UpdateTodoInput = z.output<typeof updateTodoBody>;
export type ListTodosInput = z.output<typeof listTodosQuery>;

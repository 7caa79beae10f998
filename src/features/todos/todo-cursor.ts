import type { TodoRow, TodoSortColumn } from './todo.repository';
import { UUID_PATTERN } from '../../schemas/fields';

/** Where the next page of a listing starts: the last row's sort value and id, and the order they were sorted in. */
export interface TodoCursor {
  sort: TodoSortColumn;
  order: 'asc' | 'desc';
  value: Date;
  id: string;
}

/** An opaque token for the client; it carries no secret, only a position. */
export function encodeCursor(row: TodoRow, sort: TodoSortColumn, order: 'asc' | 'desc'): string {
  return Buffer.from(JSON.stringify({ s: sort, o: order, v: row[sort].toISOString(), id: row.id })).toString('base64url');
}

/** The cursor in `token`, or null when it is not one this API issued. */
export function decodeCursor(token: string): TodoCursor | null {
  try {
    const raw = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
    const value = typeof raw.v === 'string' ? new Date(raw.v) : null;
    if (
      (raw.s !== 'created_at' && raw.s !== 'updated_at') ||
      (raw.o !== 'asc' && raw.o !== 'desc') ||
      !value ||
      Number.isNaN(value.getTime()) ||
      typeof raw.id !== 'string' ||
      !UUID_PATTERN.test(raw.id)
    ) {
      return null;
    }
    return { sort: raw.s, order: raw.o, value, id: raw.id };
  } catch {
    return null;
  }
}

import { z } from 'zod';
import { EVENT_KIND_NAMES } from '../../schemas/event';

const limit = () => z.coerce.number().int().min(1).max(200).default(50);
/** Deep offsets are slow on any store; past this, narrow the filter. */
const offset = () => z.coerce.number().int().min(0).max(10_000).default(0);
/** Hours back from now: at most 30 days of hourly buckets. */
const hours = () => z.coerce.number().int().min(1).max(720).default(24).describe('Hours back from now (1-720)');
/** A source app's name, as keys carry it; bound as a query parameter, never spliced into SQL. */
const app = () => z.string().trim().min(1, 'must not be empty').max(128, 'must be at most 128 characters').optional().describe('Only this source app (default: every app)');

export const overviewQuery = z.strictObject({ hours: hours(), app: app() });

export const securityTrendsQuery = z.strictObject({ hours: hours(), app: app() });

export const eventTypesQuery = z.strictObject({ kind: z.enum(EVENT_KIND_NAMES, { error: `must be one of ${EVENT_KIND_NAMES.join(', ')}` }) });

export const failedLoginsQuery = z.strictObject({
  by: z.enum(['ip', 'account'], { error: 'must be ip or account' }).default('ip'),
  hours: hours(),
  limit: limit(),
  offset: offset(),
  app: app(),
});

export const authRiskQuery = z.strictObject({ days: z.coerce.number().int().min(1).max(366).default(30).describe('Days back from today (1-366)') });

export const lockedAccountsQuery = z.strictObject({ limit: limit(), offset: offset(), app: app() });

/** A user id as the event tables store it: a UUID from this API, or whatever id another app sent. */
export const timelineParams = z.object({ user_id: z.string().trim().min(1, 'is required').max(128, 'must be at most 128 characters') });

export const timelineQuery = z.strictObject({
  kinds: z
    .string()
    .transform((s) => [
      ...new Set(
        s
          .split(',')
          .map((k) => k.trim())
          .filter(Boolean),
      ),
    ])
    .pipe(z.array(z.enum(EVENT_KIND_NAMES, { error: `must be a comma-separated list of ${EVENT_KIND_NAMES.join(', ')}` })).min(1, 'name at least one kind'))
    .optional()
    .describe(`Comma-separated kinds (default: all of ${EVENT_KIND_NAMES.join(', ')})`),
  order: z.enum(['asc', 'desc'], { error: 'must be asc or desc' }).default('desc').describe('desc: newest first'),
  cursor: z.string().max(500).optional().describe('next_cursor of the previous page'),
  limit: limit(),
  app: app(),
});

import { z } from 'zod';
import { EVENT_TABLES } from '../../schemas/event';

export const RETENTION_TABLES = Object.values(EVENT_TABLES) as [string, ...string[]];

/** 100 years: a typo such as 25570 days is refused rather than kept forever. */
const MAX_DAYS = 36_500;
const days = () => z.number({ error: 'must be a whole number of days' }).int('must be a whole number of days').min(0, 'must be 0 or more').max(MAX_DAYS, `must be at most ${MAX_DAYS}`);

export const tableParams = z.object({ table: z.enum(RETENTION_TABLES, { error: `must be one of ${RETENTION_TABLES.join(', ')}` }) });

/**
 * A change to one policy. Whether the result is consistent (archive before
 * deletion, deletion not before the retention period) is checked against
 * the stored policy with the change applied (RetentionPolicyService).
 */
export const updatePolicyBody = z
  .strictObject({
    retention_period_days: days().optional(),
    archive_after_days: days().nullable().optional(),
    delete_after_days: days().nullable().optional(),
    is_active: z.boolean({ error: 'must be true or false' }).optional(),
    reason: z.string().trim().min(1).max(2000).optional().describe('Why; recorded in the audit event'),
  })
  .refine((b) => Object.entries(b).some(([k, v]) => k !== 'reason' && v !== undefined), 'send retention_period_days, archive_after_days, delete_after_days and/or is_active');

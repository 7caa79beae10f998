import type { z } from 'zod';
import { AppError } from '../lib/errors/app-error';
import { requiredMessage } from '../schemas/zod-config';
import { hostileJsonProblem } from '../lib/hostile-json-value';

/** Parses request input with a schema, or throws a 400 listing each field path and message. */
export function validate<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  // Path parameters and query strings too (`/v1/subjects/%00`): NUL would reach PostgreSQL as a 500.
  const hostile = hostileJsonProblem(input);
  if (hostile) {
    const details = [{ path: hostile.path.slice(0, 200), message: hostile.message }];
    throw new AppError('VALIDATION_FAILED', details[0]!.path ? `${details[0]!.path}: ${hostile.message}` : hostile.message, { details });
  }
  const result = schema.safeParse(input ?? {}, { error: requiredMessage });
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
  }));
  throw new AppError('VALIDATION_FAILED', details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; '), { details });
}

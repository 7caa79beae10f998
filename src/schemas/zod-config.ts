import { z } from 'zod';

/** "is required" rather than zod's "expected string, received undefined", everywhere. */
export function requiredMessage(issue: { input?: unknown; code?: string }): string | undefined {
  return issue.input === undefined && issue.code === 'invalid_type' ? 'is required' : undefined;
}

/**
 * Sets zod's process-wide error messages (see requiredMessage); the locale
 * stays zod's default English. Called first by each entry point (main, the
 * CLI, the test stack, the bench server), never at import. Event and request
 * validation pass requiredMessage per parse as well, so their messages do
 * not depend on it.
 */
export function configureZod(): void {
  z.config({ customError: requiredMessage });
}

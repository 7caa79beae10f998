import { AppError } from '../../lib/errors/app-error';
import type { ApiKeyScope } from './api-key.repository';

/**
 * Scopes whose data spans every app: reports, the dashboard,
 * administration, retention. A key restricted to some apps must read only
 * their rows, enforced by the engine rather than by filters on the request;
 * until each of these readers does that, a restricted key is refused by
 * them, never served another app's rows. (`query` does: /clickhouse has
 * ClickHouse filter every table, src/features/analyst/analyst-app-restriction.ts.)
 */
const CROSS_APP_SCOPES: ReadonlySet<ApiKeyScope> = new Set(['reports', 'admin', 'retention']);

/** The reason a key restricted to `apps` may not use `scope` yet, or null when it may. */
export function restrictionRefusal(apps: string[] | null, scope: ApiKeyScope): string | null {
  if (apps === null || !CROSS_APP_SCOPES.has(scope)) return null;
  return `this API key is restricted to the apps ${apps.join(', ')}; "${scope}" reads every app's data and does not serve restricted keys yet`;
}

export function assertMayUse(apps: string[] | null, scope: ApiKeyScope): void {
  const refusal = restrictionRefusal(apps, scope);
  if (refusal) throw new AppError('FORBIDDEN', refusal);
}

import { AppError } from '../../lib/errors/app-error';
import type { ApiKeyScope } from './api-key.repository';

/**
 * Scopes whose data spans every app: reports, the dashboard,
 * administration, retention. A key restricted to some apps must read only
 * their rows, enforced by the engine rather than by filters on the request;
 * a route that does not enforce it refuses such a key, never serves it
 * another app's rows. A route that does enforce it (each of its reads is
 * bounded to the key's apps: app-scoped reports, the dashboard's overview)
 * says so with `servesRestricted` (requireScope); `query` needs neither:
 * /clickhouse has ClickHouse filter every table (src/features/analyst/analyst-app-restriction.ts).
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

/**
 * The apps the caller of a request may read: the key's apps for a
 * restricted key, null (every app) for an unrestricted key or an
 * administrator. Routes that serve restricted keys bound every read by it.
 */
export function readableApps(locals: { apiKey?: { apps: string[] | null } }): string[] | null {
  return locals.apiKey?.apps ?? null;
}

/** True when `apps` (a report's scope, a filter) lies within what `readable` allows. */
export function withinApps(readable: string[] | null, apps: readonly string[] | null): boolean {
  if (readable === null) return true;
  if (apps === null || apps.length === 0) return false;
  return apps.every((a) => readable.includes(a));
}

/**
 * The apps a read is bounded to, from the caller's readable apps and the
 * app filter it asked for: undefined means every app (an unrestricted
 * caller with no filter). A restricted caller naming an app outside its own
 * is refused, whether or not that app exists: the filter is never trusted.
 */
export function boundedApps(readable: string[] | null, requested: string | undefined): string[] | undefined {
  if (requested !== undefined) {
    if (readable !== null && !readable.includes(requested)) throw new AppError('FORBIDDEN', `this API key reads only the apps ${readable.join(', ')}`);
    return [requested];
  }
  return readable ?? undefined;
}

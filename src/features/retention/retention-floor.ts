/**
 * Tables whose rows are the record of who did what and what was attacked:
 * they are kept at least RETENTION_MIN_DAYS (365 by default) whatever a
 * policy says. Only the deployment's environment can lower the floor, so a
 * stolen `retention` key or administrator session cannot erase the trail.
 */
export const PROTECTED_TABLES: ReadonlySet<string> = new Set(['audit_logs', 'auth_audit_log', 'security_events', 'failed_login_attempts', 'rate_limit_violations']);

export interface RetentionDays {
  retention_period_days: number;
  delete_after_days: number | null;
}

/** Why a policy for `table` deletes too early, or null. */
export function retentionFloorProblem(table: string, policy: RetentionDays, floorDays: number): { path: string; message: string } | null {
  if (!PROTECTED_TABLES.has(table)) return null;
  for (const path of ['retention_period_days', 'delete_after_days'] as const) {
    const days = policy[path];
    if (days !== null && days < floorDays) {
      return { path, message: `must be at least ${floorDays} days for ${table}: audit, auth and security records have a floor that only the deployment's environment (RETENTION_MIN_DAYS) can lower` };
    }
  }
  return null;
}

/** The deletion age the retention job uses: the policy's, raised to the floor for protected tables. */
export function flooredDeletionDays(table: string, days: number, floorDays: number): number {
  return PROTECTED_TABLES.has(table) ? Math.max(days, floorDays) : days;
}

import { flooredDeletionDays, PROTECTED_TABLES, retentionFloorProblem } from '../../src/features/retention/retention-floor';

const FLOOR = 365;

describe('the retention floor of audit, auth and security records', () => {
  it.each([...PROTECTED_TABLES])('refuses a policy that deletes %s before the floor', (table) => {
    expect(retentionFloorProblem(table, { retention_period_days: 30, delete_after_days: null }, FLOOR)).toEqual({
      path: 'retention_period_days',
      message: `must be at least 365 days for ${table}: audit, auth and security records have a floor that only the deployment's environment (RETENTION_MIN_DAYS) can lower`,
    });
  });

  it('names the field that is too short', () => {
    expect(retentionFloorProblem('audit_logs', { retention_period_days: 400, delete_after_days: 364 }, FLOOR)?.path).toBe('delete_after_days');
  });

  it('accepts exactly the floor, or no deletion age at all', () => {
    expect(retentionFloorProblem('audit_logs', { retention_period_days: 365, delete_after_days: 365 }, FLOOR)).toBeNull();
    expect(retentionFloorProblem('audit_logs', { retention_period_days: 3650, delete_after_days: null }, FLOOR)).toBeNull();
  });

  it('follows the floor the environment sets', () => {
    expect(retentionFloorProblem('security_events', { retention_period_days: 30, delete_after_days: null }, 30)).toBeNull();
    expect(retentionFloorProblem('security_events', { retention_period_days: 30, delete_after_days: null }, 31)).not.toBeNull();
  });

  it('does not hold other tables to it', () => {
    expect(retentionFloorProblem('api_access_log', { retention_period_days: 7, delete_after_days: 7 }, FLOOR)).toBeNull();
    expect(retentionFloorProblem('error_logs', { retention_period_days: 1, delete_after_days: null }, FLOOR)).toBeNull();
  });

  it('protects the tables that record who did what and what was attacked', () => {
    expect([...PROTECTED_TABLES].sort()).toEqual(['audit_logs', 'auth_audit_log', 'failed_login_attempts', 'rate_limit_violations', 'security_events']);
  });
});

describe('the deletion age the retention job uses', () => {
  it('raises a protected table to the floor, even when its stored policy says less', () => {
    expect(flooredDeletionDays('auth_audit_log', 30, FLOOR)).toBe(365);
    expect(flooredDeletionDays('auth_audit_log', 500, FLOOR)).toBe(500);
  });

  it('keeps the policy of any other table', () => {
    expect(flooredDeletionDays('api_access_log', 30, FLOOR)).toBe(30);
  });
});

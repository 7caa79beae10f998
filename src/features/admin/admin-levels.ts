/**
 * The lowest `admin_level` (1-5, 5 is full access; docs/data-model.md) each
 * administrator action needs. A lower level gets 403. Reads come before
 * the changes they lead to, and the changes that widen someone's access
 * (roles, permissions, settings) need the most trust.
 */
export const ADMIN_LEVELS = {
  /** List, search and view users and their permissions. */
  readUsers: 1,
  /** List error logs, security events and failed logins. */
  readIncidents: 1,
  /** What an API key with the `reports` scope may read: compliance reports, integrity verification, the dashboard's traffic overview. */
  readReports: 1,
  /** Read the data retention policies (/v1/retention-policies), as a `retention` API key may. */
  readRetention: 1,
  /** Resolve error logs and security events. */
  resolveIncidents: 2,
  /** Lift a login lock (password lockout or a risk-worker lock). */
  unlockUsers: 2,
  /** Generate compliance reports and record their submission (as a `reports` API key may). */
  manageReports: 2,
  /** Suspend and reactivate users. */
  suspendUsers: 3,
  /** Read system settings; encrypted values are shown only from `manageSettings` up. */
  readSettings: 3,
  /** List API keys: names, apps, scopes, restrictions (never a key or its hash). */
  readKeys: 3,
  /** Change roles, grant and revoke permissions. */
  manageAccess: 4,
  /** Create, update and delete system settings, and read encrypted values. */
  manageSettings: 4,
  /** Change data retention policies: they decide when audit data is deleted (as a `retention` API key may). */
  manageRetention: 5,
  /**
   * Create and revoke API keys (as `auditflow apikey` does). A key may carry
   * any scope, `retention` and `admin` included, and read every app, so
   * making one is worth every other right here: the top level.
   */
  manageKeys: 5,
} as const;

export type AdminAction = keyof typeof ADMIN_LEVELS;

export const MIN_ADMIN_LEVEL = 1;
export const MAX_ADMIN_LEVEL = 5;

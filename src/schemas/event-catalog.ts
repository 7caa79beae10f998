/**
 * The event-type catalog of user_audit_log ("User Audit Log Event Types",
 * docs/data-model.md): every
 * event type an app should log about a user, in its eight categories, with
 * the shape of its previous and new values.
 *
 * Event types outside the catalog are ACCEPTED and stored verbatim: an audit
 * pipeline must never drop what an app chose to record, and apps add types
 * faster than catalogs change. They must still be a well-formed name
 * (`EVENT_TYPE_PATTERN`) and are reported back in the 202 body as a
 * warning, so the sending app learns of it; analysts can list them with
 * the query in the README and extend the catalog.
 */
export const EVENT_CATALOG = {
  account_lifecycle: {
    user_created: { description: 'New user account created', previous: 'null', next: '{ email, auth_provider }' },
    user_invited: { description: 'User invitation sent', previous: 'null', next: '{ email, invited_by }' },
    user_registered: { description: 'User completed registration', previous: "{ status: 'invited' }", next: "{ status: 'pending_verification' }" },
    email_verified: { description: 'Email verification completed', previous: "{ status: 'pending_verification' }", next: "{ status: 'active' }" },
    account_deleted: { description: 'User account soft deleted', previous: "{ status: 'active' }", next: "{ status: 'deleted', deleted_at }" },
    account_restored: { description: 'Soft deleted account restored', previous: "{ status: 'deleted' }", next: "{ status: 'active' }" },
  },
  status_change: {
    status_changed: { description: 'User status changed', previous: "{ status: 'active' }", next: "{ status: 'suspended' }" },
    account_suspended: { description: 'Account suspended', previous: "{ status: 'active' }", next: "{ status: 'suspended' }" },
    account_reactivated: { description: 'Suspended account reactivated', previous: "{ status: 'suspended' }", next: "{ status: 'active' }" },
    account_archived: { description: 'Account archived', previous: "{ status: 'inactive' }", next: "{ status: 'archived' }" },
  },
  authentication: {
    login_success: { description: 'Successful login', previous: 'null', next: '{ ip_address, user_agent }' },
    login_failed: { description: 'Failed login attempt', previous: 'null', next: '{ reason, ip_address }' },
    logout: { description: 'User logged out', previous: 'null', next: '{ session_duration }' },
    password_reset_requested: { description: 'Password reset requested', previous: 'null', next: '{ email }' },
    password_reset_completed: { description: 'Password reset completed', previous: 'null', next: '{ reset_token_used }' },
    password_changed: { description: 'Password changed by user', previous: 'null', next: "{ changed_by: 'user' }" },
    token_refreshed: { description: 'OAuth token refreshed', previous: 'null', next: "{ provider: 'google' }" },
  },
  profile: {
    profile_updated: { description: 'User profile updated', previous: "{ name: 'Old Name' }", next: "{ name: 'New Name' }" },
    email_changed: { description: 'Email address changed', previous: "{ email: 'old@example.com' }", next: "{ email: 'new@example.com' }" },
    profile_picture_updated: { description: 'Profile picture changed', previous: "{ url: 'old.jpg' }", next: "{ url: 'new.jpg' }" },
  },
  security: {
    suspicious_activity: { description: 'Suspicious activity detected', previous: 'null', next: '{ reason, ip_address }' },
    account_locked: { description: 'Account locked due to security', previous: "{ status: 'active' }", next: "{ status: 'suspended', reason: 'security' }" },
    '2fa_enabled': { description: 'Two-factor auth enabled', previous: '{ 2fa: false }', next: '{ 2fa: true }' },
    '2fa_disabled': { description: 'Two-factor auth disabled', previous: '{ 2fa: true }', next: '{ 2fa: false }' },
  },
  role_permission: {
    role_changed: { description: 'User role changed', previous: "{ role: 'user' }", next: "{ role: 'admin' }" },
    permission_granted: { description: 'Permission granted', previous: 'null', next: "{ permission: 'manage_users' }" },
    permission_revoked: { description: 'Permission revoked', previous: "{ permission: 'manage_users' }", next: 'null' },
  },
  data: {
    data_exported: { description: 'User data exported', previous: 'null', next: "{ format: 'csv', records: 150 }" },
    data_imported: { description: 'User data imported', previous: 'null', next: "{ format: 'csv', records: 50 }" },
    gdpr_request: { description: 'GDPR data request', previous: 'null', next: "{ request_type: 'export' }" },
  },
  bull_pen: {
    bull_pen_created: { description: 'User created a Bull Pen', previous: 'null', next: '{ bull_pen_id, name }' },
    bull_pen_joined: { description: 'User joined a Bull Pen', previous: 'null', next: "{ bull_pen_id, role: 'player' }" },
    bull_pen_left: { description: 'User left a Bull Pen', previous: '{ bull_pen_id }', next: 'null' },
    bull_pen_kicked: { description: 'User kicked from Bull Pen', previous: "{ status: 'active' }", next: "{ status: 'kicked' }" },
  },
} as const satisfies Record<string, Record<string, { description: string; previous: string; next: string }>>;

export type EventCategory = keyof typeof EVENT_CATALOG;

export const EVENT_CATEGORIES = Object.keys(EVENT_CATALOG) as EventCategory[];

/** Every catalogued type with its category, flattened. */
export const CATALOG_EVENT_TYPES: ReadonlyMap<string, EventCategory> = new Map(EVENT_CATEGORIES.flatMap((category) => Object.keys(EVENT_CATALOG[category]).map((type) => [type, category] as const)));

/**
 * Security event types of todo_app_security_events.event_type
 * (docs/data-model.md), stored upper-case as the seed writes them.
 */
export const SECURITY_EVENT_TYPES = ['AUTHENTICATION_FAILURE', 'UNAUTHORIZED_ACCESS', 'PERMISSION_VIOLATION', 'RATE_LIMIT_EXCEEDED', 'SUSPICIOUS_ACTIVITY', 'DATA_INTEGRITY_VIOLATION'] as const;

/** Auth event types of auth_user_event (AuthUserEvent, docs/data-model.md) beyond the catalog's authentication category. */
export const AUTH_EVENT_TYPES = ['login', 'login_failed', 'logout', 'password_change', 'session_expired'] as const;

/** What any event type must look like, catalogued or not. */
export const EVENT_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

export function isCatalogued(kind: string, eventType: string): boolean {
  if (CATALOG_EVENT_TYPES.has(eventType)) return true;
  if (kind === 'security') return (SECURITY_EVENT_TYPES as readonly string[]).includes(eventType);
  if (kind === 'auth') return (AUTH_EVENT_TYPES as readonly string[]).includes(eventType);
  // Kinds without a catalog of their own (error, api_access, …) have nothing to flag.
  return kind !== 'audit';
}

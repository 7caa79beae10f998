import { z } from 'zod';
import { SEVERITY_LEVELS } from '../../schemas/security.schema';
import { ERROR_SEVERITIES } from '../../schemas/error.schema';
import { email, loginBody, newPassword } from '../auth/auth.schemas';
import { API_KEY_SCOPES } from '../api-keys/api-key.repository';
import { NAME_PATTERN } from '../api-keys/api-key.service';
import { SETTING_TYPES } from '../settings/settings.repository';
import { MAX_ADMIN_LEVEL, MIN_ADMIN_LEVEL } from './admin-levels';

/**
 * Roles a user can hold (users.role). A role is a coarse profile; finer
 * grants are permissions.
 * - user: the default, owns their todos;
 * - support: helps users (read-only access to accounts in support tools);
 * - auditor: reads audit trails and reports;
 * - admin: an application-level administrator role (not an `administrators` row).
 */
export const USER_ROLES = ['user', 'support', 'auditor', 'admin'] as const;

/**
 * Permissions that can be granted to a user on top of their role (user_permissions).
 * - manage_users: act on other users in the app;
 * - view_reports: read compliance reports;
 * - export_data: export audit data;
 * - manage_settings: change application settings the app exposes.
 */
export const USER_PERMISSIONS = ['manage_users', 'view_reports', 'export_data', 'manage_settings'] as const;

const uuid = () => z.uuid({ error: 'must be a UUID' });
const notes = () => z.string().trim().min(1, 'is required').max(8000, 'must be at most 8000 characters');
const limit = () => z.coerce.number().int().min(1).max(200).default(50);
const offset = () => z.coerce.number().int().min(0).max(1_000_000).default(0);
const resolved = () =>
  z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .transform((v) => v === 'true')
    .optional();

/** As /auth/login, without a device fingerprint. */
export const adminLoginBody = loginBody.omit({ device_fingerprint: true });

export { changePasswordBody as adminChangePasswordBody } from '../auth/auth.schemas';

export const newAdministrator = z.strictObject({
  email: email(),
  password: newPassword(),
  admin_level: z.coerce
    .number()
    .int()
    .min(MIN_ADMIN_LEVEL, `must be ${MIN_ADMIN_LEVEL}-${MAX_ADMIN_LEVEL}`)
    .max(MAX_ADMIN_LEVEL, `must be ${MIN_ADMIN_LEVEL}-${MAX_ADMIN_LEVEL}`)
    .default(MAX_ADMIN_LEVEL),
  first_name: z.string().trim().max(100).nullable().optional(),
  last_name: z.string().trim().max(100).nullable().optional(),
});

export const idParams = z.object({ id: uuid() });
export const permissionParams = z.object({ id: uuid(), permission: z.enum(USER_PERMISSIONS, { error: `must be one of ${USER_PERMISSIONS.join(', ')}` }) });
export const eventIdParams = z.object({ event_id: uuid() });
export const settingKeyParams = z.object({ key: z.string().regex(/^[a-z][a-z0-9_.]{0,99}$/, 'must be 1-100 of a-z, 0-9, _ and ., starting with a letter') });

export const userSearchQuery = z.strictObject({
  q: z.string().trim().max(254).optional(),
  status: z.enum(['active', 'inactive', 'locked', 'suspended', 'deleted'], { error: 'must be active, inactive, locked, suspended or deleted' }).optional(),
  limit: limit(),
  offset: offset(),
});

export const suspendBody = z.strictObject({ reason: z.string().trim().min(1, 'is required').max(2000) });
export const reactivateBody = z.strictObject({ reason: z.string().trim().min(1).max(2000).optional() });
export const unlockBody = z.strictObject({ reason: z.string().trim().min(1).max(2000).optional() });
export const roleBody = z.strictObject({ role: z.enum(USER_ROLES, { error: `must be one of ${USER_ROLES.join(', ')}` }) });
export const permissionBody = z.strictObject({ permission: z.enum(USER_PERMISSIONS, { error: `must be one of ${USER_PERMISSIONS.join(', ')}` }) });

export const createSettingBody = z.strictObject({
  setting_key: settingKeyParams.shape.key,
  setting_value: z.string().max(10_000),
  setting_type: z.enum(SETTING_TYPES, { error: `must be one of ${SETTING_TYPES.join(', ')}` }),
  description: z.string().max(1000).nullable().optional(),
  is_mutable: z.boolean().optional(),
  is_encrypted: z.boolean().optional(),
});
export const updateSettingBody = z
  .strictObject({ setting_value: z.string().max(10_000).optional(), description: z.string().max(1000).nullable().optional(), is_mutable: z.boolean().optional() })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'send setting_value, description and/or is_mutable');

export const errorLogQuery = z.strictObject({
  severity: z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(ERROR_SEVERITIES, { error: `must be one of ${ERROR_SEVERITIES.join(', ')}` }))
    .optional(),
  app: z.string().trim().min(1, 'must not be empty').max(128, 'must be at most 128 characters').optional().describe('Only this source app'),
  resolved: resolved(),
  limit: limit(),
  offset: offset(),
});
export const securityEventQuery = z.strictObject({
  severity: z
    .string()
    .transform((s) => s.toUpperCase())
    .pipe(z.enum(SEVERITY_LEVELS, { error: `must be one of ${SEVERITY_LEVELS.join(', ')}` }))
    .optional(),
  type: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/, 'must be an event type')
    .optional(),
  app: z.string().trim().min(1, 'must not be empty').max(128, 'must be at most 128 characters').optional().describe('Only this source app'),
  resolved: resolved(),
  limit: limit(),
  offset: offset(),
});

/** Whose event: two apps may send the same event_id. Needed only when more than one has. */
const sourceApp = () =>
  z.string().trim().min(1, 'must not be empty').max(128, 'must be at most 128 characters').optional().describe("The event's source_app; required when several apps sent an event with this id");
export const resolveErrorBody = z.strictObject({ resolution_notes: notes(), source_app: sourceApp() });
export const resolveSecurityBody = z.strictObject({ analyst_notes: notes(), false_positive: z.boolean().default(false), source_app: sourceApp() });

const keyName = (what: string) => z.string().regex(NAME_PATTERN, `must be ${what}: 1-100 letters, digits, dot, dash or underscore, starting with a letter or digit`);

/** As `auditflow apikey create --name --app --scopes --apps --trusted-ip-reputation`. */
export const createApiKeyBody = z.strictObject({
  name: keyName('a key name').describe("The key's name (several keys may share one)"),
  app: keyName('an app name').optional().describe("The sending app the key belongs to: source_app of its events (default: the name; 'auditflow' is reserved)"),
  scopes: z
    .array(z.enum(API_KEY_SCOPES, { error: `must be one of ${API_KEY_SCOPES.join(', ')}` }))
    .min(1, 'name at least one scope')
    .max(API_KEY_SCOPES.length)
    .transform((s) => [...new Set(s)]),
  apps: z.array(keyName('an app name')).min(1, 'name at least one app, or leave apps out for every app').max(100).optional().describe('Restrict what the key reads to these apps (default: every app)'),
  trusted_ip_reputation: z.boolean().default(false).describe("The app's failed logins feed the shared IP windows and blocks of auditflow's own login (docs/tenancy.md)"),
});
export const apiKeyIdParams = z.object({ id: uuid() });

import { z } from 'zod';

/** Emails are compared case-insensitively and stored trimmed and lower-case. */
export const email = () =>
  z
    .string()
    .trim()
    .max(254)
    .pipe(z.email({ error: 'must be a valid email address' }))
    .transform((e) => e.toLowerCase());

/** NIST 800-63B: length matters, composition rules do not. */
export const newPassword = () => z.string().min(10, 'must be at least 10 characters').max(256, 'must be at most 256 characters');
const anyPassword = () => z.string().min(1, 'is required').max(256);
const name = () => z.string().trim().max(100).nullable().optional();
const token = () => z.string().min(20).max(200);

export const registerBody = z.strictObject({ email: email(), password: newPassword(), first_name: name(), last_name: name() });
// ':' never appears in the addresses we register, and login_throttle keys administrators as 'admin:<email>':
// refusing it keeps the user endpoint from counting failures against an administrator's lock.
export const loginBody = z.strictObject({
  email: z
    .string()
    .trim()
    .max(254)
    .regex(/^[^:]*$/, 'must be an email address')
    .transform((e) => e.toLowerCase()),
  password: anyPassword(),
  device_fingerprint: z.string().max(255).nullable().optional(),
});
export const tokenBody = z.strictObject({ token: token() });
export const loginConfirmBody = z.strictObject({ challenge: token(), code: z.string().regex(/^\d{6}$/, 'must be the 6-digit code from the mail') });
export const emailBody = z.strictObject({ email: email() });
export const resetBody = z.strictObject({ token: token(), password: newPassword() });
export const changePasswordBody = z.strictObject({ current_password: anyPassword(), new_password: newPassword() });
export const profileBody = z.strictObject({ first_name: name(), last_name: name() }).refine((b) => Object.keys(b).length > 0, 'send first_name and/or last_name');
export const changeEmailBody = z.strictObject({ new_email: email(), password: anyPassword() });
export const passwordBody = z.strictObject({ password: anyPassword() });
export const restoreBody = z.strictObject({ email: email(), password: anyPassword(), device_fingerprint: z.string().max(255).nullable().optional() });

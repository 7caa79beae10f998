import type { ApiOperation } from '../openapi/api-operation';
import { changeEmailBody, changePasswordBody, emailBody, loginBody, loginConfirmBody, passwordBody, profileBody, registerBody, resetBody, restoreBody, tokenBody } from './auth.schemas';

const invalid = { 400: 'Invalid input: field paths and messages' };

export const authOperations: ApiOperation[] = [
  { method: 'post', path: '/auth/register', tag: 'accounts', summary: 'Create an account; a verification link is mailed', security: 'none', body: registerBody, responses: { 201: 'Verification mail sent (also for an email already registered: no enumeration)', ...invalid } },
  { method: 'post', path: '/auth/verify-email', tag: 'accounts', summary: 'Verify an email with the mailed token', security: 'none', body: tokenBody, responses: { 200: 'Verified', ...invalid } },
  { method: 'post', path: '/auth/verify-email/resend', tag: 'accounts', summary: 'Mail a new verification link', security: 'none', body: emailBody, responses: { 202: 'Sent if the account exists and is unverified', ...invalid } },
  {
    method: 'post',
    path: '/auth/login',
    tag: 'accounts',
    summary: 'Log in; returns an opaque session token',
    security: 'none',
    body: loginBody,
    responses: {
      200: '{ token, expires_at, idle_expires_at, session_id }',
      401: 'Wrong email or password (one answer for both); or STEP_UP_REQUIRED: the risk worker asked for a step-up and this device or network is new, so a code was mailed (details: { challenge, method, expires_in_seconds })',
      403: 'Email not verified, or account suspended/deleted',
      423: 'Too many failed logins; Retry-After says when to retry',
      ...invalid,
    },
  },
  {
    method: 'post',
    path: '/auth/login/confirm',
    tag: 'accounts',
    summary: 'Finish a stepped-up login with the mailed 6-digit code; a challenge is single use',
    security: 'none',
    body: loginConfirmBody,
    responses: { 200: '{ token, expires_at, idle_expires_at, session_id }', 401: 'Wrong code (the challenge is void), or an unknown, used or expired challenge', 423: 'Locked meanwhile', ...invalid },
  },
  { method: 'post', path: '/auth/logout', tag: 'accounts', summary: 'End this session', security: 'session', responses: { 204: 'Ended', 401: 'No live session' } },
  { method: 'post', path: '/auth/logout-all', tag: 'accounts', summary: 'End every session of this account', security: 'session', responses: { 200: '{ ended_sessions }', 401: 'No live session' } },
  { method: 'post', path: '/auth/password/forgot', tag: 'accounts', summary: 'Mail a password reset link', security: 'none', body: emailBody, responses: { 202: 'Sent if the account exists', ...invalid } },
  { method: 'post', path: '/auth/password/reset', tag: 'accounts', summary: 'Set a new password with the mailed token (also lifts a lockout)', security: 'none', body: resetBody, responses: { 200: 'Reset; every session ended', ...invalid } },
  { method: 'post', path: '/auth/password/change', tag: 'accounts', summary: 'Change the password; other sessions end', security: 'session', body: changePasswordBody, responses: { 200: 'Changed', 401: 'Current password wrong', ...invalid } },
  { method: 'post', path: '/auth/email/confirm', tag: 'accounts', summary: 'Confirm a new email with the mailed token', security: 'none', body: tokenBody, responses: { 200: 'The account, with its new email', 409: 'Email taken meanwhile', ...invalid } },
  { method: 'post', path: '/auth/restore', tag: 'accounts', summary: 'Restore a deleted account within 30 days; returns a session', security: 'none', body: restoreBody, responses: { 200: 'Restored; a session token', 401: 'Wrong email or password', 409: 'Not deleted', 410: 'Deleted too long ago', ...invalid } },
  { method: 'post', path: '/auth/guest', tag: 'accounts', summary: 'Start a guest session', security: 'none', responses: { 201: '{ guest_session_id, expires_at }' } },
  { method: 'get', path: '/auth/guest', tag: 'accounts', summary: 'Touch a guest session (X-Guest-Session header)', security: 'none', responses: { 200: 'Live', 401: 'Unknown or expired' } },
  { method: 'get', path: '/me', tag: 'accounts', summary: 'The signed-in account', security: 'session', responses: { 200: 'The account (never its password hash)', 401: 'No live session' } },
  { method: 'patch', path: '/me', tag: 'accounts', summary: 'Update first and last name', security: 'session', body: profileBody, responses: { 200: 'The updated account', ...invalid } },
  { method: 'post', path: '/me/email', tag: 'accounts', summary: 'Change email: a confirmation link goes to the new address', security: 'session', body: changeEmailBody, responses: { 202: 'Confirmation sent', 401: 'Password wrong', ...invalid } },
  { method: 'delete', path: '/me', tag: 'accounts', summary: 'Delete the account (restorable for 30 days)', security: 'session', body: passwordBody, responses: { 200: '{ deleted_at, restore_until }', 401: 'Password wrong', ...invalid } },
];

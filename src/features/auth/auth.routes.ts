import { Router, type Request } from 'express';
import { AppError } from '../../lib/errors/app-error';
import { emailOfBody, rateLimited, type RouteLimits } from '../rate-limits/route-limits';
import { validate } from '../../http/validate';
import type { AccountService } from './account.service';
import { changeEmailBody, changePasswordBody, emailBody, loginBody, loginConfirmBody, passwordBody, profileBody, registerBody, resetBody, restoreBody, tokenBody } from './auth.schemas';
import type { AuthService } from './auth.service';
import type { PasswordService } from './password.service';
import { requireSession } from './require-session';

/** /auth: registration, login, logout, passwords, restore, guests. */
export function authRoutes(auth: AuthService, accounts: AccountService, passwords: PasswordService, limits?: RouteLimits): Router {
  const router = Router();

  router.post('/auth/register', rateLimited(limits, 'register', emailOfBody), async (req, res) => {
    const body = validate(registerBody, req.body);
    await auth.register(body, res.locals.ctx);
    res.status(201).json({ status: 'pending_verification', message: `a verification link was sent to ${body.email}` });
  });

  router.post('/auth/verify-email', async (req, res) => {
    await auth.verifyEmail(validate(tokenBody, req.body).token, res.locals.ctx);
    res.json({ status: 'verified' });
  });

  router.post('/auth/verify-email/resend', rateLimited(limits, 'verification_resend', emailOfBody), async (req, res) => {
    const { email } = validate(emailBody, req.body);
    // Answer first, as forgot-password does: the time taken must not tell which emails await verification.
    res.status(202).json({ status: 'sent_if_unverified' });
    auth.requestVerificationResend(email, res.locals.ctx);
  });

  router.post('/auth/login', async (req, res) => {
    res.json(await auth.login(validate(loginBody, req.body), res.locals.ctx));
  });

  router.post('/auth/login/confirm', rateLimited(limits, 'login_confirm'), async (req, res) => {
    res.json(await auth.confirmLogin(validate(loginConfirmBody, req.body), res.locals.ctx));
  });

  router.post('/auth/logout', requireSession(auth, 'any'), async (_req, res) => {
    await auth.logout(res.locals.session!, res.locals.ctx);
    res.status(204).end();
  });

  router.post('/auth/logout-all', requireSession(auth, 'any'), async (_req, res) => {
    const session = res.locals.session!;
    res.json({ ended_sessions: await auth.logoutAll({ type: session.subject_type, id: session.user_id }, res.locals.ctx) });
  });

  router.post('/auth/password/forgot', rateLimited(limits, 'forgot_password', emailOfBody), async (req, res) => {
    const { email } = validate(emailBody, req.body);
    // Answer first: the lookup and the mail run after, so timing does not tell which emails are registered.
    res.status(202).json({ status: 'sent_if_registered' });
    passwords.requestReset(email, res.locals.ctx);
  });

  router.post('/auth/password/reset', rateLimited(limits, 'reset_password'), async (req, res) => {
    const body = validate(resetBody, req.body);
    await passwords.reset(body.token, body.password, res.locals.ctx);
    res.json({ status: 'password_reset' });
  });

  router.post('/auth/password/change', requireSession(auth), async (req, res) => {
    const body = validate(changePasswordBody, req.body);
    await passwords.change(res.locals.session!.user_id, body.current_password, body.new_password, res.locals.ctx);
    res.json({ status: 'password_changed' });
  });

  router.post('/auth/email/confirm', async (req, res) => {
    res.json(await accounts.confirmEmailChange(validate(tokenBody, req.body).token, res.locals.ctx));
  });

  router.post('/auth/restore', rateLimited(limits, 'restore', emailOfBody), async (req, res) => {
    const body = validate(restoreBody, req.body);
    res.json(await accounts.restoreAccount(body, res.locals.ctx));
  });

  router.post('/auth/restore/confirm', rateLimited(limits, 'restore_confirm'), async (req, res) => {
    res.json(await accounts.confirmRestore(validate(loginConfirmBody, req.body), res.locals.ctx));
  });

  router.post('/auth/guest', rateLimited(limits, 'guest'), async (_req, res) => {
    res.status(201).json(await accounts.startGuest(res.locals.ctx));
  });

  router.get('/auth/guest', async (req, res) => {
    const id = req.get('x-guest-session');
    const guest = id ? await accounts.touchGuest(id) : null;
    if (!guest) throw new AppError('UNAUTHENTICATED', 'no live guest session: POST /auth/guest to start one, then send X-Guest-Session');
    res.json(guest);
  });

  router.get('/me', requireSession(auth), async (_req, res) => {
    res.json(await accounts.me(res.locals.session!.user_id));
  });

  router.patch('/me', requireSession(auth), async (req, res) => {
    res.json(await accounts.updateProfile(res.locals.session!.user_id, validate(profileBody, req.body), res.locals.ctx));
  });

  const newEmailOfBody = (req: Request): string | undefined => {
    const email = (req.body as { new_email?: unknown } | undefined)?.new_email;
    return typeof email === 'string' ? email.slice(0, 320) : undefined;
  };
  router.post('/me/email', requireSession(auth), rateLimited(limits, 'email_change', newEmailOfBody), async (req, res) => {
    const body = validate(changeEmailBody, req.body);
    await accounts.requestEmailChange(res.locals.session!.user_id, body.new_email, body.password, res.locals.ctx);
    res.status(202).json({ status: 'confirmation_sent', message: `a confirmation link was sent to ${body.new_email}` });
  });

  router.delete('/me', requireSession(auth), async (req, res) => {
    res.json(await accounts.deleteAccount(res.locals.session!.user_id, validate(passwordBody, req.body).password, res.locals.ctx));
  });

  return router;
}

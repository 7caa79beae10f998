import { randomInt, timingSafeEqual } from 'node:crypto';
import { OWN_SOURCE_APP } from '../../domain/own-source-app';
import { AppError } from '../../lib/errors/app-error';
import type { Logger } from '../../lib/logger';
import type { Mailer } from '../../lib/mailer';
import type { AccountTokenRepository } from './account-token.repository';
import type { LoginHistory } from './risk-signals';
import { hashSecret, newSecret } from './tokens';
import type { UserRow } from './user.repository';

/** How long a mailed login code can be confirmed. */
export const STEP_UP_TTL_MINUTES = 10;

export interface StepUpChallenge {
  challenge: string;
  method: 'email_code';
  expires_in_seconds: number;
}

/** What a stepped-up request goes on to do once its code is confirmed. */
export type StepUpIntent = 'login' | 'restore';

/** What a pending challenge stores (account_tokens.payload): never the code itself. */
interface ChallengePayload {
  code_hash: string;
  device_fingerprint: string | null;
  /** Absent on challenges from before restore had a step-up: a login. */
  intent?: StepUpIntent;
}

/**
 * Step-up for built-in users, as the risk worker asks for it
 * (users.step_up_required_at): a login from a device or network the worker
 * has not seen at one of the user's successful logins must also confirm a
 * six-digit code mailed to the account. A challenge is single use: a wrong
 * code voids it, so each guess costs the attacker the password and a mail.
 */
export class LoginStepUp {
  constructor(private readonly d: { tokens: AccountTokenRepository; mailer: Mailer; risk: LoginHistory; logger: Logger }) {}

  /** Whether this login must confirm a code. If Redis cannot say, it must: the mailbox owner still gets in. */
  async required(user: UserRow, device: string | null, ip: string | null): Promise<boolean> {
    if (!user.step_up_required_at) return false;
    try {
      return !(await this.d.risk.isFamiliar(OWN_SOURCE_APP, user.id, device, ip));
    } catch (error) {
      this.d.logger.warn({ err: error }, 'could not read the risk state; asking for the login code');
      return true;
    }
  }

  /** Mails a new code and returns the challenge the client confirms it with. */
  async challenge(user: UserRow, device: string | null, ip: string | null, intent: StepUpIntent = 'login'): Promise<StepUpChallenge> {
    const { token, hash } = newSecret('afc_');
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const payload: ChallengePayload = { code_hash: codeHash(token, code), device_fingerprint: device, intent };
    await this.d.tokens.insert(hash, 'login_challenge', user.id, STEP_UP_TTL_MINUTES, JSON.stringify(payload));
    await this.send({
      to: user.email,
      subject: 'Your auditflow login code',
      text:
        `Your login code: ${code}\n\nIt is valid for ${STEP_UP_TTL_MINUTES} minutes. Someone logged in with your password from a device or network ` +
        `we have not seen for your account${ip ? ` (${ip})` : ''}. If that was not you, do not share the code and reset your password.\n`,
    });
    return { challenge: token, method: 'email_code', expires_in_seconds: STEP_UP_TTL_MINUTES * 60 };
  }

  /**
   * The challenge's user and device, and whether `code` is its code; null for
   * an unknown, used or expired challenge. The challenge is used up either way.
   */
  async confirm(challenge: string, code: string): Promise<{ userId: string; device: string | null; intent: StepUpIntent; valid: boolean } | null> {
    const row = await this.d.tokens.consume(hashSecret(challenge), 'login_challenge');
    if (!row?.payload) return null;
    const payload = JSON.parse(row.payload) as ChallengePayload;
    const expected = Buffer.from(payload.code_hash, 'hex');
    const given = Buffer.from(codeHash(challenge, code), 'hex');
    return { userId: row.user_id, device: payload.device_fingerprint, intent: payload.intent ?? 'login', valid: expected.length === given.length && timingSafeEqual(expected, given) };
  }

  private async send(mail: { to: string; subject: string; text: string }): Promise<void> {
    try {
      await this.d.mailer.send(mail);
    } catch (error) {
      this.d.logger.error({ err: error }, 'could not mail a login code');
      throw new AppError('UNAVAILABLE', 'could not mail the login code; try again later', { cause: error });
    }
  }
}

function codeHash(challenge: string, code: string): string {
  return hashSecret(`${challenge}:${code}`);
}

import type { Logger } from '../../lib/logger';
import type { Mailer } from '../../lib/mailer';
import type { RouteLimits } from './route-limits';

/**
 * Every mail path goes through one cap per address and hour (the `mail`
 * limit), so no route, present or future, can be used to flood a mailbox.
 * Past the cap a mail is dropped and logged: the request that asked for it
 * got its answer already, and telling the caller would say the address exists.
 */
export function cappedMailer(mailer: Mailer, limits: RouteLimits, logger: Logger): Mailer {
  return {
    async send(mail) {
      if (!(await limits.mayMail(mail.to))) {
        logger.warn({ subject: mail.subject }, 'mail not sent: the address reached its hourly cap');
        return;
      }
      await mailer.send(mail);
    },
  };
}

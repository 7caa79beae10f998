import fs from 'node:fs';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from './logger';

/** SMTP_URL (unset: mails are files under dir), MAIL_FROM. */
export interface MailConfig {
  smtpUrl?: string;
  from: string;
  dir: string;
}

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
}

/**
 * Sends a mail that announces a change already made: a failure is logged,
 * and the change stands (the user can ask for the mail again).
 */
export async function sendOrLog(mailer: Mailer, logger: Logger, mail: Mail): Promise<void> {
  try {
    await mailer.send(mail);
  } catch (error) {
    logger.error({ err: error, subject: mail.subject }, 'could not send mail');
  }
}

/**
 * Sends mail through nodemailer: SMTP when SMTP_URL is set; otherwise each
 * message is written as an .eml file under $DATA_DIR/mail, which is where a
 * developer (or a test) reads verification and reset links.
 */
export function createMailer(config: MailConfig): Mailer {
  if (config.smtpUrl) {
    const transport: Transporter = nodemailer.createTransport(config.smtpUrl);
    return { send: async (mail) => void (await transport.sendMail({ from: config.from, ...mail })) };
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  // Written whole in a side folder, then renamed in: whoever reads the folder never sees half a mail (as maildir's tmp/).
  const unfinished = path.join(config.dir, '.tmp');
  fs.mkdirSync(unfinished, { recursive: true });
  return {
    send: async (mail) => {
      const info = await transport.sendMail({ from: config.from, ...mail });
      const safeTo = mail.to.replace(/[^A-Za-z0-9@._-]/g, '_');
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${safeTo}-${Math.random().toString(36).slice(2, 8)}.eml`;
      await fs.promises.writeFile(path.join(unfinished, name), info.message as Buffer, { mode: 0o600 });
      await fs.promises.rename(path.join(unfinished, name), path.join(config.dir, name));
    },
  };
}

import { generateKeyPairSync, sign } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { reportHash, type SignedReport, type UnsignedReport } from '../../src/domain/report';
import { keyIdOf } from '../../src/lib/signing-key';

/**
 * A signing key of a test's own, its public half written where
 * `auditflow report verify --public-key` reads it, and a daily security
 * report of `failures` failed logins signed with it, as a download holds one.
 */
export function reportSigner(prefix: string): { dir: string; pem: string; signedReport(failures: number): SignedReport } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = path.join(dir, 'public.pem');
  fs.writeFileSync(pem, publicKey.export({ type: 'spki', format: 'pem' }));
  const signedReport = (failures: number): SignedReport => {
    const unsigned: UnsignedReport = {
      format: 'auditflow-report/1',
      report_type: 'daily_security_summary',
      period_start: '2026-01-01T00:00:00.000Z',
      period_end: '2026-01-02T00:00:00.000Z',
      generated_at: '2026-01-02T00:05:00.000Z',
      total_records: failures,
      content: { failed_logins: { total: failures, by_reason: { INVALID_PASSWORD: failures } } },
      previous_report_hash: '',
      key_id: keyIdOf(publicKey),
    };
    const hash = reportHash(unsigned);
    return { ...unsigned, report_hash: hash, signature: sign(null, Buffer.from(hash), privateKey).toString('base64') };
  };
  return { dir, pem, signedReport };
}

import type { KeyObject } from 'node:crypto';
import { keyIdOf, verifySignature } from '../../lib/signing-key';
import { reportHash, type SignedReport } from '../../domain/report';

/** What checking a signed report against a public key found; `problems` says it in words. */
export interface ReportCheck {
  ok: boolean;
  /** The content hashes to report_hash. */
  hash_matches: boolean;
  /** The Ed25519 signature over report_hash verifies with the public key. */
  signature_valid: boolean;
  /** key_id names this public key. */
  key_matches: boolean;
  problems: string[];
}

/** Checks a report with nothing but the public key: the same check offline (CLI) and on the server (dashboard). */
export function checkReport(report: SignedReport, publicKey: KeyObject): ReportCheck {
  const problems: string[] = [];
  if (report.format !== 'auditflow-report/1') problems.push(`unknown format ${JSON.stringify(report.format)}`);
  const hash = reportHash(report);
  const hashMatches = hash === report.report_hash;
  if (!hashMatches) problems.push(`content does not match report_hash (computed ${hash})`);
  const signatureValid = verifySignature(publicKey, report.report_hash, report.signature);
  if (!signatureValid) problems.push('the signature does not verify with this public key');
  const keyId = keyIdOf(publicKey);
  const keyMatches = report.key_id === keyId;
  if (!keyMatches) problems.push(`signed with key ${report.key_id}, but the public key given is ${keyId}`);
  return { ok: problems.length === 0, hash_matches: hashMatches, signature_valid: signatureValid, key_matches: keyMatches, problems };
}

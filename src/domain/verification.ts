import type { ChainBreak } from './chain-check';

/** What one integrity verification found, table by table. */
export interface TableVerification {
  table: string;
  seals: number;
  rows: number;
  ok: boolean;
  first_break?: ChainBreak;
}

export interface VerificationResult {
  ok: boolean;
  from: string | null;
  to: string | null;
  tables: TableVerification[];
  rows: number;
  seconds: number;
  rows_per_second: number;
}

export const VERIFICATION_TRIGGERS = ['scheduled', 'api', 'cli'] as const;

export type VerificationTrigger = (typeof VERIFICATION_TRIGGERS)[number];

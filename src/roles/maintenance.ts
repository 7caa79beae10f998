import type { Pool } from 'pg';
import type { Config } from '../config/env';
import { clickHouseCluster, type ClickHouseClient } from '../lib/clickhouse';
import { KeyRing } from '../lib/key-ring';
import type { Logger } from '../lib/logger';
import { SigningKey } from '../lib/signing-key';
import { directReader } from '../queues/clickhouse-reader';
import type { ClickHouseWriter } from '../features/ingest/writer/clickhouse-writer';
import { RetentionArchiver } from '../features/integrity/archive/retention-archiver';
import type { BrokenChainAlarm } from '../features/integrity/recorded-verification';
import { IntegrityVerifier } from '../features/integrity/integrity-verifier';
import { RecordedVerification } from '../features/integrity/recorded-verification';
import { SealRepository } from '../features/integrity/seal.repository';
import { VerificationRunRepository } from '../features/integrity/verification-run.repository';
import { ReportBuilder } from '../features/reports/report-builder';
import { ReportRepository } from '../features/reports/report.repository';
import { RetentionJob } from '../features/retention/retention-job';

/**
 * The maintenance work that runs where ClickHouse is: integrity verification,
 * reports and retention. Built here once, for the worker role and for CLI
 * commands that run while no worker holds the store.
 */
export interface SigningKeys {
  signingKey: SigningKey;
  keyRing: KeyRing;
}

export function loadSigningKeys(config: Config): SigningKeys {
  const signingKey = SigningKey.load(config.signingKeyFile, config.keysDir);
  return { signingKey, keyRing: KeyRing.load(signingKey.publicKey, config.keysDir) };
}

export function buildVerifier(pg: Pool, clickhouse: ClickHouseClient, keys: SigningKeys): IntegrityVerifier {
  return new IntegrityVerifier(clickhouse, keys.keyRing, new SealRepository(pg, clickhouse));
}

/** Verification that records each run, and raises the alarm on a broken chain where one is given. */
export function buildRecordedVerification(pg: Pool, verifier: IntegrityVerifier, alarm?: BrokenChainAlarm): RecordedVerification {
  return new RecordedVerification(verifier, new VerificationRunRepository(pg), alarm);
}

export function buildReportBuilder(pg: Pool, clickhouse: ClickHouseClient, verifier: IntegrityVerifier, keys: SigningKeys): ReportBuilder {
  return new ReportBuilder(directReader(clickhouse), pg, new ReportRepository(pg), verifier, keys.signingKey);
}

export function buildRetention(config: Config, pg: Pool, clickhouse: ClickHouseClient, writer: ClickHouseWriter, keys: SigningKeys, logger: Logger): RetentionJob {
  const log = logger.child({ component: 'retention' });
  const archiver = new RetentionArchiver(clickhouse, keys.signingKey, keys.keyRing, config.archiveDir, log);
  return new RetentionJob(pg, clickhouse, keys.signingKey, writer, archiver, log, clickHouseCluster(config.clickhouse), config.retentionMinDays);
}

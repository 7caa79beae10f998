import { flooredDeletionDays } from './retention-floor';
import type { Pool } from 'pg';
import type { ClickHouseClient } from '../../lib/clickhouse';
import type { Logger } from '../../lib/logger';
import type { SigningKey } from '../../lib/signing-key';
import { toClickHouseRow, toClickHouseTime } from '../../domain/event-row';
import { toQueuedEvent } from '../../domain/queued-event';
import { pruneHash, type PruneRecord } from '../../domain/seal';
import { EVENT_TABLES, parseEvent } from '../../schemas/event';
import type { ClickHouseWriter } from '../ingest/writer/clickhouse-writer';
import type { RetentionArchiver } from '../integrity/archive/retention-archiver';
import { ChainReader } from '../integrity/chain-reader';
import { PruneRecordRepository } from '../integrity/prune-record.repository';
import type { ArchiveResult, PruneResult, RetentionRun } from '../../domain/retention-run';
import { RetentionPolicyRepository } from './retention-policy.repository';

const KNOWN_TABLES = new Set(Object.values(EVENT_TABLES));

/**
 * Applies data_retention_policies, table by table. First archiving: sealed
 * flushes older than archive_after_days are exported with a signed manifest
 * (RetentionArchiver), an audit event (retention_archived) each. Then
 * deletion: the rows of whole sealed flushes older than delete_after_days
 * (or retention_period_days), and, when the policy archives, never past
 * what the archives cover. Each prune is first recorded in the chain (a
 * signed integrity_prunes row), so verification accepts those seals without
 * rows and still flags any other deletion; then it is an audit event
 * (retention_pruned), written and sealed like any other. Each table is
 * written by its owner: the policies' run times by RetentionPolicyRepository,
 * the prune record by PruneRecordRepository, the deletion by the ClickHouse
 * writer.
 */
export class RetentionJob {
  private readonly policies: RetentionPolicyRepository;
  private readonly chain: ChainReader;
  private readonly prunes: PruneRecordRepository;

  constructor(
    pg: Pool,
    clickhouse: ClickHouseClient,
    private readonly key: SigningKey,
    private readonly writer: ClickHouseWriter,
    private readonly archiver: RetentionArchiver,
    private readonly logger: Logger,
    /** CLICKHOUSE_CLUSTER: rows live in each shard's `<table>_local`, which is where a mutation must run. */
    private readonly cluster?: string,
    /** RETENTION_MIN_DAYS. */
    private readonly floorDays = 365,
  ) {
    this.policies = new RetentionPolicyRepository(pg);
    this.chain = new ChainReader(clickhouse);
    this.prunes = new PruneRecordRepository(clickhouse);
  }

  async run(now = new Date()): Promise<RetentionRun> {
    const run: RetentionRun = { archived: [], pruned: [] };
    for (const policy of await this.policies.active()) {
      if (!KNOWN_TABLES.has(policy.table_name)) continue;
      const table = policy.table_name;
      const archives = policy.archive_after_days !== null;
      if (archives) {
        const archived = await this.archiver.archive(table, daysBefore(now, policy.archive_after_days!), policy.archive_after_days!);
        for (const a of archived) await this.auditArchive(a, policy.archive_after_days!);
        run.archived.push(...archived);
        await this.policies.markArchived(table);
      }
      // A policy written straight into PostgreSQL still cannot delete audit, auth or security records before the floor.
      const days = flooredDeletionDays(table, policy.delete_after_days ?? policy.retention_period_days, this.floorDays);
      // An archiving policy deletes nothing its archives do not hold yet.
      const limit = archives ? await this.archiver.coveredUpTo(table) : Infinity;
      const result = await this.prune(table, daysBefore(now, days), days, limit);
      await this.policies.markCleanedUp(table);
      if (result) run.pruned.push(result);
    }
    return run;
  }

  private async prune(table: string, cutoff: Date, days: number, limit: number): Promise<PruneResult | null> {
    const last = await this.chain.sealBefore(table, cutoff);
    const upTo = Math.min(last?.seq ?? 0, limit);
    if (upTo === 0) return null;
    const rows = await this.chain.rowsThrough(table, upTo);
    if (rows === 0) return null;

    const unsigned = {
      table_name: table,
      up_to_seq: upTo,
      rows_pruned: rows,
      cutoff: toClickHouseTime(cutoff),
      pruned_at: toClickHouseTime(new Date()),
      policy_days: days,
      key_id: this.key.keyId,
    };
    const hash = pruneHash(unsigned);
    const record: PruneRecord = { ...unsigned, prune_hash: hash, signature: this.key.sign(hash) };
    // The record first: if the delete is cut short, the remaining rows still verify, and the next run finishes it.
    await this.prunes.insert(record);
    await this.writer.deleteSealedUpTo(table, upTo, this.cluster);
    await this.audit(record);
    this.logger.info({ table, up_to_seq: upTo, rows }, 'retention prune');
    return { table, up_to_seq: upTo, rows_pruned: rows, cutoff: cutoff.toISOString() };
  }

  private async audit(record: PruneRecord): Promise<void> {
    await this.writeAudit({
      kind: 'audit' as const,
      event_type: 'retention_pruned',
      action_type: 'DELETE',
      entity_type: 'CLICKHOUSE_TABLE',
      entity_id: record.table_name,
      triggered_by_type: 'system',
      reason: `retention policy: ${record.policy_days} days`,
      new_value: { table: record.table_name, up_to_seq: record.up_to_seq, rows_pruned: record.rows_pruned, cutoff: record.cutoff, prune_hash: record.prune_hash },
    });
  }

  private async auditArchive(a: ArchiveResult, days: number): Promise<void> {
    await this.writeAudit({
      kind: 'audit' as const,
      event_type: 'retention_archived',
      action_type: 'EXPORT',
      entity_type: 'CLICKHOUSE_TABLE',
      entity_id: a.table,
      triggered_by_type: 'system',
      reason: `retention policy: archive after ${days} days`,
      new_value: { table: a.table, from_seq: a.from_seq, to_seq: a.to_seq, rows_archived: a.rows, file: a.file },
    });
  }

  /** An audit event of the job itself, written and sealed like any other (it is not queued: this process owns the writer). */
  private async writeAudit(raw: Record<string, unknown> & { kind: 'audit' }): Promise<void> {
    const parsed = parseEvent(raw);
    if (!parsed.ok) throw new Error(`retention audit event invalid: ${JSON.stringify(parsed.issues)}`);
    await this.writer.write('audit_logs', [toClickHouseRow(toQueuedEvent(parsed.event, raw), 'auditflow', new Date().toISOString())]);
  }
}

function daysBefore(now: Date, days: number): Date {
  return new Date(now.getTime() - days * 86_400_000);
}

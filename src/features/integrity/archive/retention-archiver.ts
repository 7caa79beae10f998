import type { ArchiveResult } from '../../../domain/retention-run';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { ARCHIVE_FORMAT, manifestHash, type ArchiveManifest, type UnsignedManifest } from './archive-manifest';
import { checkedPrune, SealRowsCheck, twiceHeld } from '../../../domain/chain-check';
import { ChainReader, SEAL_PAGE, sealPages } from '../chain-reader';
import { toClickHouseTime } from '../../../domain/event-row';
import type { Seal } from '../../../domain/seal';
import type { ClickHouseClient } from '../../../lib/clickhouse';
import type { Logger } from '../../../lib/logger';
import type { KeyRing } from '../../../lib/key-ring';
import type { SigningKey } from '../../../lib/signing-key';
import { isDiskFull } from '../../../lib/disk-space';
import { replaceFile } from '../../../lib/key-file';
import { ArchiveDiskFullError } from '../../../lib/errors/archive-disk-full-error';
import { PruneRecordRepository } from '../prune-record.repository';
import { ArchiveRecordRepository, type ArchiveRecord } from './archive-record.repository';

/** Rows per archive file; a run that has more writes several files. */
const FILE_ROWS = 500_000;

/**
 * Exports whole sealed flushes to files before retention may delete them:
 * per table, the rows of consecutive seals as gzip JSONEachRow (as
 * ClickHouse gives them back, so they hash as verification hashes them), and
 * beside it a manifest with those seals, the file's SHA-256 and an Ed25519
 * signature (`auditflow archive verify` checks it with no database). Rows
 * are checked against their seals on the way out: a flush that does not
 * verify is not archived, so it is never deleted either.
 */
export class RetentionArchiver {
  private readonly chain: ChainReader;
  private readonly prunes: PruneRecordRepository;
  private readonly archives: ArchiveRecordRepository;

  constructor(
    clickhouse: ClickHouseClient,
    private readonly key: SigningKey,
    /** Checks earlier prune and archive records, which may be signed by a retired key. */
    private readonly keys: KeyRing,
    private readonly dir: string,
    private readonly logger: Logger,
  ) {
    this.chain = new ChainReader(clickhouse);
    this.prunes = new PruneRecordRepository(clickhouse);
    this.archives = new ArchiveRecordRepository(clickhouse);
  }

  /**
   * The last seal up to which a table's rows are safe to delete as far as
   * archiving goes: pruned already, or covered without a gap by validly
   * signed archive records whose file is still there.
   */
  async coveredUpTo(table: string): Promise<number> {
    let covered = 0;
    for (const raw of await this.prunes.forTable(table)) {
      const { record, valid } = checkedPrune(raw, this.keys);
      // A forged prune record must not open the way to deleting unarchived rows.
      if (valid) covered = Math.max(covered, record.up_to_seq);
    }
    for (const r of await this.archives.forTable(table)) {
      if (Number(r.from_seq) > covered + 1) break;
      if (!this.keys.verify(r.key_id, r.manifest_hash, r.signature) || !fs.existsSync(path.join(this.dir, r.data_file))) {
        this.logger.error({ table, from_seq: r.from_seq, file: r.data_file }, 'an archive record is not validly signed or its file is gone; rows after it will not be deleted');
        break;
      }
      covered = Math.max(covered, Number(r.to_seq));
    }
    return covered;
  }

  /** Archives every seal of `table` made before `cutoff` and not archived yet. */
  async archive(table: string, cutoff: Date, policyDays: number): Promise<ArchiveResult[]> {
    const results: ArchiveResult[] = [];
    for (;;) {
      const from = (await this.coveredUpTo(table)) + 1;
      const seals = await this.sealsFrom(table, from, cutoff);
      if (seals.length === 0 || seals[0]!.seq !== from) return results;
      const result = await this.writeFile(table, seals, policyDays);
      if (!result) return results;
      results.push(result);
    }
  }

  /** Consecutive seals from `from`, made before `cutoff`, holding at most FILE_ROWS rows (at least one seal). */
  private async sealsFrom(table: string, from: number, cutoff: Date): Promise<Seal[]> {
    const seals: Seal[] = [];
    let rows = 0;
    for (let after = from - 1; ; ) {
      const page = await this.chain.seals(table, after, { to: cutoff });
      for (const seal of page) {
        if (seal.seq !== after + 1 || (seals.length > 0 && rows + seal.row_count > FILE_ROWS)) return seals;
        seals.push(seal);
        rows += seal.row_count;
        after = seal.seq;
      }
      if (page.length < SEAL_PAGE) return seals;
    }
  }

  private async writeFile(table: string, seals: Seal[], policyDays: number): Promise<ArchiveResult | null> {
    const from = seals[0]!.seq;
    const to = seals[seals.length - 1]!.seq;
    const base = `${table}-${String(from).padStart(12, '0')}-${String(to).padStart(12, '0')}`;
    const relative = path.join(table, `${base}.jsonl.gz`);
    const file = path.join(this.dir, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const partial = `${file}.partial`;
    const digest = createHash('sha256');
    let rows = 0;
    try {
      const lines = Readable.from(this.lines(table, seals, () => rows++));
      const gzip = createGzip();
      gzip.on('data', (chunk: Buffer) => digest.update(chunk));
      await pipeline(lines, gzip, fs.createWriteStream(partial, { mode: 0o640 }));
    } catch (error) {
      fs.rmSync(partial, { force: true });
      if (isDiskFull(error)) throw new ArchiveDiskFullError(this.dir, error);
      if (error instanceof ArchiveRefused) {
        this.logger.error({ table, seal_seq: error.sealSeq, detail: error.message }, 'a sealed flush does not verify: not archived (nor deleted); run `auditflow verify`');
        return null;
      }
      throw error;
    }
    try {
      // A full disk may show only here, when delayed allocation meets the fsync.
      const fd = fs.openSync(partial, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(partial, file);
    } catch (error) {
      fs.rmSync(partial, { force: true });
      if (isDiskFull(error)) throw new ArchiveDiskFullError(this.dir, error);
      throw error;
    }

    const unsigned: UnsignedManifest = {
      format: ARCHIVE_FORMAT,
      table_name: table,
      from_seq: from,
      to_seq: to,
      rows,
      data_file: path.basename(file),
      data_sha256: digest.digest('hex'),
      seals,
      archived_at: new Date().toISOString(),
      policy_days: policyDays,
      key_id: this.key.keyId,
    };
    const hash = manifestHash(unsigned);
    const manifest: ArchiveManifest = { ...unsigned, manifest_hash: hash, signature: this.key.sign(hash) };
    try {
      // Whole or absent: a manifest cut short by a full disk would read as a damaged archive.
      replaceFile(path.join(this.dir, table, `${base}.manifest.json`), `${JSON.stringify(manifest, null, 2)}\n`, 0o640);
    } catch (error) {
      // The data file without its manifest is not counted as archived (that is the ClickHouse record below); the next run writes both again.
      if (isDiskFull(error)) throw new ArchiveDiskFullError(this.dir, error);
      throw error;
    }
    const record: ArchiveRecord = {
      table_name: table,
      from_seq: from,
      to_seq: to,
      rows,
      data_file: relative,
      data_sha256: manifest.data_sha256,
      archived_at: toClickHouseTime(manifest.archived_at),
      policy_days: policyDays,
      key_id: this.key.keyId,
      manifest_hash: hash,
      signature: manifest.signature,
    };
    await this.archives.insert(record);
    this.logger.info({ table, from_seq: from, to_seq: to, rows, file: relative }, 'retention archive written');
    return { table, from_seq: from, to_seq: to, rows, file: relative };
  }

  /** The seals' rows as JSONEachRow lines, in chain order, each checked against its seal. */
  private async *lines(table: string, seals: Seal[], counted: () => void): AsyncGenerator<string> {
    for (const page of sealPages(seals)) {
      let k = 0;
      let check = new SealRowsCheck(table, page[0]!);
      for await (const { row, text } of this.chain.rows(table, page[0]!.seq, page[page.length - 1]!.seq)) {
        while (row.seal_seq > page[k]!.seq && k < page.length - 1) {
          refuseIf(check.end(), page[k]!.seq);
          check = new SealRowsCheck(table, page[++k]!);
        }
        if (row.seal_seq !== page[k]!.seq) throw new ArchiveRefused(row.seal_seq, `row ${row.event_id} names a seal that is not here`);
        refuseIf(check.add(row) ?? twiceHeld(table, row, text), row.seal_seq);
        counted();
        yield `${text}\n`;
      }
      for (;;) {
        refuseIf(check.end(), page[k]!.seq);
        if (k === page.length - 1) break;
        check = new SealRowsCheck(table, page[++k]!);
      }
    }
  }
}

class ArchiveRefused extends Error {
  constructor(
    readonly sealSeq: number,
    message: string,
  ) {
    super(message);
  }
}

function refuseIf(broken: { detail: string } | null, sealSeq: number): void {
  if (broken) throw new ArchiveRefused(sealSeq, broken.detail);
}

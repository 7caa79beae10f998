import type { KeyRing } from '../../../lib/key-ring';
import { canonicalJson } from '../../../domain/canonical-json';
import { sha256Hex } from '../../../domain/sha256';
import { sealBreak, SealRowsCheck, type ChainBreak, type ChainRow } from '../../../domain/chain-check';
import type { Seal } from '../../../domain/seal';

export const ARCHIVE_FORMAT = 'auditflow-archive/1';

/**
 * What makes an archive file checkable on its own: the seals its rows
 * belong to (as signed when they were written), the SHA-256 of the data
 * file, and a signature over all of it. The rows are JSONEachRow, exactly as
 * ClickHouse gives them back, so their hashes recompute as verification's.
 */
export interface ArchiveManifest {
  format: typeof ARCHIVE_FORMAT;
  table_name: string;
  from_seq: number;
  to_seq: number;
  rows: number;
  /** The data file, beside the manifest: JSONEachRow, gzip, in chain order. */
  data_file: string;
  /** SHA-256 of the data file's bytes (compressed, as stored). */
  data_sha256: string;
  seals: Seal[];
  /** ISO 8601. */
  archived_at: string;
  /** archive_after_days of the policy that archived it. */
  policy_days: number;
  key_id: string;
  manifest_hash: string;
  /** Ed25519 over manifest_hash, base64. */
  signature: string;
}

export type UnsignedManifest = Omit<ArchiveManifest, 'manifest_hash' | 'signature'>;

export function manifestHash(manifest: UnsignedManifest | ArchiveManifest): string {
  const { manifest_hash: _h, signature: _s, ...body } = manifest as ArchiveManifest;
  return sha256Hex(canonicalJson(body));
}

/** A manifest's own problems: its hash, its signature, its seals (signed, in one unbroken run). */
export function manifestProblems(manifest: ArchiveManifest, keys: KeyRing): string[] {
  if (manifest.format !== ARCHIVE_FORMAT) return [`not an auditflow archive manifest (format ${String(manifest.format)})`];
  if (manifestHash(manifest) !== manifest.manifest_hash) return ['the manifest does not match its manifest_hash'];
  if (!keys.verify(manifest.key_id, manifest.manifest_hash, manifest.signature)) return [`the manifest's signature is not valid for the public keys given (key ${manifest.key_id})`];
  const problems: string[] = [];
  let previous: Seal | null = null;
  for (const seal of manifest.seals) {
    if (previous && seal.seq !== previous.seq + 1) problems.push(`seal ${previous.seq + 1} is missing from the manifest`);
    const broken = sealBreak(manifest.table_name, seal, previous, keys);
    if (broken) problems.push(broken.detail);
    previous = seal;
  }
  if (manifest.seals[0]?.seq !== manifest.from_seq || previous?.seq !== manifest.to_seq) problems.push(`the seals do not span ${manifest.from_seq}..${manifest.to_seq}`);
  return problems;
}

/**
 * Checks an archive's rows, fed in file order, against its manifest's
 * seals: every row's hash and link, every seal's count and root.
 */
export class ArchiveRowsCheck {
  private k = 0;
  private check: SealRowsCheck | null = null;
  private total = 0;
  readonly breaks: ChainBreak[] = [];

  constructor(private readonly manifest: ArchiveManifest) {
    this.open();
  }

  add(row: ChainRow): void {
    if (this.breaks.length) return;
    while (this.check && row.seal_seq > this.manifest.seals[this.k]!.seq && this.k < this.manifest.seals.length - 1) this.close(true);
    const seal = this.manifest.seals[this.k];
    if (!seal || !this.check || row.seal_seq !== seal.seq) {
      this.breaks.push({
        kind: 'row_inserted',
        table: this.manifest.table_name,
        seal_seq: row.seal_seq,
        event_id: row.event_id,
        detail: `row ${row.event_id} names seal ${row.seal_seq}, which the manifest does not list here`,
      });
      return;
    }
    const broken = this.check.add(row);
    if (broken) this.breaks.push(broken);
    this.total++;
  }

  /** After the last row: the problems found, none when the archive holds. */
  end(): string[] {
    while (!this.breaks.length && this.check) this.close(this.k < this.manifest.seals.length - 1);
    const problems = this.breaks.map((b) => `${b.kind}: ${b.detail}`);
    if (!problems.length && this.total !== this.manifest.rows) problems.push(`the file holds ${this.total} rows; the manifest says ${this.manifest.rows}`);
    return problems;
  }

  private open(): void {
    const seal = this.manifest.seals[this.k];
    this.check = seal ? new SealRowsCheck(this.manifest.table_name, seal) : null;
  }

  private close(advance: boolean): void {
    const broken = this.check!.end();
    if (broken) this.breaks.push(broken);
    if (advance) {
      this.k++;
      this.open();
    } else this.check = null;
  }
}

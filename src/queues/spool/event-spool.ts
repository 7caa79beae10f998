import fs from 'node:fs';
import path from 'node:path';
import { sha256Hex } from '../../domain/sha256';
import type { Logger } from '../../lib/logger';
import type { IngestBatch } from '../queue-names';
import { SpoolFullError } from '../../lib/errors/spool-full-error';

export interface EventSpoolOptions {
  /** Directory of the segment files ($DATA_DIR/spool). Created if missing. */
  dir: string;
  /** Most bytes all segments together may hold; an append past it throws {@link SpoolFullError}. */
  maxBytes: number;
  /** A segment is closed, and the next append starts a new one, once it holds this many bytes. Default 1 MiB. */
  segmentBytes?: number;
  logger: Logger;
}

/** One closed segment, read back for replay. */
export interface SpooledSegment {
  name: string;
  /** Its batches, in the order they were appended. */
  batches: IngestBatch[];
  events: number;
  /** Records that were torn or corrupt, skipped (and logged). */
  skipped: number;
}

interface SegmentInfo {
  bytes: number;
  events: number;
}

/** `000000000042-1234.spool`: sequence number, then the pid of the process that wrote it. */
const SEGMENT_NAME = /^(\d{12})-(\d+)\.spool$/;

/** First 16 hex digits of the record's SHA-256: enough to tell a torn or damaged line from a whole one. */
function checksum(json: string): string {
  return sha256Hex(json).slice(0, 16);
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The directory entry of a created or removed file survives a power cut only once the directory is synced too. */
async function syncDir(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Where the API's own events wait, on local disk, while Redis is unreachable.
 *
 * A directory of append-only segment files. Each line is one batch:
 * `<checksum> <json>\n`, written and then fdatasync'ed before `append`
 * resolves, so an event counts as acknowledged only once it is on disk.
 * A line without its newline, or whose checksum does not match (a crash
 * during a write), is skipped with a warning when read, never replayed.
 *
 * Replay takes whole segments, oldest first, and a segment is deleted only
 * after its events are in Redis; a crash in between replays it again, and the
 * ClickHouse writer drops the repeats by event_id. Each process writes its own
 * segments (its pid is in the name) and replays only its own and those of
 * processes that are no longer running, so two API processes on one DATA_DIR
 * never replay a segment still being written.
 */
export class EventSpool {
  private readonly segments = new Map<string, SegmentInfo>();
  private active?: { name: string; handle: fs.promises.FileHandle; info: SegmentInfo };
  private nextSeq = 1;
  private readonly segmentBytes: number;

  private constructor(private readonly options: EventSpoolOptions) {
    this.segmentBytes = options.segmentBytes ?? 1024 * 1024;
  }

  /** Opens the spool, counting what earlier processes left in it. */
  static async open(options: EventSpoolOptions): Promise<EventSpool> {
    const spool = new EventSpool(options);
    await fs.promises.mkdir(options.dir, { recursive: true });
    for (const name of await spool.list()) {
      const seq = Number(SEGMENT_NAME.exec(name)![1]);
      spool.nextSeq = Math.max(spool.nextSeq, seq + 1);
      const text = await fs.promises.readFile(path.join(options.dir, name), 'utf8');
      spool.segments.set(name, { bytes: Buffer.byteLength(text), events: spool.parse(name, text, false).events });
    }
    if (spool.segments.size > 0)
      options.logger.warn({ segments: spool.segments.size, events: spool.events, bytes: spool.bytes }, 'events left in the spool by an earlier process; they will be replayed');
    return spool;
  }

  /** The bound on {@link bytes} (SPOOL_MAX_BYTES). */
  get maxBytes(): number {
    return this.options.maxBytes;
  }

  /** Bytes on disk in all known segments. */
  get bytes(): number {
    return this.total('bytes');
  }

  /** Segment files known, including empty ones a crash may have left. */
  get segmentCount(): number {
    return this.segments.size;
  }

  /** Events waiting in all known segments. */
  get events(): number {
    return this.total('events');
  }

  private total(field: keyof SegmentInfo): number {
    let n = 0;
    for (const s of this.segments.values()) n += s[field];
    return n;
  }

  /** Appends one batch and syncs it to disk; resolves only once it is durable. */
  async append(batch: IngestBatch): Promise<void> {
    const json = JSON.stringify(batch);
    const line = Buffer.from(`${checksum(json)} ${json}\n`);
    const bytes = this.bytes;
    if (bytes + line.length > this.options.maxBytes) throw new SpoolFullError(bytes, this.options.maxBytes);
    if (this.active && this.active.info.bytes >= this.segmentBytes) await this.seal();
    const active = this.active ?? (await this.startSegment());
    try {
      let written = 0;
      while (written < line.length) written += (await active.handle.write(line, written, line.length - written)).bytesWritten;
      await active.handle.datasync();
    } catch (error) {
      // Cut the partial line off, so the segment stays whole; if even that fails, the reader skips it.
      await active.handle.truncate(active.info.bytes).catch(() => undefined);
      await this.seal().catch(() => undefined);
      throw error;
    }
    active.info.bytes += line.length;
    active.info.events += batch.events.length;
  }

  /**
   * The oldest segment this process may replay, read back; the segment being
   * written is closed first if it is the oldest. Undefined when none is left.
   */
  async oldest(): Promise<SpooledSegment | undefined> {
    for (const name of await this.list()) {
      const pid = Number(SEGMENT_NAME.exec(name)![2]);
      if (pid !== process.pid && isAlive(pid)) continue;
      if (this.active?.name === name) await this.seal();
      const text = await fs.promises.readFile(path.join(this.options.dir, name), 'utf8');
      const segment = this.parse(name, text, true);
      this.segments.set(name, { bytes: Buffer.byteLength(text), events: segment.events });
      return segment;
    }
    return undefined;
  }

  /**
   * Whether another process left segments here that this one may replay (it
   * has exited): an `auditflow` command that ran while Redis was down spools
   * its audit events here and exits; a running server picks them up.
   */
  async hasOrphans(): Promise<boolean> {
    for (const name of await this.list()) {
      const pid = Number(SEGMENT_NAME.exec(name)![2]);
      if (pid !== process.pid && !isAlive(pid)) return true;
    }
    return false;
  }

  /** Deletes a replayed segment. */
  async remove(segment: SpooledSegment): Promise<void> {
    await fs.promises.rm(path.join(this.options.dir, segment.name), { force: true });
    this.segments.delete(segment.name);
    await syncDir(this.options.dir);
  }

  async close(): Promise<void> {
    await this.seal();
  }

  private async list(): Promise<string[]> {
    return (await fs.promises.readdir(this.options.dir)).filter((name) => SEGMENT_NAME.test(name)).sort();
  }

  private async startSegment(): Promise<NonNullable<EventSpool['active']>> {
    const name = `${String(this.nextSeq++).padStart(12, '0')}-${process.pid}.spool`;
    const handle = await fs.promises.open(path.join(this.options.dir, name), 'ax');
    try {
      await syncDir(this.options.dir);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    const info = { bytes: 0, events: 0 };
    this.segments.set(name, info);
    this.active = { name, handle, info };
    return this.active;
  }

  private async seal(): Promise<void> {
    const active = this.active;
    if (!active) return;
    this.active = undefined;
    await active.handle.close();
  }

  /** Whole, intact records of a segment; torn or damaged lines are skipped, and logged when `warn`. */
  private parse(name: string, text: string, warn: boolean): SpooledSegment {
    const lines = text.split('\n');
    // A file that ends in a newline splits into a last empty string; anything else there is a torn append.
    const tail = lines.pop()!;
    const batches: IngestBatch[] = [];
    let skipped = 0;
    let events = 0;
    const skip = (line: number, reason: string) => {
      skipped++;
      if (warn) this.options.logger.warn({ segment: name, line, reason }, 'skipped a spool record');
    };
    lines.forEach((line, i) => {
      const space = line.indexOf(' ');
      const json = line.slice(space + 1);
      if (space !== 16 || checksum(json) !== line.slice(0, 16)) {
        skip(i + 1, 'checksum mismatch');
        return;
      }
      try {
        const batch = JSON.parse(json) as IngestBatch;
        batches.push(batch);
        events += batch.events.length;
      } catch {
        skip(i + 1, 'not JSON');
      }
    });
    if (tail !== '') skip(lines.length + 1, 'torn last line (a crash during an append)');
    return { name, batches, events, skipped };
  }
}

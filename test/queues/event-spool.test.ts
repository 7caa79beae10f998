import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { QueuedEvent } from '../../src/domain/event-row';
import { EventSpool } from '../../src/queues/spool/event-spool';
import type { IngestBatch } from '../../src/queues/queue-names';
import { SpoolFullError } from '../../src/lib/errors/spool-full-error';
import { capturingLogger } from '../helpers/captured-logs';
import { deadPid } from '../helpers/spool';

let dir: string;
let captured: ReturnType<typeof capturingLogger>;
let logger: ReturnType<typeof capturingLogger>['logger'];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'af-spool-'));
  captured = capturingLogger();
  logger = captured.logger;
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function batch(n: number, label = 'e'): IngestBatch {
  const events = Array.from({ length: n }, (_, i) => ({ kind: 'audit', event_type: `${label}${i}`, event_id: randomUUID(), content_hash: 'h' }) as unknown as QueuedEvent);
  return { sourceApp: 'auditflow', receivedAt: new Date().toISOString(), events };
}

/** Every event type in the spool, replaying (and removing) segment after segment. */
async function drain(spool: EventSpool): Promise<string[]> {
  const types: string[] = [];
  for (let segment = await spool.oldest(); segment; segment = await spool.oldest()) {
    for (const b of segment.batches) for (const e of b.events) types.push(String(e.event_type));
    await spool.remove(segment);
  }
  return types;
}

it('gives batches back in the order they were appended, across segments and a reopen', async () => {
  let spool = await EventSpool.open({ dir, maxBytes: 10 * 1024 * 1024, segmentBytes: 2000, logger });
  for (let i = 0; i < 20; i++) await spool.append(batch(3, `b${i}-`));
  expect(fs.readdirSync(dir).length).toBeGreaterThan(3);
  expect(spool.events).toBe(60);
  await spool.close();

  // A later process (same pid here, so rename the files as a dead process's) sees what was left.
  const pid = deadPid();
  for (const name of fs.readdirSync(dir)) fs.renameSync(path.join(dir, name), path.join(dir, name.replace(/-\d+\.spool$/, `-${pid}.spool`)));
  spool = await EventSpool.open({ dir, maxBytes: 10 * 1024 * 1024, logger });
  expect(spool.events).toBe(60);
  await spool.append(batch(1, 'after-'));
  const types = await drain(spool);
  expect(types).toEqual([...Array.from({ length: 20 }, (_, i) => [0, 1, 2].map((j) => `b${i}-${j}`)).flat(), 'after-0']);
  expect(fs.readdirSync(dir)).toEqual([]);
  expect(spool.bytes).toBe(0);
  await spool.close();
});

it('refuses an append past its size limit, and takes appends again once replay frees room', async () => {
  const spool = await EventSpool.open({ dir, maxBytes: 1024 * 1024, segmentBytes: 64 * 1024, logger });
  let appended = 0;
  await expect(
    (async () => {
      for (;;) {
        await spool.append(batch(50));
        appended++;
      }
    })(),
  ).rejects.toBeInstanceOf(SpoolFullError);
  expect(appended).toBeGreaterThan(10);
  expect(spool.bytes).toBeLessThanOrEqual(1024 * 1024);
  const onDisk = fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
  expect(onDisk).toBe(spool.bytes);

  await spool.remove((await spool.oldest())!);
  await expect(spool.append(batch(50))).resolves.toBeUndefined();
  await spool.close();
});

it('skips a torn last line (a crash during an append) with a warning, and replays the records before it', async () => {
  const spool = await EventSpool.open({ dir, maxBytes: 1024 * 1024, logger });
  await spool.append(batch(2, 'whole-'));
  await spool.append(batch(2, 'torn-'));
  await spool.close();
  const [name] = fs.readdirSync(dir);
  const file = path.join(dir, name!);
  const text = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, text.slice(0, text.length - 40)); // the second record loses its end and its newline

  const segment = (await spool.oldest())!;
  expect(segment.batches.flatMap((b) => b.events.map((e) => e.event_type))).toEqual(['whole-0', 'whole-1']);
  expect(segment.skipped).toBe(1);
  expect(captured.lines).toEqual([expect.objectContaining({ msg: 'skipped a spool record', reason: 'torn last line (a crash during an append)' })]);
});

it('skips a damaged record in the middle of a segment and keeps the ones after it', async () => {
  const spool = await EventSpool.open({ dir, maxBytes: 1024 * 1024, logger });
  for (const label of ['a', 'b', 'c']) await spool.append(batch(1, label));
  await spool.close();
  const [name] = fs.readdirSync(dir);
  const file = path.join(dir, name!);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines[1] = lines[1]!.replace('"b0"', '"X0"'); // same length, other content: only the checksum tells
  fs.writeFileSync(file, lines.join('\n'));

  const segment = (await spool.oldest())!;
  expect(segment.batches.flatMap((b) => b.events.map((e) => e.event_type))).toEqual(['a0', 'c0']);
  expect(captured.lines).toEqual([expect.objectContaining({ reason: 'checksum mismatch' })]);
});

it('leaves alone the segments of another live process, and replays those of a dead one', async () => {
  const spool = await EventSpool.open({ dir, maxBytes: 1024 * 1024, logger });
  await spool.append(batch(1, 'mine'));
  await spool.close();
  const [mine] = fs.readdirSync(dir);
  const live = mine!.replace(/^\d+-\d+/, `000000000000-${process.ppid}`);
  const dead = mine!.replace(/^\d+-\d+/, `000000000000-${deadPid()}`);
  fs.copyFileSync(path.join(dir, mine!), path.join(dir, live));
  fs.copyFileSync(path.join(dir, mine!), path.join(dir, dead));

  const names: string[] = [];
  for (let segment = await spool.oldest(); segment; segment = await spool.oldest()) {
    names.push(segment.name);
    await spool.remove(segment);
  }
  expect(names.sort()).toEqual([dead, mine].sort());
  expect(fs.readdirSync(dir)).toEqual([live]);
});

it("tells a running process when an exited one (a CLI command) left segments, and not for its own or a live process's", async () => {
  const spool = await EventSpool.open({ dir, maxBytes: 1024 * 1024, logger });
  await spool.append(batch(1, 'mine'));
  const [mine] = fs.readdirSync(dir);
  fs.copyFileSync(path.join(dir, mine!), path.join(dir, mine!.replace(/^\d+-\d+/, `000000000000-${process.ppid}`)));
  expect(await spool.hasOrphans()).toBe(false);
  const dead = mine!.replace(/^\d+-\d+/, `000000000001-${deadPid()}`);
  fs.copyFileSync(path.join(dir, mine!), path.join(dir, dead));
  expect(await spool.hasOrphans()).toBe(true);
  await spool.close();
});

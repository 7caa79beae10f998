import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Command } from 'commander';
import { ArchiveRowsCheck, manifestProblems, type ArchiveManifest } from '../../features/integrity/archive/archive-manifest';
import type { ChainRow } from '../../domain/chain-check';
import { duplicateMember } from '../../lib/json-duplicate-members';
import { KeyRing } from '../../lib/key-ring';
import { readPublicKeyFile } from '../../lib/signing-key';
import { terminalText } from '../../lib/terminal-text';

/**
 * Checks a retention archive with no database: the manifest's hash and
 * signature, its seals' signatures and links, the data file's SHA-256, and
 * every row's hash and link against its seal.
 */
export async function verifyArchive(manifestFile: string, keys: KeyRing): Promise<{ ok: boolean; problems: string[]; manifest?: ArchiveManifest }> {
  let manifest: ArchiveManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as ArchiveManifest;
  } catch (error) {
    return { ok: false, problems: [`${manifestFile} is not an archive manifest in JSON: ${(error as Error).message}`] };
  }
  const problems = manifestProblems(manifest, keys);
  if (problems.length) return { ok: false, problems, manifest };
  const dataFile = path.join(path.dirname(manifestFile), path.basename(manifest.data_file));
  if (!fs.existsSync(dataFile)) return { ok: false, problems: [`the data file ${dataFile} is missing`], manifest };

  const digest = createHash('sha256');
  const raw = fs.createReadStream(dataFile);
  raw.on('data', (chunk) => digest.update(chunk));
  const rows = new ArchiveRowsCheck(manifest);
  try {
    for await (const line of readline.createInterface({ input: raw.pipe(createGunzip()), crlfDelay: Infinity })) {
      if (!line) continue;
      const row = JSON.parse(line) as ChainRow;
      const twice = duplicateMember(line);
      if (twice !== null) problems.push(`row ${row.event_id} holds two values under the key ${JSON.stringify(twice)}, and only one was sealed`);
      rows.add({ ...row, seal_seq: Number(row.seal_seq), chain_index: Number(row.chain_index) });
    }
  } catch (error) {
    return { ok: false, problems: [`the data file cannot be read as gzip JSONEachRow: ${(error as Error).message}`], manifest };
  }
  if (digest.digest('hex') !== manifest.data_sha256) problems.push('the data file does not match data_sha256');
  problems.push(...rows.end());
  return { ok: problems.length === 0, problems, manifest };
}

export function registerArchiveCommands(program: Command): void {
  const archive = program.command('archive').description('retention archives ($DATA_DIR/archive)');
  archive
    .command('verify <manifest>')
    .description('check an archive offline: the signed manifest, the data file, every row against its seal; exits 1 if anything fails')
    .requiredOption('--public-key <pem...>', 'the public key file (from `auditflow keys export-public`); after a key rotation, also the retired keys that signed older seals')
    .action(async (manifestFile: string, opts: { publicKey: string[] }) => {
      const keys = KeyRing.of(...opts.publicKey.map(readPublicKeyFile));
      const result = await verifyArchive(manifestFile, keys);
      // The files are whoever handed them over's: nothing of them reaches the terminal as a control sequence.
      const line = (text: string) => process.stdout.write(`${terminalText(text)}\n`);
      if (result.ok) {
        const m = result.manifest!;
        line(`OK: ${m.table_name} seals ${m.from_seq}-${m.to_seq}, ${m.rows} rows, archived ${m.archived_at}, signed by key ${m.key_id}`);
      } else {
        for (const p of result.problems) line(`FAILED: ${p}`);
        process.exitCode = 1;
      }
    });
}

/**
 * `auditflow report verify <file>` prints what it found to the operator's
 * terminal. The file is whatever was handed over (a download passed around
 * by mail, a file "from the auditor"), so its text is an attacker's: a
 * tampered report whose key_id (or whose very JSON) carries terminal escape
 * codes must not be able to erase the FAILED lines and paint "OK" in their
 * place. Every line the command prints is free of control characters.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { registerReportCommands } from '../../src/cli/commands/report.command';
import { reportSigner } from '../helpers/signed-report-file';

const { dir, pem, signedReport: signedReportOf } = reportSigner('report-verify-escapes-');
const signedReport = () => signedReportOf(3);

/** Runs `auditflow report verify <file> --public-key <pem>` in this process, as the CLI does, and returns what it printed. */
async function verifyCommand(fileText: string): Promise<{ out: string; code: number }> {
  const file = path.join(dir, `report-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, fileText);
  let out = '';
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const exitCode = process.exitCode;
  try {
    const program = new Command('auditflow').exitOverride();
    registerReportCommands(program);
    await program.parseAsync(['node', 'auditflow', 'report', 'verify', file, '--public-key', pem]);
    return { out, code: typeof process.exitCode === 'number' ? process.exitCode : 0 };
  } finally {
    write.mockRestore();
    process.exitCode = exitCode;
  }
}

// C0 controls other than the newline that ends each line, DEL and the C1 controls (CSI U+009B among them).
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is looked for
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('auditflow report verify on a hostile file', () => {
  it('checks an untouched report: OK', async () => {
    const { out, code } = await verifyCommand(`${JSON.stringify(signedReport(), null, 2)}\n`);
    expect(code).toBe(0);
    expect(out).toMatch(/^OK: daily_security_summary/);
  });

  it('a key_id holding escape codes cannot rewrite the terminal to show OK', async () => {
    const report = signedReport();
    // Erase this line and the FAILED line above it, write a forged OK in their place, then conceal the rest.
    const forgedOk = `OK: daily_security_summary ${report.period_start} to ${report.period_end}, hash ${report.report_hash}, signed by key ${report.key_id}`;
    const tampered = { ...report, total_records: 0, key_id: `\u001b[2K\u001b[1A\u001b[2K\r${forgedOk}\nChained after report (none: first report)\n\u001b[8m` };
    const { out, code } = await verifyCommand(JSON.stringify(tampered, null, 2));
    expect(code).toBe(1);
    expect(out).toContain('FAILED');
    for (const line of out.split('\n')) expect(line).not.toMatch(CONTROL);
  });

  it('nor can a file that is not JSON, through the parser message it quotes', async () => {
    const { out, code } = await verifyCommand('{"format": \u001b[2J\u001b[HOK: daily_security_summary verified}');
    expect(code).toBe(1);
    expect(out).toContain('FAILED');
    for (const line of out.split('\n')) expect(line).not.toMatch(CONTROL);
  });
});

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './redis-server';

/** The newest installed PostgreSQL's bin directory (initdb, pg_ctl). */
function pgBin(): string {
  const root = '/usr/lib/postgresql';
  const version = fs.readdirSync(root).sort((a, b) => Number(b) - Number(a))[0] ?? '';
  return path.join(root, version, 'bin');
}

/** initdb refuses root: run the server's tools as the `postgres` user then. */
function run(tool: string, args: string[]): void {
  const bin = path.join(pgBin(), tool);
  const asRoot = process.getuid?.() === 0;
  const result = asRoot ? spawnSync('runuser', ['-u', 'postgres', '--', bin, ...args], { encoding: 'utf8' }) : spawnSync(bin, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${tool} failed: ${result.stderr || result.stdout}`);
}

/**
 * A private, throwaway PostgreSQL (trust auth, loopback only, in a temp
 * directory) that a test may stop and start; never the shared one on 5432.
 * Stopped and removed when the test process exits.
 */
export class ThrowawayPostgres {
  private running = false;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<ThrowawayPostgres> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auditflow-pg-'));
    if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir]);
    run('initdb', ['-D', path.join(dir, 'data'), '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
    const pg = new ThrowawayPostgres(await freePort(), dir);
    process.once('exit', () => {
      try {
        if (pg.running) run('pg_ctl', ['stop', '-D', path.join(dir, 'data'), '-m', 'immediate', '-w']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
    await pg.restart();
    return pg;
  }

  /** A database URL on this server (the database is created by the app's ensureDatabase). */
  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** Starts it (on the same port and data) and waits until it accepts connections. */
  async restart(): Promise<void> {
    const data = path.join(this.dir, 'data');
    // -k: the socket in our own directory, never the shared server's /var/run/postgresql.
    run('pg_ctl', ['start', '-D', data, '-w', '-l', path.join(this.dir, 'log'), '-o', `-p ${this.port} -h 127.0.0.1 -k ${this.dir} -c fsync=off`]);
    this.running = true;
  }

  /** Stops it and removes its files (jest does not run the process's exit hooks, so tests call this). */
  async destroy(): Promise<void> {
    await this.stop('immediate');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** `fast` is what a restart by an operator does: it ends every session with 57P01 (admin shutdown). */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!this.running) return;
    run('pg_ctl', ['stop', '-D', path.join(this.dir, 'data'), '-m', mode, '-w']);
    this.running = false;
  }
}

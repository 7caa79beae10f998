import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { eventually } from './test-env';

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * A private, throwaway Redis (no persistence unless `args` asks for it,
 * loopback only) that a test may kill and restart; never the shared one on
 * 6379. Killed when the test process exits.
 */
export class ThrowawayRedis {
  private child?: ChildProcess;
  private exitHooked = false;

  private constructor(
    readonly port: number,
    private readonly args: string[],
  ) {}

  /** `args` are extra redis-server options, e.g. `['--maxmemory', '16mb']` or `['--appendonly', 'yes', '--dir', dir]`. */
  static async start(args: string[] = []): Promise<ThrowawayRedis> {
    const redis = new ThrowawayRedis(await freePort(), args);
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it again (empty, unless its args persist data; stopping it first if it runs) on the same port and waits until it takes connections. */
  async restart(): Promise<void> {
    await this.stop();
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.args], { stdio: 'ignore' });
    this.child = child;
    // One exit hook per instance, whichever child it runs now (a hook per restart would pile up).
    if (!this.exitHooked) process.once('exit', () => this.child?.kill('SIGKILL'));
    this.exitHooked = true;
    await eventually(
      () =>
        new Promise<boolean>((resolve) => {
          const socket = net.connect(this.port, '127.0.0.1', () => {
            socket.end();
            resolve(true);
          });
          socket.on('error', () => resolve(false));
        }),
      10_000,
      50,
    );
  }

  /** Stops it (by default SIGKILL: no goodbye to clients; SIGTERM is a clean shutdown) and waits until it has exited. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }
}

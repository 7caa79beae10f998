import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { eventually } from './test-env';

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/**
 * A private, throwaway Redis on loopback that a test may kill and restart
 * (never the shared one on 6379). No persistence unless `args` asks for it,
 * e.g. `['--appendonly', 'yes', '--dir', dir]`.
 */
export async function startRedis(port: number, args: string[] = []): Promise<ChildProcess> {
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args], { stdio: 'ignore' });
  process.once('exit', () => redis.kill('SIGKILL'));
  await eventually(() => accepts(port), 10_000);
  return redis;
}

/** Stops a private Redis with `signal` and waits until it has exited. */
export async function stopRedis(redis: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (redis.exitCode !== null || redis.signalCode !== null) return;
  const exited = new Promise((r) => redis.once('exit', r));
  redis.kill(signal);
  await exited;
}

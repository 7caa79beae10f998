import fs from 'node:fs';
import net from 'node:net';
import pino from 'pino';

export interface LogOutputOptions {
  /** File descriptor the lines go to. Default 1 (stdout). */
  fd?: number;
  /**
   * Bytes of log lines held in memory while the reader of the output is
   * slower than the logs. Past it, new lines are dropped (and counted) until
   * it has caught up. Default 16 MiB.
   */
  maxBufferBytes?: number;
}

interface Sink {
  write(line: string): void;
  /** Bytes accepted and not yet handed to the kernel. */
  buffered(): number;
  /** Gives up what is still buffered. */
  abandon(): void;
}

/**
 * Where the process's log lines go (stdout), through a bounded buffer, so a
 * slow or stuck reader (a full pipe) costs dropped lines: never a blocked
 * event loop, unbounded memory, or an exit that waits for the reader.
 *
 * A pipe or socket is written as a non-blocking stream on the event loop.
 * pino's default (sonic-boom) writes it from the libuv thread pool instead:
 * a thread stuck in write(2) on a full pipe then holds up `process.exit`,
 * which waits for the pool's threads, and on exit pino writes everything
 * still buffered synchronously. A file or terminal keeps sonic-boom.
 */
export class LogOutput implements pino.DestinationStream {
  private readonly sink: Sink;
  private readonly maxBufferBytes: number;
  private closed = false;
  private droppedSinceReport = 0;
  private reporter?: NodeJS.Timeout;
  /** Lines dropped because the buffer was full, since the start. */
  dropped = 0;

  constructor(options: LogOutputOptions = {}) {
    const fd = options.fd ?? 1;
    this.maxBufferBytes = options.maxBufferBytes ?? 16 * 1024 * 1024;
    this.sink = isPipeOrSocket(fd) ? streamSink(fd) : sonicSink(fd);
  }

  /** Calls `report`, at most every 5 s, with the number of lines dropped since its last call. */
  reportDrops(report: (lines: number) => void): void {
    this.reporter = setInterval(() => {
      if (this.droppedSinceReport === 0 || this.closed) return;
      const lines = this.droppedSinceReport;
      this.droppedSinceReport = 0;
      report(lines);
    }, 5000);
    this.reporter.unref();
  }

  write(line: string): void {
    if (this.closed) return;
    if (this.sink.buffered() + Buffer.byteLength(line) > this.maxBufferBytes) {
      this.dropped++;
      this.droppedSinceReport++;
      return;
    }
    this.sink.write(line);
  }

  /** Bytes waiting to be written. */
  get bufferedBytes(): number {
    return this.sink.buffered();
  }

  /**
   * Lets the buffer drain for at most `timeoutMs`, then gives up what the
   * reader has not taken, so that `process.exit` cannot wait on it. Lines
   * logged afterwards are dropped.
   */
  async close(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    if (this.reporter) clearInterval(this.reporter);
    const deadline = performance.now() + timeoutMs;
    while (this.sink.buffered() > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    this.closed = true;
    if (this.sink.buffered() > 0) this.sink.abandon();
  }
}

function isPipeOrSocket(fd: number): boolean {
  try {
    const stat = fs.fstatSync(fd);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    // A closed stdout: sonic-boom reports the error, which is ignored, and the lines go nowhere.
    return false;
  }
}

/** A pipe or socket: libuv makes the fd non-blocking and writes it when the reader has room. */
function streamSink(fd: number): Sink {
  const socket = new net.Socket({ fd, readable: false, writable: true });
  let broken = false;
  // The reader went away (EPIPE) or the fd failed: later lines are dropped, the process goes on.
  socket.on('error', () => (broken = true));
  // Like process.stdout, it does not keep the process alive.
  socket.unref();
  return {
    write: (line) => {
      if (!broken) socket.write(line);
    },
    buffered: () => (broken ? 0 : socket.writableLength),
    abandon: () => {
      broken = true;
      socket.destroy();
    },
  };
}

/** A file or terminal: sonic-boom, asynchronous. */
function sonicSink(fd: number): Sink {
  const sonic = pino.destination({ dest: fd, sync: false, minLength: 0 });
  let pending = 0;
  sonic.on('write', (bytes: number) => (pending -= bytes));
  sonic.on('error', () => undefined);
  return {
    write: (line) => {
      pending += Buffer.byteLength(line);
      sonic.write(line);
    },
    buffered: () => pending,
    // Destroyed, pino's exit handler does not write the rest synchronously.
    abandon: () => sonic.destroy(),
  };
}

// A real redis-server for a test: its own free port on loopback, nothing persisted, stopped after.
// REDIS_SERVER names the binary (scripts/ensure-redis.sh finds or installs one); else redis-server on PATH.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A port nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP on `port`; rejects after `ms`. */
async function listening(port, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25)); // the poll's interval
  }
}

/**
 * Starts redis-server on a free port (or `port`, to bring one back on the same address).
 * Returns { port, url, stop() (SIGTERM, waits), kill() (SIGKILL, waits) }.
 */
export async function startRedis({ port } = {}) {
  port ??= await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cobrowse-redis-'));
  const bin = process.env.REDIS_SERVER || 'redis-server';
  const proc = spawn(
    bin,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const spawnError = new Promise((_, reject) =>
    proc.once('error', (err) => reject(new Error(`cannot start ${bin}: ${err.message} (run scripts/ensure-redis.sh)`))),
  );
  await Promise.race([
    listening(port, 5000),
    spawnError,
    exited.then((code) => {
      throw new Error(`redis-server exited (${code}): ${stderr}`);
    }),
  ]);
  const end = async (signal) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  return { port, url: `redis://127.0.0.1:${port}`, proc, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') };
}

// Shared by the scale-out suites: relay nodes as child processes (dist/relay/cli.js --redis), a
// real redis-server per suite, and the stream drivers of test/relay/resume.test.js taught to
// move to another node when theirs is gone (as a load balancer would send them).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { startRedis } from '../helpers/redis.js';

export const V = 1;
export const TEST_CLUSTER_SECRET = 'the test cluster secret, at least 32 bytes long';
const CLI = fileURLToPath(new URL('../../dist/relay/cli.js', import.meta.url));
export { sleep } from '../helpers/wait.js';

/**
 * Starts `cobrowse-relay --redis <url>` on a free port. Resolves with { url, http, proc, logs, kill(), stop() }
 * once it listens. `args` are more CLI flags.
 */
export async function startNode(redisUrl, args = []) {
  // Nodes share a cluster secret (required) unless a test says otherwise.
  const secret = args.includes('--cluster-secret') || args.includes('--insecure-cluster') ? [] : ['--cluster-secret', TEST_CLUSTER_SECRET];
  const proc = spawn(
    process.execPath,
    [
      CLI,
      '--port',
      '0',
      '--redis',
      redisUrl,
      '--sockets-per-ip',
      'unlimited',
      '--pending-per-ip',
      'unlimited',
      '--sessions-per-ip',
      'unlimited',
      ...secret,
      ...args,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const logs = [];
  let out = '';
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start: ${out}`)), 10_000);
    proc.stderr.on('data', (d) => {
      out += d;
    });
    let partial = ''; // a log line may span two chunks
    proc.stdout.on('data', (d) => {
      out += d;
      const lines = (partial + d).split('\n');
      partial = lines.pop();
      for (const line of lines) {
        if (line.startsWith('{')) logs.push(JSON.parse(line));
        const m = /listening on (ws:\/\/\S+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      }
    });
    proc.once('exit', (code) => reject(new Error(`relay exited (${code}): ${out}`)));
  });
  const end = async (signal) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };
  return {
    url,
    http: url.replace(/^ws/, 'http').replace(/\/relay$/, ''),
    proc,
    logs,
    kill: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
  };
}

export async function health(node) {
  const res = await fetch(`${node.http}/healthz`);
  return { status: res.status, body: await res.json() };
}

export { Agent, Customer } from '../helpers/stream-drivers.js';

/** A real Redis and two relay nodes on it (with `args`) for a describe block: `ctx.redis`, `ctx.a`, `ctx.b` once started. */
export function clusterSuite(args = []) {
  const ctx = {};
  before(async () => {
    ctx.redis = await startRedis();
    [ctx.a, ctx.b] = await Promise.all([startNode(ctx.redis.url, args), startNode(ctx.redis.url, args)]);
  });
  after(async () => {
    await Promise.all([ctx.a?.kill(), ctx.b?.kill()]);
    await ctx.redis?.stop();
  });
  return ctx;
}

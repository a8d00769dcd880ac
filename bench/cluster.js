#!/usr/bin/env node
// Scale-out under load: 1,000 sessions split over two relay processes sharing one Redis, beside
// one relay process alone, in the same run, with the same load generator.
//
//   npm run bench:cluster               # a table; needs `npm run build` first (uses dist/relay)
//   npm run -s bench:cluster -- --json  # rows { name, unit, ours, bare, ratio } on stdout, where
//                                       #   ours = the two-node cluster on Redis, bare = one process alone
//   npm run bench:cluster -- --quick    # shorter runs, 200 sessions
//
// In the cluster every session's customer is on one node and its agent on the other (alternating),
// so every frame crosses Redis: the worst case for a load balancer that spreads peers at random.
// Processes: this one orchestrates; redis-server; the relays (two, or one); one generates load.
// Loopback only; on a 2-core machine they all share the same two cores, so read the ratio, not the absolutes.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { startRedis } from '../test/helpers/redis.js';
import { pacedLoad, saturateLoad } from './load.js';

const SELF = fileURLToPath(import.meta.url);
const DIST = fileURLToPath(new URL('../dist/relay/index.js', import.meta.url));
const argv = process.argv.slice(2);
const option = (name) => argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
const QUICK = argv.includes('--quick');
const JSON_OUT = argv.includes('--json');
const SESSIONS = Number(option('--sessions') ?? (QUICK ? 200 : 1000));
const SECONDS = QUICK ? 3 : 8;
const RUNS = Number(option('--runs') ?? (QUICK ? 1 : 3));
const RATE = 10; // patch frames per second per session
const SATURATE = { sessions: QUICK ? 100 : 500, window: 2, seconds: QUICK ? 3 : 5 };

// ─── Frames ──────────────────────────────────────────────────────────────────────────────────

const SNAPSHOT = JSON.stringify({
  t: 'snapshot',
  s: 1,
  url: 'https://shop.example/',
  title: 'Bench',
  viewport: [1280, 800],
  doc: [9, 1, [[1, 2, 'html', [], [[1, 3, 'body', [], []]]]]],
});

// ─── Relay process ───────────────────────────────────────────────────────────────────────────

async function serve(redis) {
  const { startRelay } = await import(DIST);
  const relay = await startRelay({
    port: 0,
    log: () => {},
    ...(redis ? { redis: { url: redis, secret: 'the bench cluster secret, at least 32 bytes' } } : {}),
    limits: { socketsPerIp: Infinity, pendingPerIp: Infinity, sessionsPerIp: Infinity },
  });
  process.send({ url: relay.url });
}

// ─── Load process ────────────────────────────────────────────────────────────────────────────

function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['cobrowse.v1'], { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}
const nextText = (ws) => new Promise((resolve) => ws.once('message', (data) => resolve(data.toString())));

/** Session i: customer on urls[i % n], agent on urls[(i + 1) % n] (the same one when n = 1). */
async function openSessions(urls, count, concurrency = 50) {
  const sessions = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        const customer = await open(urls[i % urls.length]);
        customer.send('{"t":"create","v":1,"mode":"full-control"}');
        const { code } = JSON.parse(await nextText(customer));
        const peer = nextText(customer); // the agent is online: listening before the join, which may answer first
        const agent = await open(urls[(i + 1) % urls.length]);
        const joined = nextText(agent);
        agent.send(`{"t":"join","v":1,"code":"${code}","name":"Bench"}`);
        await joined;
        await peer;
        sessions.push({ customer, agent });
      }
    }),
  );
  return sessions;
}

async function paced(urls, count, seconds) {
  return pacedLoad(await openSessions(urls, count), { snapshot: SNAPSHOT, rate: RATE, seconds });
}

async function saturate(urls, { sessions: count, window: inFlight, seconds }) {
  return saturateLoad(await openSessions(urls, count), { inFlight, seconds });
}

function load() {
  process.on('message', async (task) => {
    try {
      if (task.type === 'paced') process.send(await paced(task.urls, task.sessions, task.seconds));
      else process.send(await saturate(task.urls, task));
    } catch (err) {
      process.send({ error: String(err?.stack ?? err) });
    }
  });
  process.send({ ready: true });
}

// ─── Orchestrator ────────────────────────────────────────────────────────────────────────────

const progress = (text) => process.stderr.write(`${text}\n`);

function child(args) {
  const proc = spawn(
    '/bin/sh',
    ['-c', 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"', 'sh', process.execPath, SELF, ...args],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const inbox = [];
  const waiters = [];
  proc.on('message', (m) => (waiters.length ? waiters.shift()(m) : inbox.push(m)));
  const next = () => new Promise((resolve) => (inbox.length ? resolve(inbox.shift()) : waiters.push(resolve)));
  return {
    proc,
    next,
    async ask(message) {
      proc.send(message);
      const answer = await next();
      if (answer.error) throw new Error(answer.error);
      return answer;
    },
    kill: () => proc.kill('SIGKILL'),
  };
}

async function startServer(redisUrl) {
  const server = child(['--role=server', ...(redisUrl ? [`--redis=${redisUrl}`] : [])]);
  const { url } = await server.next();
  return { ...server, url };
}

const middle = (values) => {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : NaN;
};
const round = (x) => (Number.isFinite(x) ? Number(x.toPrecision(4)) : null);

async function main() {
  if (!existsSync(DIST)) {
    progress('bench:cluster uses the built relay: run `npm run build` first.');
    process.exit(1);
  }
  progress(
    `bench:cluster — node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}${QUICK ? ', --quick' : ''}`,
  );
  const redis = await startRedis();
  const loader = child(['--role=load']);
  await loader.next();
  const nodes = [await startServer(redis.url), await startServer(redis.url)];
  const single = await startServer(null);
  const targets = { cluster: nodes.map((n) => n.url), single: [single.url] };
  const rows = [];
  const row = (name, unit, cluster, alone) => rows.push({ name, unit, ours: cluster, bare: alone, ratio: cluster / alone });

  async function compare(label, task) {
    const runs = { cluster: [], single: [] };
    for (let run = 0; run < RUNS; run++) {
      for (const target of run % 2 ? ['single', 'cluster'] : ['cluster', 'single']) {
        progress(`  ${target}: ${label}${RUNS > 1 ? ` (run ${run + 1}/${RUNS})` : ''}…`);
        const result = await loader.ask({ ...task, urls: targets[target] });
        if (result.sent && result.received < result.sent * 0.99)
          progress(`    ${target} fell behind: ${result.received}/${result.sent} frames in time`);
        runs[target].push(result);
      }
    }
    const median = (list) => Object.fromEntries(Object.keys(list[0]).map((key) => [key, middle(list.map((r) => r[key]))]));
    return { cluster: median(runs.cluster), single: median(runs.single) };
  }

  const s = `${SESSIONS.toLocaleString('en')} sessions`;
  const paced = await compare(`${s} × ${RATE} frames/s for ${SECONDS} s`, { type: 'paced', sessions: SESSIONS, seconds: SECONDS });
  row(`frames/s forwarded, ${s} × ${RATE}/s`, 'frames/s', paced.cluster.perSecond, paced.single.perSecond);
  row(
    `delivered in time, ${s}`,
    '%',
    (100 * paced.cluster.received) / paced.cluster.sent,
    (100 * paced.single.received) / paced.single.sent,
  );
  row(`latency p50, ${s}`, 'ms', paced.cluster.p50, paced.single.p50);
  row(`latency p99, ${s}`, 'ms', paced.cluster.p99, paced.single.p99);
  const sat = await compare(`${SATURATE.sessions} sessions × ${SATURATE.window} in flight, unpaced, ${SATURATE.seconds} s`, {
    type: 'saturate',
    ...SATURATE,
  });
  row(`max frames/s, ${SATURATE.sessions} sessions unpaced`, 'frames/s', sat.cluster.perSecond, sat.single.perSecond);

  for (const server of [...nodes, single]) server.kill();
  loader.kill();
  await redis.stop();

  if (JSON_OUT) {
    process.stdout.write(
      `${JSON.stringify(
        rows.map(({ name, unit, ours, bare, ratio }) => ({ name, unit, ours: round(ours), bare: round(bare), ratio: round(ratio) })),
        null,
        2,
      )}\n`,
    );
  } else {
    const fmt = (x) => (!Number.isFinite(x) ? '–' : x >= 100 ? Math.round(x).toLocaleString('en') : x.toFixed(2));
    const cells = rows.map((r) => [r.name, r.unit, fmt(r.ours), fmt(r.bare), Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : '–']);
    const head = ['', 'unit', '2 nodes + Redis', '1 process', 'cluster/single'];
    const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
    const line = (c) => `| ${c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join(' | ')} |`;
    process.stdout.write(`${[line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n')}\n`);
  }
  process.exit(0);
}

const role = option('--role') ?? 'main';
if (role === 'server') await serve(option('--redis'));
else if (role === 'load') load();
else await main();

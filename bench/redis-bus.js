#!/usr/bin/env node
// Why relay/cluster.ts carries frames between nodes by Redis pub/sub and not by Redis Streams: the
// same frames, one real redis-server, both transports in the same run, alternated.
//
//   npm run bench:bus                 # a table, then a conclusion drawn from it
//   npm run -s bench:bus -- --json    # rows { name, unit, ours, bare, ratio } on stdout, where
//                                     #   ours = pub/sub, bare = streams, ratio = streams / pub/sub
//   npm run bench:bus -- --quick      # shorter runs, one of each
//
// pub/sub: PUBLISH to one node's channel, received with `messageBuffer`, as the cluster does.
// streams: XADD MAXLEN ~ 10000 (a bounded replay buffer: the only reason to want a stream) and one
// reader looping XREAD BLOCK 0 from the last id it saw. Publisher and receiver share this process,
// as they share a relay node's, so one-way latency is performance.now() against the time in the frame.
// On a 2-core machine Redis and this process share the cores: read the ratios, not the absolutes.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startRedis } from '../test/helpers/redis.js';
import { PATCH_HEAD, makePatchBodies, patchFrame, percentile } from './load.js';

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const JSON_OUT = argv.includes('--json');
const RUNS = QUICK ? 1 : 3;
const RATE = 10_000; // bench:cluster's load: 1,000 sessions × 10 frames/s, every frame crossing Redis
const SECONDS = QUICK ? 3 : 8;
const UNPACED_SECONDS = QUICK ? 2 : 5;
const IN_FLIGHT = 2_000; // unpaced: enough to keep Redis busy, bounded so pub/sub's output buffer stays far below its limit
const MAXLEN = 10_000;
const CHANNEL = 'bench:node:B';
const STREAM = 'bench:stream:B';
const progress = (text) => process.stderr.write(`${text}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// As relay/cluster.ts CLIENT_OPTIONS; receivers as its subscriber (queue until connected, never time out a BLOCK 0).
const CLIENT_OPTIONS = { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 3_000, enableAutoPipelining: true };
const RECEIVER_OPTIONS = { ...CLIENT_OPTIONS, enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined };
const ready = (client) => (client.status === 'ready' ? null : new Promise((resolve) => client.once('ready', resolve)));

// ─── Messages: the relay's bus header ('F', role, kind, session code) + a ~300-byte patch ────────

const HEAD = Buffer.from('FapABCD23456', 'latin1'); // 'F', agent, patch, a 9-char code
const BODIES = makePatchBodies(400).filter((b) => Math.abs(HEAD.length + patchFrame(0, b).length - 300) <= 30);
const TS_AT = HEAD.length + PATCH_HEAD.length;
const message = (ts, k) => Buffer.concat([HEAD, Buffer.from(patchFrame(ts, BODIES[k % BODIES.length]))]);
const sentAt = (m) => Number(m.toString('latin1', TS_AT, m.indexOf(0x22, TS_AT)));
let failures = 0;
const fail = () => void failures++;

// ─── The two transports: send(message), receive(callback), close() ──────────────────────────

async function pubsub(url) {
  const pub = new Redis(url, CLIENT_OPTIONS);
  const sub = new Redis(url, RECEIVER_OPTIONS);
  let deliver = () => {};
  sub.on('messageBuffer', (_channel, m) => deliver(m));
  await Promise.all([ready(pub), sub.subscribe(CHANNEL)]);
  return {
    send: (m) => void pub.publish(CHANNEL, m).catch(fail),
    receive: (callback) => (deliver = callback),
    close: () => Promise.all([pub.quit(), sub.quit()]),
  };
}

async function streams(url) {
  const pub = new Redis(url, CLIENT_OPTIONS);
  const reader = new Redis(url, RECEIVER_OPTIONS);
  await Promise.all([ready(pub), ready(reader)]);
  let deliver = () => {};
  let open = true;
  // From 0-0, not $: the stream was just deleted, and a first `$` could land after the first XADD and miss it.
  let last = '0-0';
  const loop = (async () => {
    while (open) {
      const reply = await reader.xreadBuffer('COUNT', 500, 'BLOCK', 0, 'STREAMS', STREAM, last);
      for (const [, entries] of reply ?? []) {
        for (const [, fields] of entries) deliver(fields[1]);
        last = entries[entries.length - 1][0];
      }
    }
  })();
  return {
    send: (m) => void pub.xadd(STREAM, 'MAXLEN', '~', MAXLEN, '*', 'f', m).catch(fail),
    receive: (callback) => (deliver = callback),
    async close() {
      open = false;
      await pub.xadd(STREAM, '*', 'f', 'end'); // wakes the reader's BLOCK 0 so that it sees `open` is false
      await loop;
      await Promise.all([pub.quit(), reader.quit()]);
    },
  };
}

// ─── Scenarios ───────────────────────────────────────────────────────────────────────────────

/** RATE messages/s for 1 s of warm-up + SECONDS measured; latencies of the messages sent in the measured window. */
async function paced(bus) {
  const latencies = [];
  const t0 = performance.now();
  const window = { start: t0 + 1000, end: t0 + 1000 + SECONDS * 1000 };
  bus.receive((m) => {
    if (m[0] !== HEAD[0]) return;
    const ts = sentAt(m);
    if (ts >= window.start && ts < window.end) latencies.push(performance.now() - ts);
  });
  let [sent, due] = [0, t0];
  await new Promise((resolve) => {
    const tick = setInterval(() => {
      const now = performance.now();
      if (now >= window.end) return resolve(clearInterval(tick));
      for (; due <= now; due += 1000 / RATE) bus.send(message(performance.now(), sent++));
    }, 1);
  });
  await sleep(500);
  latencies.sort((a, b) => a - b);
  return { sent, perSecond: latencies.length / SECONDS, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** As fast as it goes with IN_FLIGHT messages outstanding: each delivery sends the next one. */
async function unpaced(bus) {
  let [sent, received, counted, counting, running] = [0, 0, 0, false, true];
  const top = () => {
    while (running && sent - received < IN_FLIGHT) bus.send(message(performance.now(), sent++));
  };
  bus.receive((m) => {
    if (m[0] !== HEAD[0]) return;
    received++;
    if (counting) counted++;
    top();
  });
  top();
  await sleep(500);
  counting = true;
  await sleep(UNPACED_SECONDS * 1000);
  counting = false;
  running = false;
  await sleep(300);
  return { sent, perSecond: counted / UNPACED_SECONDS };
}

async function redisInfo(admin) {
  const text = await admin.info('all');
  const field = (name) => Number(text.match(new RegExp(`^${name}:([\\d.]+)`, 'm'))[1]);
  return { cpu: field('used_cpu_user') + field('used_cpu_sys'), memory: field('used_memory') };
}

/** One run of one transport on fresh connections: paced, then unpaced, with Redis CPU and memory around each. */
async function trial(make, url, admin) {
  await admin.del(STREAM);
  const bus = await make(url);
  const [before, p] = [await redisInfo(admin), await paced(bus)];
  const [middle, u] = [await redisInfo(admin), await unpaced(bus)];
  const after = await redisInfo(admin);
  await bus.close();
  await admin.del(STREAM);
  const cpu = (from, to, messages) => ((to.cpu - from.cpu) * 1e6) / messages;
  const memory = (middle.memory - before.memory) / 2 ** 20;
  return { ...p, max: u.perSecond, cpuPaced: cpu(before, middle, p.sent), cpuUnpaced: cpu(middle, after, u.sent), memory };
}

// ─── Orchestrator ────────────────────────────────────────────────────────────────────────────

const median = (values) => values.sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
const round = (x) => (Number.isFinite(x) ? Number(x.toPrecision(4)) : null);

const load = loadavg().map((l) => l.toFixed(1));
progress(`bench:bus — node ${process.version}, ${cpus().length} CPUs, load average ${load.join(' ')}${QUICK ? ', --quick' : ''}`);
const ENSURE = fileURLToPath(new URL('../scripts/ensure-redis.sh', import.meta.url));
process.env.REDIS_SERVER ||= execFileSync('bash', [ENSURE], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const redis = await startRedis();
const admin = new Redis(redis.url);
const transports = { streams, 'pub/sub': pubsub };
const runs = { streams: [], 'pub/sub': [] };
try {
  for (let run = 0; run < RUNS; run++) {
    for (const name of run % 2 ? ['pub/sub', 'streams'] : ['streams', 'pub/sub']) {
      progress(`  ${name}: ${RATE.toLocaleString('en')}/s for ${SECONDS} s, then unpaced ${UNPACED_SECONDS} s (run ${run + 1}/${RUNS})…`);
      const result = await trial(transports[name], redis.url, admin);
      if (result.perSecond < RATE * 0.99) progress(`    ${name} fell behind: ${Math.round(result.perSecond)} msgs/s delivered in time`);
      runs[name].push(result);
    }
  }
  await admin.quit();
} finally {
  await redis.stop(); // also on a failure: redis-server is a child of ours and would outlive us
}
if (failures) progress(`  ${failures} commands failed`);

const m = (name, key) => median(runs[name].map((r) => r[key]));
const rows = [];
const by = {};
const row = (name, unit, key) => {
  const [ours, bare] = [m('pub/sub', key), m('streams', key)];
  rows.push((by[key] = { name, unit, ours, bare, ratio: ours > 0 ? bare / ours : NaN }));
};
const pace = `${RATE.toLocaleString('en')} msgs/s`;
row(`msgs/s delivered, ${pace} paced`, 'msgs/s', 'perSecond');
row(`latency p50, ${pace}`, 'ms', 'p50');
row(`latency p99, ${pace}`, 'ms', 'p99');
row(`max msgs/s, unpaced (${IN_FLIGHT.toLocaleString('en')} in flight)`, 'msgs/s', 'max');
row(`Redis CPU per message, ${pace}`, 'µs', 'cpuPaced');
row('Redis CPU per message, unpaced', 'µs', 'cpuUnpaced');
row('Redis memory after the paced run', 'MiB', 'memory');

const [cpuRatio, maxRatio, p99Ratio, memory] = [by.cpuPaced.ratio, by.max.ratio, by.p99.ratio, by.memory];
const worse = [
  cpuRatio > 1.1 && `take ${cpuRatio.toFixed(1)}× the Redis CPU per message`,
  maxRatio < 0.9 && `top out at ${maxRatio.toFixed(2)}× the rate`,
  p99Ratio > 1.1 && `show ${p99Ratio.toFixed(1)}× the p99 latency`,
  memory.bare - memory.ours > 1 && `hold ${(memory.bare - memory.ours).toFixed(1)} MiB more Redis memory per receiving node`,
].filter(Boolean);
const conclusion = worse.length
  ? `Conclusion: against pub/sub, streams ${worse.join(', ')}, for a replay the relay does not need (its stream numbering recovers lost frames): frames go by pub/sub.`
  : `Conclusion: streams were no worse than pub/sub here (CPU ${cpuRatio.toFixed(2)}×, max rate ${maxRatio.toFixed(2)}×, p99 ${p99Ratio.toFixed(2)}×): the case for pub/sub rests on simplicity alone.`;

if (JSON_OUT) {
  const out = rows.map(({ name, unit, ours, bare, ratio }) => ({ name, unit, ours: round(ours), bare: round(bare), ratio: round(ratio) }));
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  progress(conclusion);
} else {
  const fmt = (x) => (!Number.isFinite(x) ? '–' : Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en') : x.toFixed(2));
  const cells = rows.map((r) => [r.name, r.unit, fmt(r.bare), fmt(r.ours), Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : '–']);
  const head = ['', 'unit', 'streams', 'pub/sub', 'streams/pub-sub'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => `| ${c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join(' | ')} |`;
  process.stdout.write(
    `${[line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n')}\n${conclusion}\n`,
  );
}

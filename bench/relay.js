#!/usr/bin/env node
// The relay under load, beside a bare `ws` forwarder doing the same pairing with no checks.
//
//   npm run bench:relay                # a table; needs `npm run build` first (uses dist/relay)
//   npm run -s bench:relay -- --json   # rows { name, unit, ours, bare, ratio } as JSON on stdout
//   npm run bench:relay -- --quick     # shorter runs and 2,000 idle sessions, for a smoke test
//   npm run bench:relay -- --runs=5    # repetitions per load (default 3; the table shows medians)
//
// Three processes per target: this one orchestrates, one runs the server (ours or bare), one
// generates load, so the load generator never shares the server's event loop. Loopback only.
// Each child raises its open-file limit (`ulimit -n`) for the 20,000-socket case; as a non-root
// user whose hard limit is lower, the idle case shrinks to what fits and says so.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { closeSessions, pacedLoad, saturateLoad } from './load.js';

const SELF = fileURLToPath(import.meta.url);
const DIST = fileURLToPath(new URL('../dist/relay/index.js', import.meta.url));
const SECRET = 'bench-secret-bench-secret-bench-secret';
const argv = process.argv.slice(2);
const option = (name) => argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
const QUICK = argv.includes('--quick');
const JSON_OUT = argv.includes('--json');

const LOADS = QUICK
  ? [
      { sessions: 1, seconds: 3 },
      { sessions: 100, seconds: 3 },
      { sessions: 1000, seconds: 4 },
    ]
  : [
      { sessions: 1, seconds: 6 },
      { sessions: 100, seconds: 6 },
      { sessions: 1000, seconds: 8 },
    ];
// Ours and bare take turns, several times, and each number is the median of its runs: a shared
// 2-core machine is noisy enough that one run each can mislead either way.
const RUNS = Number(option('--runs') ?? (QUICK ? 1 : 3));
const RATE = 10; // patch frames per second per session
// Enough sessions that the relay's per-socket limit (200 frames/s) is not what binds.
const SATURATE = { sessions: 500, window: 2, seconds: QUICK ? 3 : 5 };
const IDLE_SESSIONS = QUICK ? 2000 : 10_000;
const FD_LIMIT = 65_536;

// ─── Frames: a ~100 KB snapshot, and patches of 200 B – 2 KB with a realistic mix of ops ────────

function makeSnapshot() {
  let id = 10;
  const rows = [];
  while (JSON.stringify(rows).length < 98_000) {
    rows.push([
      1,
      id++,
      'div',
      ['class', 'row item', 'data-id', String(id)],
      [
        [1, id++, 'span', ['class', 'label'], [[3, id++, `Line item ${id}`]]],
        [1, id++, 'input', ['type', 'text', 'name', `field${id}`], [], { value: 'value' }],
      ],
    ]);
  }
  const doc = [
    9,
    1,
    [
      [10, 2, 'html', '', ''],
      [
        1,
        3,
        'html',
        ['lang', 'en'],
        [
          [1, 4, 'head', [], []],
          [1, 5, 'body', [], rows],
        ],
      ],
    ],
  ];
  return JSON.stringify({ t: 'snapshot', s: 1, url: 'https://shop.example/checkout', title: 'Checkout', viewport: [1280, 800], doc });
}

// ─── Server process: ours, or the bare forwarder ─────────────────────────────────────────────

/** The least a relay can do: pair a customer and an agent by code and pass their frames on. No checks at all. */
function bareForwarder() {
  const server = createServer();
  const wss = new WebSocketServer({ server, path: '/relay', perMessageDeflate: false, maxPayload: 1 << 20, clientTracking: false });
  const sessions = new Map();
  let next = 100_000_000;
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.once('message', (data) => {
      const text = data.toString();
      if (text.includes('"create"')) {
        const code = String(next++);
        const session = { customer: ws, agent: null };
        sessions.set(code, session);
        ws.send(`{"t":"created","code":"${code}"}`);
        ws.on('message', (d) => session.agent?.readyState === 1 && session.agent.send(d, { binary: false }));
        ws.on('close', () => sessions.delete(code));
      } else {
        const session = sessions.get(/"code":"(\d+)"/.exec(text)?.[1]);
        if (!session) return ws.close();
        session.agent = ws;
        ws.send('{"t":"joined"}');
        ws.on('message', (d) => session.customer.readyState === 1 && session.customer.send(d, { binary: false }));
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`ws://127.0.0.1:${server.address().port}/relay`)));
}

async function serve(target) {
  let url;
  if (target === 'ours') {
    const { startRelay } = await import(DIST);
    // As an operator would run it (JWT auth, default rate limits and backpressure), minus the
    // per-IP caps: every load-generator socket comes from loopback. Logging off for both.
    const relay = await startRelay({
      port: 0,
      log: () => {},
      agentAuth: { secret: SECRET },
      limits: { socketsPerIp: Infinity, pendingPerIp: Infinity, sessionsPerIp: Infinity },
    });
    url = relay.url;
  } else {
    url = await bareForwarder();
  }
  process.on('SIGINT', () => process.exit(0)); // a clean exit, so --cpu-prof can write its profile
  process.on('message', (message) => {
    if (message === 'gc') {
      for (let i = 0; i < 3; i++) globalThis.gc();
      process.send({ gc: true, memory: process.memoryUsage() });
    }
  });
  process.send({ url });
}

// ─── Load process ────────────────────────────────────────────────────────────────────────────

/** Spreads clients over 127.0.0.2–21 so 20,000 sockets do not exhaust one address's ephemeral ports. */
let nextAddress = 0;
const localAddress = () => `127.0.0.${2 + (nextAddress++ % 20)}`;

function open(url, protocols) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { perMessageDeflate: false, localAddress: localAddress() });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}
const nextText = (ws) => new Promise((resolve) => ws.once('message', (data) => resolve(data.toString())));

async function openSession(url, token) {
  const customer = await open(url, ['cobrowse.v1']);
  customer.send('{"t":"create","v":1,"mode":"full-control"}');
  const { code } = JSON.parse(await nextText(customer));
  const agent = await open(url, ['cobrowse.v1', `cobrowse.bearer.${token}`]);
  const joined = nextText(agent);
  agent.send(`{"t":"join","v":1,"code":"${code}","name":"Bench"}`);
  await joined;
  return { customer, agent };
}

/** Opens `count` sessions, `concurrency` at a time. */
async function openSessions(url, token, count, concurrency = 64) {
  const sessions = [];
  let started = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (started < count) {
        started++;
        sessions.push(await openSession(url, token));
      }
    }),
  );
  return sessions;
}

/** Tells the orchestrator when measuring starts and ends, so it can read the server's CPU time across the window. */
function announceWindow(startIn, endIn) {
  setTimeout(() => process.send({ phase: 'start' }), startIn);
  setTimeout(() => process.send({ phase: 'end' }), endIn);
}

/** Paced load: each session's customer sends a snapshot, then RATE patches per second, for `seconds`. */
async function paced(url, token, { sessions: count, seconds }) {
  const sessions = await openSessions(url, token, count);
  return pacedLoad(sessions, { snapshot: makeSnapshot(), rate: RATE, seconds, onWindow: announceWindow });
}

/** Closed loop: each session keeps `window` patches in flight; measures how many frames/s the server can move. */
async function saturate(url, token, { sessions: count, window: inFlight, seconds }) {
  return saturateLoad(await openSessions(url, token, count), { inFlight, seconds, onPhase: (phase) => process.send({ phase }) });
}

async function load() {
  const token = await signToken();
  let idle = null;
  process.on('message', async (task) => {
    try {
      if (task.type === 'paced') process.send(await paced(task.url, token, task));
      else if (task.type === 'saturate') process.send(await saturate(task.url, token, task));
      else if (task.type === 'idle-open') {
        idle = await openSessions(task.url, token, task.sessions, 200);
        process.send({ opened: idle.length });
      } else if (task.type === 'idle-close') {
        await closeSessions(idle);
        idle = null;
        process.send({ closed: true });
      }
    } catch (err) {
      process.send({ error: String(err?.stack ?? err) });
    }
  });
  process.send({ ready: true });
}

async function signToken() {
  const { SignJWT } = await import('jose');
  return new SignJWT({ name: 'Bench agent' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setSubject('bench')
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(SECRET));
}

// ─── Orchestrator ────────────────────────────────────────────────────────────────────────────

const progress = (text) => process.stderr.write(`${text}\n`);

/** A child node process with a raised open-file limit, talking over IPC. */
function child(args) {
  const proc = spawn(
    '/bin/sh',
    [
      '-c',
      `ulimit -n ${FD_LIMIT} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"`,
      'sh',
      process.execPath,
      '--expose-gc',
      SELF,
      ...args,
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const inbox = [];
  const waiters = [];
  proc.on('message', (m) => (waiters.length ? waiters.shift()(m) : inbox.push(m)));
  proc.on('exit', (code) => {
    if (code) progress(`child ${args.join(' ')} exited with ${code}`);
  });
  const next = () => new Promise((resolve) => (inbox.length ? resolve(inbox.shift()) : waiters.push(resolve)));
  return {
    proc,
    /** Sends a task; `onPhase` hears { phase } messages before the answer. */
    async ask(message, onPhase = () => {}) {
      proc.send(message);
      for (;;) {
        const answer = await next();
        if (answer.error) throw new Error(answer.error);
        if (answer.phase) onPhase(answer.phase);
        else return answer;
      }
    },
    next,
    kill: () => proc.kill('SIGKILL'),
  };
}

/** User + system CPU seconds a process has used (Linux clock ticks are 1/100 s). */
const cpuSeconds = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
/** Runs a load task and measures the server's CPU time inside the load generator's window. */
async function measured(loader, server, task) {
  let start = 0;
  let cpu = NaN;
  const result = await loader.ask(task, (phase) => {
    if (phase === 'start') start = cpuSeconds(server.proc.pid);
    else cpu = cpuSeconds(server.proc.pid) - start;
  });
  return { ...result, cpu };
}
const rssKiB = (pid) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
const fileLimit = (pid) => Number(readFileSync(`/proc/${pid}/limits`, 'utf8').match(/Max open files\s+(\d+)/)[1]);

async function startServer(target) {
  const server = child(['--role=server', `--target=${target}`]);
  const { url } = await server.next();
  return { ...server, url };
}

async function main() {
  if (!existsSync(DIST)) {
    progress('bench:relay uses the built relay: run `npm run build` first.');
    process.exit(1);
  }
  progress(
    `bench:relay — node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}${QUICK ? ', --quick' : ''}`,
  );
  const loader = child(['--role=load']);
  await loader.next(); // ready
  const rows = [];
  const row = (name, unit, ours, bare, goal) => rows.push({ name, unit, ours, bare, ratio: ours / bare, goal });

  const servers = { ours: await startServer('ours'), bare: await startServer('bare') };
  /** Runs `task` RUNS times per target, alternating which goes first; returns per-target medians of every number. */
  async function compare(label, task) {
    const runs = { ours: [], bare: [] };
    for (let run = 0; run < RUNS; run++) {
      for (const target of run % 2 ? ['bare', 'ours'] : ['ours', 'bare']) {
        progress(`  ${target}: ${label}${RUNS > 1 ? ` (run ${run + 1}/${RUNS})` : ''}…`);
        const result = await measured(loader, servers[target], { ...task, url: servers[target].url });
        if (result.sent && result.received < result.sent * 0.99)
          progress(`    ${target} fell behind: ${result.received}/${result.sent} frames in time`);
        runs[target].push(result);
      }
    }
    const median = (list) => Object.fromEntries(Object.keys(list[0]).map((key) => [key, middle(list.map((r) => r[key]))]));
    return { ours: median(runs.ours), bare: median(runs.bare) };
  }

  for (const spec of LOADS) {
    const { ours, bare } = await compare(`${spec.sessions} session(s) × ${RATE} frames/s for ${spec.seconds} s`, {
      type: 'paced',
      ...spec,
    });
    const s = `${spec.sessions.toLocaleString('en')} session${spec.sessions > 1 ? 's' : ''}`;
    const big = spec.sessions === 1000;
    row(
      `frames/s forwarded, ${s}`,
      'frames/s',
      ours.perSecond,
      bare.perSecond,
      big ? ['ratio ≥ 0.8', ours.perSecond / bare.perSecond >= 0.8] : undefined,
    );
    row(`latency p50, ${s}`, 'ms', ours.p50, bare.p50);
    // "Added" latency is what ours costs beyond the bare forwarder on the same path (loopback, ws, load generator).
    const added = ours.p99 - bare.p99;
    row(
      `latency p99, ${s}`,
      'ms',
      ours.p99,
      bare.p99,
      big ? [`added ≤ 5 ms (ours − bare = ${added.toFixed(2)} ms)`, added <= 5] : undefined,
    );
    if (spec.sessions >= 100) {
      const cpu = (r) => (r.cpu / (r.perSecond * spec.seconds)) * 1e6;
      row(`server CPU per frame, ${s}`, 'µs', cpu(ours), cpu(bare));
    }
  }
  {
    const cpu = (r) => (r.cpu / (r.perSecond * SATURATE.seconds)) * 1e6;
    const { ours, bare } = await compare(
      `${SATURATE.sessions} sessions × ${SATURATE.window} frames in flight, unpaced, for ${SATURATE.seconds} s`,
      { type: 'saturate', ...SATURATE },
    );
    row(`max frames/s, ${SATURATE.sessions} sessions unpaced`, 'frames/s', ours.perSecond, bare.perSecond);
    row(`server CPU per frame, unpaced`, 'µs', cpu(ours), cpu(bare));
  }
  servers.ours.kill();
  servers.bare.kill();

  // Idle memory: a fresh server per target, so no garbage from the load runs counts.
  const limit = fileLimit(loader.proc.pid);
  const idle = {};
  let sessions = IDLE_SESSIONS;
  for (const target of ['ours', 'bare']) {
    const server = await startServer(target);
    const fits = Math.floor((Math.min(limit, fileLimit(server.proc.pid)) - 64) / 2);
    if (fits < sessions) {
      progress(`  open-file limit allows only ${fits} sessions (raise the hard limit: ulimit -Hn ≥ ${2 * IDLE_SESSIONS + 256})`);
      sessions = fits;
    }
    await server.ask('gc');
    const before = rssKiB(server.proc.pid);
    progress(`  ${target}: ${sessions.toLocaleString('en')} idle sessions (${(2 * sessions).toLocaleString('en')} sockets)…`);
    await loader.ask({ type: 'idle-open', url: server.url, sessions });
    await new Promise((r) => setTimeout(r, 1000));
    await server.ask('gc');
    const afterRss = rssKiB(server.proc.pid);
    idle[target] = (afterRss - before) / sessions;
    progress(`    RSS ${Math.round(before / 1024)} → ${Math.round(afterRss / 1024)} MiB`);
    await loader.ask({ type: 'idle-close' });
    server.kill();
  }
  row(`RSS per idle session, ${sessions.toLocaleString('en')} sessions`, 'KiB', idle.ours, idle.bare, [
    'ratio ≤ 1.3',
    idle.ours / idle.bare <= 1.3,
  ]);
  loader.kill();

  if (JSON_OUT) {
    process.stdout.write(
      `${JSON.stringify(
        rows.map(({ name, unit, ours, bare, ratio }) => ({ name, unit, ours: round(ours), bare: round(bare), ratio: round(ratio) })),
        null,
        2,
      )}\n`,
    );
  } else {
    printTable(rows);
  }
  process.exit(0);
}

const middle = (values) => {
  const sorted = values.filter((v) => typeof v === 'number').sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : NaN;
};

const round = (x) => (Number.isFinite(x) ? Number(x.toPrecision(4)) : null);

function printTable(rows) {
  const verdict = (goal) => (goal ? `${goal[1] ? '✓' : '✗'} ${goal[0]}` : '');
  const cells = rows.map((r) => [
    r.name,
    r.unit,
    fmt(r.ours),
    fmt(r.bare),
    Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : '–',
    verdict(r.goal),
  ]);
  const head = ['', 'unit', 'ours', 'bare ws', 'ours/bare', 'goal'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => `| ${c.map((x, i) => (i === 0 || i === 5 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join(' | ')} |`;
  process.stdout.write(`${[line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n')}\n`);
}

function fmt(x) {
  if (!Number.isFinite(x)) return '–';
  if (x >= 100) return Math.round(x).toLocaleString('en');
  return x.toFixed(2);
}

const role = option('--role') ?? 'main';
if (role === 'server') await serve(option('--target'));
else if (role === 'load') await load();
else await main();

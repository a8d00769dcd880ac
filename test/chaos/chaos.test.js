// Chaos: a customer page under continuous random DOM churn and an agent page co-browse through two
// relay nodes on one real redis-server, each hop through a fault-injecting TCP proxy (the pages'
// proxies also balance over the nodes). Seeded random faults for CHAOS_SECONDS (resets, delays,
// stalls, bandwidth caps), node A SIGKILLed at 35% (a new node takes its place) and Redis restarted
// empty at 65%. Within 5 s of the faults and the churn stopping, the agent's mirror must equal the
// customer's page, with no patch applied over a gap and no frame number applied twice, under the
// same session ID. CHAOS_SEEDS="1,2" picks seeds; CHAOS_SECONDS=20 shortens a local run.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { launchChromium, startFromLauncher } from '../helpers/chromium.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { random } from '../helpers/random.js';
import { startRedis } from '../helpers/redis.js';
import { sleep, startNode } from '../cluster/helpers.js';

const SECONDS = Number(process.env.CHAOS_SECONDS) || 60;
const SEEDS = (process.env.CHAOS_SEEDS || '1,2,3,4,5').split(',').map(Number);
/** Faults and churn stop; the mirror must match the page within this. */
const CONVERGE_MS = 5000;
/** The churned region stays this small (elements), so snapshots stay cheap under a bandwidth cap. */
const MAX_ELEMENTS = 250;

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));

const customerHtml = (relay) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chaos: customer</title>
<style>body { font: 13px sans-serif; margin: 12px } #churn * { margin: 1px; padding: 1px; border: 1px solid #ccc }</style>
</head><body>
<h1>Chaos customer</h1>
<div id="churn"></div>
<cobrowse-launcher relay="${relay}"></cobrowse-launcher>
<script type="module" src="/dist/cobrowse.js"></script>
</body></html>`;

const agentHtml = (relay) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chaos: agent</title>
<style>html, body { height: 100%; margin: 0 } cobrowse-viewer { display: block; height: 100vh }</style>
</head><body>
<cobrowse-viewer relay="${relay}"></cobrowse-viewer>
<script type="module" src="/dist/cobrowse-agent.js"></script>
</body></html>`;

/** Serves the two pages (?relay= names the page's proxy) and the bundles, read afresh each time (a rebuild shows). */
async function startPages() {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const relay = url.searchParams.get('relay') ?? '';
    const send = (type, body) => res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    if (/^\/(customer|agent)\.html$/.test(url.pathname) && /^ws:\/\/127\.0\.0\.1:\d+\/relay$/.test(relay)) {
      return send('text/html', url.pathname === '/customer.html' ? customerHtml(relay) : agentHtml(relay));
    }
    const file = /^\/dist\/(cobrowse(?:-agent)?\.js(?:\.map)?)$/.exec(url.pathname)?.[1];
    if (file) return send(file.endsWith('.map') ? 'application/json' : 'text/javascript', readFileSync(DIST + file));
    res.writeHead(404).end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

// ---- In the customer's page ----------------------------------------------------------------------

/**
 * Seeded DOM churn under #churn, a batch every 50–100 ms until window.__churn.stop(): insertions,
 * removals, moves, attribute and text changes, typed field values (the convergence test's generator,
 * without shadow roots and CSSOM). The oldest items go when there are more than `max` elements.
 */
function churn({ seed, max, random }) {
  const rand = new Function(`return ${random}`)()(seed); // the test's PRNG, handed over as source
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const TAGS = ['div', 'span', 'p', 'ul', 'li', 'b', 'section', 'input', 'textarea'];
  const ATTRIBUTES = ['class', 'title', 'data-x', 'aria-label'];
  const FIELD = /^(input|textarea)$/;
  const root = document.getElementById('churn');
  let ops = 0;
  let batches = 0;
  let timer;

  const containers = () => [root, ...Array.from(root.querySelectorAll('*')).filter((el) => !FIELD.test(el.localName))];
  const children = (scopes) => scopes.flatMap((s) => Array.from(s.childNodes));
  const make = () => {
    if (rand() < 0.2) return document.createTextNode(`t${ops}`);
    const el = document.createElement(pick(TAGS));
    if (!FIELD.test(el.localName)) el.textContent = `${el.localName} ${ops}`;
    if (rand() < 0.3) el.className = `c${ops % 7}`;
    return el;
  };
  const op = () => {
    ops++;
    const scopes = containers();
    const roll = rand();
    if (roll < 0.3) {
      const parent = pick(scopes);
      const kids = parent.childNodes;
      parent.insertBefore(make(), kids.length && rand() < 0.6 ? pick(kids) : null);
    } else if (roll < 0.42) {
      const nodes = children(scopes);
      if (nodes.length) pick(nodes).remove();
    } else if (roll < 0.5) {
      const nodes = children(scopes);
      const parent = pick(scopes);
      const node = nodes.length ? pick(nodes) : null;
      if (node && !node.contains(parent)) parent.insertBefore(node, parent.firstChild);
    } else if (roll < 0.68) {
      const el = pick(scopes.slice(1).concat(Array.from(root.querySelectorAll('input,textarea'))));
      const name = pick(ATTRIBUTES);
      if (!el) return;
      if (rand() < 0.8) el.setAttribute(name, `v${ops}`);
      else el.removeAttribute(name);
    } else if (roll < 0.8) {
      const texts = children(scopes).filter((n) => n.nodeType === 3);
      if (texts.length) pick(texts).data = `edit${ops}`;
    } else {
      const fields = Array.from(root.querySelectorAll('input,textarea'));
      if (!fields.length) return;
      const field = pick(fields);
      field.value = `typed${ops}`;
      field.dispatchEvent(new Event('input', { bubbles: true }));
    }
  };
  const trim = () => {
    while (root.getElementsByTagName('*').length > max && root.firstChild) root.firstChild.remove();
  };
  const batch = () => {
    const size = 1 + Math.floor(rand() * 12);
    for (let i = 0; i < size; i++) op();
    trim();
    batches++;
    timer = setTimeout(batch, 50 + rand() * 50); // the churn's pace, on purpose
  };
  for (let i = 0; i < 40; i++) root.append(make());
  batch();
  window.__churn = {
    stop() {
      clearTimeout(timer);
      return { batches, ops, elements: root.getElementsByTagName('*').length };
    },
  };
}

/** Records the launcher's states and any new session ID (the session must keep its ID). */
function watchLauncher() {
  const launcher = document.querySelector('cobrowse-launcher');
  window.__timeline = [];
  const note = (what) => window.__timeline.push({ at: Date.now(), what });
  launcher.addEventListener('cobrowse-state-change', (e) => note(e.detail.state));
  launcher.addEventListener('cobrowse-session-created', (e) => note(`created ${e.detail.code}`));
  launcher.addEventListener('cobrowse-ended', (e) => note(`ended by ${e.detail.by}`));
}

// ---- In the agent's page -------------------------------------------------------------------------

/**
 * Joins through the viewer and logs every numbered frame its AgentSession applies to the mirror
 * (`applied`), and the viewer's states. The viewer's `session` property is TS-private but a plain
 * field at runtime: it becomes an accessor here, so any session the viewer makes (now or later) is
 * watched from its first frame on.
 */
async function joinAndWatch(code) {
  await customElements.whenDefined('cobrowse-viewer');
  const viewer = document.querySelector('cobrowse-viewer');
  await viewer.updateComplete;
  window.__applied = [];
  window.__timeline = [];
  window.__sessions = 0;
  const note = (what) => window.__timeline.push({ at: Date.now(), what });
  const watch = (session) => {
    const generation = ++window.__sessions;
    session.events.on('applied', ({ s, type }) => window.__applied.push({ s, type, g: generation, at: Date.now() }));
    session.events.on('error', ({ code, message }) => note(`error ${code}: ${message}`));
    session.events.on('ended', ({ by }) => note(`ended by ${by}`));
    if (generation > 1) note(`new AgentSession #${generation}`);
  };
  let current = viewer.session;
  if (current) watch(current);
  Object.defineProperty(viewer, 'session', {
    configurable: true,
    get: () => current,
    set: (session) => {
      if (session && session !== current) watch(session);
      current = session;
    },
  });
  viewer.addEventListener('cobrowse-state-change', (e) => note(e.detail.state));
  viewer.join(code);
  if (!current) throw new Error('viewer.join() made no AgentSession');
}

/** A tree as text (tags, sorted attributes, text, field values) under #churn: the customer's page or the agent's mirror of it. */
function churnTree(where) {
  const doc =
    where === 'mirror' ? document.querySelector('cobrowse-viewer')?.shadowRoot?.querySelector('iframe')?.contentDocument : document;
  const root = doc?.getElementById('churn');
  if (!root) return null;
  const canon = (node, indent) => {
    if (node.nodeType === 3) return `${indent}${JSON.stringify(node.data)}\n`;
    if (node.nodeType === 8) return `${indent}<!---->\n`;
    if (node.nodeType !== 1) return '';
    // The mirror's own marks (pseudo-classes, autocomplete off) are not the page's.
    const attrs = Array.from(node.attributes)
      .filter((at) => !at.name.startsWith('data-cobrowse') && !(at.name === 'autocomplete' && at.value === 'off'))
      .map((at) => `${at.name}=${JSON.stringify(at.value)}`)
      .sort()
      .join(' ');
    const value = /^(input|textarea)$/.test(node.localName) ? ` {value=${JSON.stringify(node.value)}}` : '';
    return `${indent}<${node.localName} ${attrs}>${value}\n` + Array.from(node.childNodes, (c) => canon(c, indent + '  ')).join('');
  };
  return canon(root, '');
}

const viewerState = () => document.querySelector('cobrowse-viewer').state;
const viewerMessage = () => document.querySelector('cobrowse-viewer').shadowRoot.querySelector('[part=message]')?.textContent?.trim() ?? '';
const launcherStatus = () => {
  const launcher = document.querySelector('cobrowse-launcher');
  return { code: launcher.code, state: launcher.state };
};

// ---- In Node ---------------------------------------------------------------------------------------

/**
 * Opens a page in its own context. Counts its WebSocket connections and keeps the numbered frames
 * (snapshot, patch, chunk) it sends or, with `numbered: 'received'`, receives.
 */
async function openParty(browser, url, { numbered }) {
  const context = await browser.newContext({ viewport: { width: 1024, height: 700 } });
  const page = await context.newPage();
  const party = { context, page, sockets: 0, frames: [], errors: [] };
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  cdp.on('Network.webSocketCreated', () => party.sockets++);
  cdp.on(numbered === 'received' ? 'Network.webSocketFrameReceived' : 'Network.webSocketFrameSent', ({ response }) => {
    let frame;
    try {
      frame = JSON.parse(response.payloadData);
    } catch {
      return; // not ours to judge: the session drops a malformed frame itself
    }
    const { t, s, i, n } = frame;
    if (t === 'snapshot' || t === 'patch' || t === 'chunk') party.frames.push({ t, s, i, n, at: Date.now() });
  });
  page.on('pageerror', (error) => party.errors.push(String(error)));
  await page.goto(url);
  return party;
}

/**
 * The agent's applied-frame log against the two invariants, per AgentSession: a patch applies the
 * number after the last one applied, a snapshot a higher one, no number twice. A chunked frame is
 * applied under its last chunk's number and covers the numbers of all its chunks (known from the
 * received frames). Also counts the numbered frames that arrived more than once.
 */
function checkApplied(applied, received) {
  const chunks = new Map(received.filter((f) => f.t === 'chunk').map((f) => [f.s, f]));
  const gaps = [];
  const duplicates = [];
  let previous = null;
  let generation = 0;
  const seen = new Set();
  for (const entry of applied) {
    if (entry.g !== generation) {
      generation = entry.g;
      previous = null;
      seen.clear();
    }
    const first = entry.s - (chunks.get(entry.s)?.i ?? 0);
    const numbers = Array.from({ length: entry.s - first + 1 }, (_, k) => first + k);
    if (numbers.some((s) => seen.has(s))) duplicates.push({ ...entry, previous });
    else if (entry.type === 'snapshot' && previous !== null && first <= previous) duplicates.push({ ...entry, previous });
    else if (entry.type === 'patch' && previous !== null && first !== previous + 1) gaps.push({ ...entry, first, previous });
    for (const s of numbers) seen.add(s);
    previous = entry.s;
  }
  const arrivals = new Map();
  for (const f of received) arrivals.set(f.s, (arrivals.get(f.s) ?? 0) + 1);
  return {
    gaps,
    duplicates,
    snapshots: applied.filter((e) => e.type === 'snapshot').length,
    patches: applied.filter((e) => e.type === 'patch').length,
    received: received.length,
    redundant: [...arrivals.values()].reduce((sum, n) => sum + n - 1, 0),
  };
}

/** The first differing line of two trees, with a little context. */
function treeDiff(mirror, page) {
  if (mirror === null || page === null) return `no tree in the ${mirror === null ? 'mirror' : 'page'}`;
  if (mirror === page) return 'the trees are equal';
  const a = mirror.split('\n');
  const b = page.split('\n');
  let line = 0;
  while (line < a.length && a[line] === b[line]) line++;
  const context = (lines) => lines.slice(Math.max(0, line - 3), line + 4).join('\n');
  return `trees differ at line ${line + 1} (mirror ${a.length} lines, page ${b.length})\n--- mirror ---\n${context(a)}\n--- page ---\n${context(b)}`;
}

const target = (node) => ({ port: Number(new URL(node.url).port) });
const since = (run, at) => `${at < run.t0 ? '-' : '+'}${(Math.abs(at - run.t0) / 1000).toFixed(1)}s`;

/**
 * Runs seeded faults until `until` (epoch ms): resets, delays, stalls and bandwidth caps on the three
 * proxies; node A SIGKILLed at 35% (a fresh node joins the balancers a few seconds later) and Redis
 * restarted empty at 65%. Logs every fault in `run.faults` and counts them in `run.counts`.
 */
async function injectFaults(run, rand, until) {
  const { proxies } = run;
  const duration = until - run.t0;
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const between = (lo, hi) => lo + rand() * (hi - lo);
  const log = (what, kind) => {
    run.faults.push({ at: Date.now() - run.t0, what });
    if (kind) run.counts[kind] = (run.counts[kind] ?? 0) + 1;
  };
  /** A fault that lasts `ms`: a newer one of the same kind on the same proxy replaces it. */
  const timed = (name, kind, set, on, off, ms, detail = '') => {
    const key = `${name} ${kind}`;
    clearTimeout(run.timers.get(key));
    proxies[name][set](on);
    log(`${kind}${detail} on ${name} for ${Math.round(ms)} ms`, kind);
    const timer = setTimeout(() => {
      // the fault lasts `ms`, on purpose
      run.timers.delete(key);
      proxies[name][set](off);
      log(`${kind} off on ${name}`);
    }, ms);
    run.timers.set(key, timer);
  };
  const pending = [];
  let killed = false;
  let restarted = false;
  while (Date.now() < until) {
    await sleep(between(150, 900)); // the fault schedule: seeded gaps between faults, on purpose
    if (Date.now() >= until) break;
    const elapsed = Date.now() - run.t0;
    if (!killed && elapsed >= 0.35 * duration) {
      killed = true;
      await run.nodes.a.kill();
      log(`SIGKILL node A (${run.nodes.a.url})`, 'node-kill');
      const downMs = between(2000, 4000);
      pending.push(
        (async () => {
          await sleep(downMs); // how long the node stays dead: part of the fault
          const { b } = run.nodes;
          const c = (run.nodes.c = await startNode(run.redisUrl));
          proxies.customer.setTargets([c, b].map(target));
          proxies.agent.setTargets([b, c].map(target));
          log(`node C started (${c.url}), behind the balancers in A's place`, 'node-start');
        })(),
      );
    } else if (!restarted && elapsed >= 0.65 * duration) {
      restarted = true;
      const { port } = run.redis;
      await run.redis.stop();
      log(`Redis stopped (port ${port})`, 'redis-restart');
      const downMs = between(500, 2000);
      pending.push(
        (async () => {
          await sleep(downMs); // how long Redis stays away: part of the fault
          run.redis = await startRedis({ port });
          log(`Redis started again on port ${port}, empty`);
        })(),
      );
    } else {
      const name = pick(['customer', 'agent', 'redis']);
      const proxy = proxies[name];
      const roll = rand();
      const index = rand(); // drawn whatever the roll, so the schedule does not depend on timing
      const live = proxy.connections;
      if (roll < 0.35) {
        if (proxy.resetOne((list) => list[Math.floor(index * list.length)])) log(`reset one of ${live} connections on ${name}`, 'reset');
      } else if (roll < 0.45) {
        proxy.resetAll();
        if (live) log(`reset all ${live} connections on ${name}`, 'reset-all');
      } else if (roll < 0.65) {
        const ms = Math.round(between(0, 300));
        timed(name, 'delay', 'setDelay', ms, 0, between(1000, 4000), ` ${ms} ms`);
      } else if (roll < 0.82) {
        timed(name, 'stall', 'stall', true, false, between(500, 3000));
      } else {
        const kb = Math.round(between(20, 200));
        timed(name, 'bandwidth', 'setBandwidth', kb * 1000, 0, between(2000, 5000), ` ${kb} KB/s`);
      }
    }
  }
  await Promise.all(pending);
}

/** Every fault off at once. */
function clearFaults(run) {
  for (const timer of run.timers.values()) clearTimeout(timer);
  run.timers.clear();
  for (const proxy of Object.values(run.proxies)) {
    proxy.setDelay(0);
    proxy.setBandwidth(0);
    proxy.stall(false);
  }
}

/** What a failure needs to be understood: the faults around it, both parties' timelines, the nodes' last words. */
async function diagnose(run, around) {
  const lines = [];
  const nearby = around === undefined ? run.faults.slice(-25) : run.faults.filter((f) => Math.abs(f.at - around) < 5000);
  lines.push(around === undefined ? 'the last 25 faults:' : `faults within 5 s of ${since(run, run.t0 + around)}:`);
  for (const f of nearby) lines.push(`  ${since(run, run.t0 + f.at)} ${f.what}`);
  for (const [name, party] of [
    ['agent viewer', run.agent],
    ['customer launcher', run.customer],
  ]) {
    const timeline = await party.page.evaluate(() => window.__timeline).catch(() => []);
    lines.push(`${name} timeline: ${timeline.map((e) => `${since(run, e.at)} ${e.what}`).join(', ')}`);
    if (party.errors.length) lines.push(`${name} page errors: ${party.errors.slice(-5).join(' | ')}`);
  }
  lines.push(`agent viewer message: "${await run.agent.page.evaluate(viewerMessage).catch(() => '?')}"`);
  for (const [name, proxy] of Object.entries(run.proxies)) lines.push(`${name} proxy: ${JSON.stringify(proxy.counts)}`);
  for (const [name, node] of Object.entries(run.nodes)) {
    const at = (entry) => Date.parse(entry.time) - run.t0;
    const logs = around === undefined ? node.logs.slice(-12) : node.logs.filter((e) => Math.abs(at(e) - around) < 5000).slice(-25);
    lines.push(`node ${name.toUpperCase()} (${node.url}) ${around === undefined ? 'last log lines' : 'log lines within 5 s'}:`);
    for (const entry of logs) lines.push(`  ${since(run, run.t0 + at(entry))} ${JSON.stringify(entry)}`);
  }
  return lines.join('\n');
}

/** Redis, its proxy, nodes A and B on it, a proxy per page over both nodes; the customer shares, the agent joins and is live. */
async function setUp(run, browser, pages) {
  run.redis = await startRedis();
  run.proxies.redis = await startFaultProxy({ port: run.redis.port });
  run.redisUrl = `redis://127.0.0.1:${run.proxies.redis.port}`;
  [run.nodes.a, run.nodes.b] = await Promise.all([startNode(run.redisUrl), startNode(run.redisUrl)]);
  // Round-robin from A for the customer and from B for the agent: they start on different nodes.
  run.proxies.customer = await startFaultProxy([run.nodes.a, run.nodes.b].map(target));
  run.proxies.agent = await startFaultProxy([run.nodes.b, run.nodes.a].map(target));

  run.customer = await openParty(browser, `${pages.url}/customer.html?relay=${run.proxies.customer.url()}`, { numbered: 'sent' });
  await run.customer.page.evaluate(watchLauncher);
  run.code = await startFromLauncher(run.customer.page);
  run.agent = await openParty(browser, `${pages.url}/agent.html?relay=${run.proxies.agent.url()}`, { numbered: 'received' });
  await run.agent.page.evaluate(joinAndWatch, run.code);
  await run.agent.page.waitForFunction(() => document.querySelector('cobrowse-viewer').state === 'live', null, { timeout: 15_000 });
}

/** Polls until the mirror's tree equals the page's, for at most `ms`; returns how long it took (null: never) and the last look. */
async function converge(run, ms) {
  const started = Date.now();
  for (;;) {
    const mirror = await run.agent.page.evaluate(churnTree, 'mirror');
    const page = await run.customer.page.evaluate(churnTree, 'page');
    if (mirror !== null && mirror === page) return { ms: Date.now() - started, mirror, page };
    if (Date.now() - started > ms) return { ms: null, mirror, page };
    await sleep(100); // the poll's interval
  }
}

const FAULT_KINDS = ['reset', 'reset-all', 'delay', 'stall', 'bandwidth', 'node-kill', 'node-start', 'redis-restart'];

async function chaos(seed, browser, pages) {
  const run = { faults: [], counts: {}, timers: new Map(), nodes: {}, proxies: {} };
  try {
    await setUp(run, browser, pages);
    // The harness must see the two trees alike before any fault, or it is the comparison that is wrong.
    await run.customer.page.evaluate(churn, { seed, max: MAX_ELEMENTS, random: String(random) });
    await sleep(500); // half a second of churn on purpose, for the calm comparison
    await run.customer.page.evaluate(() => window.__churn.stop());
    const calm = await converge(run, 5000);
    if (calm.ms === null) assert.fail(`before any fault the mirror does not match the page:\n${treeDiff(calm.mirror, calm.page)}`);

    await run.customer.page.evaluate(churn, { seed: seed + 1000, max: MAX_ELEMENTS, random: String(random) });
    run.t0 = Date.now();
    await injectFaults(run, random(seed), run.t0 + SECONDS * 1000);
    clearFaults(run);
    const churned = await run.customer.page.evaluate(() => window.__churn.stop());
    run.faults.push({ at: Date.now() - run.t0, what: 'all faults cleared, churn stopped' });
    const end = await converge(run, CONVERGE_MS);

    const applied = await run.agent.page.evaluate(() => window.__applied);
    const check = checkApplied(applied, run.agent.frames);
    const launcher = await run.customer.page.evaluate(launcherStatus);
    const state = await run.agent.page.evaluate(viewerState);
    const timelines = {
      agent: await run.agent.page.evaluate(() => window.__timeline),
      customer: await run.customer.page.evaluate(() => window.__timeline),
    };
    /** When a party first ended or failed, for the fault log around it. */
    const wentWrong = (timeline) => {
      const entry = timeline.find((e) => /^(ended|error|idle)/.test(e.what));
      return entry && entry.at - run.t0;
    };
    const sessions = await run.agent.page.evaluate(() => window.__sessions);

    console.log(`seed ${seed}: ${SECONDS} s of faults: ${FAULT_KINDS.map((kind) => `${kind} ${run.counts[kind] ?? 0}`).join(', ')}`);
    console.log(
      `seed ${seed}: churn ${churned.batches} batches, ${churned.ops} operations (${churned.elements} elements at the end); ` +
        `the customer sent ${run.customer.frames.length} numbered frames, the agent received ${check.received} ` +
        `(${check.redundant} duplicates, skipped) and applied ${check.patches} patches and ${check.snapshots} snapshots; ` +
        `WebSocket connections: customer ${run.customer.sockets}, agent ${run.agent.sockets}; viewer ${state}, launcher ${launcher.state}`,
    );
    console.log(
      `lost: ${check.gaps.length}, duplicated: ${check.duplicates.length}, converged: ${end.ms === null ? `no (not within ${CONVERGE_MS} ms)` : `yes (${end.ms} ms)`}`,
    );

    const failures = [];
    const fail = (what, at, detail) => failures.push({ what, at, detail });
    if (check.gaps.length) fail('patches applied over a sequence gap', check.gaps[0].at - run.t0, check.gaps);
    if (check.duplicates.length) fail('frame numbers applied twice', check.duplicates[0].at - run.t0, check.duplicates);
    if (end.ms === null) {
      const last = (list) =>
        list
          .slice(-4)
          .map((f) => `${f.t} ${f.s} at ${since(run, f.at)}`)
          .join(', ');
      fail(
        `no convergence within ${CONVERGE_MS} ms of the faults stopping\n${treeDiff(end.mirror, end.page)}\n` +
          `last numbered frames sent by the customer: ${last(run.customer.frames)}\n` +
          `last received by the agent: ${last(run.agent.frames)}\n` +
          `last applied: ${last(applied.map((e) => ({ ...e, t: e.type })))}`,
      );
    }
    if (launcher.code !== run.code) fail(`the session changed its ID: ${run.code} → "${launcher.code}"`);
    const created = timelines.customer.filter((e) => e.what.startsWith('created'));
    if (created.length > 1)
      fail(`the launcher made ${created.length} sessions: ${created.map((e) => e.what).join(', ')}`, created[1].at - run.t0);
    // Idle: the launcher let go of the session (its socket was closed as replaced by another tab's).
    if (['ended', 'error', 'idle'].includes(launcher.state))
      fail(`the launcher is in state ${launcher.state}`, wentWrong(timelines.customer));
    if (['ended', 'error'].includes(state)) fail(`the viewer is in state ${state}`, wentWrong(timelines.agent));
    if (sessions !== 1) fail(`the viewer made ${sessions} AgentSessions (one expected)`);
    // Not one of the issue's invariants, but worth seeing: a viewer that says "waiting" over a live mirror.
    if (end.ms !== null && state !== 'live') {
      const timeline = await run.agent.page.evaluate(() => window.__timeline.slice(-6));
      console.log(
        `note: the mirror matches, but the viewer is "${state}" ("${await run.agent.page.evaluate(viewerMessage)}"); ` +
          `its last states: ${timeline.map((e) => `${since(run, e.at)} ${e.what}`).join(', ')}`,
      );
    }
    if (!failures.length) return;

    const report = [];
    for (const { what, at, detail } of failures) {
      report.push(`INVARIANT FAILED: ${what}${at === undefined ? '' : ` (first at ${since(run, run.t0 + at)})`}`);
      for (const d of detail?.slice(0, 5) ?? []) report.push(`  ${JSON.stringify({ ...d, at: since(run, d.at) })}`);
    }
    // The faults and logs around the first thing that went wrong (else the last ones).
    const first = Math.min(...failures.map(({ at }) => at ?? Infinity));
    report.push(await diagnose(run, Number.isFinite(first) ? first : undefined));
    console.log(report.join('\n'));
    assert.fail(`seed ${seed}: ${failures.map(({ what }) => what.split('\n')[0]).join('; ')}`);
  } finally {
    clearFaults(run);
    await run.customer?.context.close();
    await run.agent?.context.close();
    await Promise.all(Object.values(run.nodes).map((node) => node.kill()));
    await Promise.all(Object.values(run.proxies).map((proxy) => proxy.close()));
    await run.redis?.stop();
  }
}

describe('chaos: faults between pages, relays and Redis', () => {
  let browser, pages;

  before(async () => {
    const agentBundle = readFileSync(DIST + 'cobrowse-agent.js', 'utf8');
    assert.ok(agentBundle.includes('"applied"'), 'dist/cobrowse-agent.js predates the `applied` event: run `npm run build`');
    pages = await startPages();
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await pages?.close();
  });

  for (const seed of SEEDS) {
    it(
      `seed ${seed}: ${SECONDS} s of faults, a node killed, Redis restarted: the mirror converges, nothing lost or applied twice`,
      { timeout: SECONDS * 1000 + 180_000 },
      () => chaos(seed, browser, pages),
    );
  }
});

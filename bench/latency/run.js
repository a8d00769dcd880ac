/**
 * End-to-end latency, customer's page → relay → agent's page, for our product and for rrweb,
 * in one browser so both pages share a clock. Run from bench/engine/run.js (`--only=latency`);
 * see bench/engine/README.md ("Latency") for what is measured and how.
 */
import { build } from 'esbuild';
import { createServer } from 'node:http';
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { startRelay } from '../../dist/relay/index.js';
import { generatedPage } from '../engine/pages.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const BUILD_DIR = fileURLToPath(new URL('../.build/', import.meta.url));
const LIBS = ['ours', 'rrweb'];
/** Changes per second for the DOM-change rows. */
export const RATES = [10, 100, 1000];
/** The one-frame goal for p99 at 100 changes/s. */
export const FRAME_MS = 16.7;
/** Generated page size (nodes) that holds about 10,000 elements. */
const TYPING_PAGE_NODES = 16_400;

async function buildBundles() {
  await mkdir(BUILD_DIR, { recursive: true });
  await build({
    entryPoints: { 'latency-ours': `${here}browser/ours.ts`, 'latency-rrweb': `${here}browser/rrweb.ts` },
    outdir: BUILD_DIR,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: false,
    legalComments: 'none',
    conditions: ['production'],
    // package.json's sideEffects list names the built files; bundled from source, the elements' registrations must stay.
    ignoreAnnotations: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
}

/** The customer's pages: 100 slots the changes write into, or a 10,000-element page with a field to type in. */
function customerPage(kind, script) {
  const ready = '<i id="bench-ready"></i>';
  if (kind === 'typing') {
    return generatedPage(TYPING_PAGE_NODES, script).replace(
      '<body>',
      `<body><input id="typing" type="text" autocomplete="off" aria-label="Typing">${ready}`,
    );
  }
  const slots = `<div id="slots">${'<span>-</span> '.repeat(100)}</div>${ready}`;
  return generatedPage(1000, script).replace('</body>', `${slots}</body>`);
}

/** Pages and bundles on one origin (the two pages talk over a BroadcastChannel to share a clock). */
function serve() {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const lib = LIBS.includes(url.searchParams.get('lib')) ? url.searchParams.get('lib') : 'ours';
    const script = `<script src="/build/latency-${lib}.js"></script>`;
    try {
      if (/^\/build\/latency-(ours|rrweb)\.js$/.test(url.pathname)) {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        return res.end(await readFile(`${BUILD_DIR}${url.pathname.slice('/build/'.length)}`));
      }
      const html = (body) => (
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }),
        res.end(body)
      );
      if (url.pathname === '/customer.html') return html(customerPage(url.searchParams.get('page'), script));
      if (url.pathname === '/agent.html')
        return html(
          `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Agent</title>${script}</head><body style="margin:0"></body></html>`,
        );
      if (url.pathname === '/style.css') return (res.writeHead(200, { 'content-type': 'text/css' }), res.end(''));
      res.writeHead(url.pathname.startsWith('/img/') || url.pathname === '/favicon.ico' ? 204 : 404);
      res.end();
    } catch (error) {
      res.writeHead(500);
      res.end(String(error));
    }
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ origin: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) }),
    ),
  );
}

/**
 * rrweb's "relay": a bare `ws` forwarder. Every text message goes to the other sockets of its
 * room (`?room=`), as is — no envelope, no checks, no session state.
 */
function startForwarder() {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  const rooms = new Map();
  wss.on('connection', (socket, req) => {
    const room = new URL(req.url, 'http://localhost').searchParams.get('room') ?? '';
    if (!rooms.has(room)) rooms.set(room, new Set());
    const peers = rooms.get(room);
    peers.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => peers.delete(socket));
    socket.on('message', (data, isBinary) => {
      for (const peer of peers) if (peer !== socket && peer.readyState === peer.OPEN) peer.send(data, { binary: isBinary });
    });
  });
  return new Promise((resolve) =>
    wss.on('listening', () =>
      resolve({
        url: `ws://127.0.0.1:${wss.address().port}/`,
        close: () => new Promise((r) => (wss.clients.forEach((c) => c.terminate()), wss.close(r))),
      }),
    ),
  );
}

const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : null);

/** A customer page and an agent page of `lib` in one browser context, sharing; returns both pages and the clock offset. */
async function openSession(browser, { origin, relayUrl, forwarderUrl }, lib, kind, issues) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const pages = [];
  for (const role of ['customer', 'agent']) {
    const page = await context.newPage();
    page.on('pageerror', (e) => issues.push(`latency ${lib} ${role}: page error: ${e.message}`));
    page.on(
      'console',
      (msg) => msg.type() === 'error' && issues.push(`latency ${lib} ${role}: console error: ${msg.text().slice(0, 160)}`),
    );
    await page.goto(`${origin}/${role}.html?lib=${lib}&role=${role}${role === 'customer' ? `&page=${kind}` : ''}`, {
      waitUntil: 'load',
      timeout: 120_000,
    });
    pages.push(page);
  }
  const [customer, agent] = pages;
  if (lib === 'ours') {
    const code = await customer.evaluate((url) => window.__latency.share(url), relayUrl);
    await agent.evaluate(([url, code]) => window.__latency.join(url, code), [relayUrl, code]);
  } else {
    const room = `${forwarderUrl}?room=${kind}-${Date.now()}`;
    const joined = agent.evaluate((url) => window.__latency.join(url, ''), room);
    await agent.waitForFunction(() => window.__joined);
    await customer.evaluate((url) => window.__latency.share(url), room);
    await joined;
  }
  const clock = await customer.evaluate(() => window.__latency.syncClock());
  return { context, customer, agent, clock };
}

/** Latencies (ms) of the changes or keys `made` (customer clock) that arrived (agent clock). */
function latencies(made, arrivals, offset, key) {
  const arrived = new Map(arrivals);
  const out = [];
  let lost = 0;
  made.forEach((t, i) => {
    const at = arrived.get(key(i));
    if (at === undefined) lost++;
    else out.push(at - offset - t);
  });
  return { sorted: out.sort((a, b) => a - b), lost };
}

/** Waits until every one of `keys` has arrived at the agent, or `ms` pass. */
async function settle(agent, field, keys, ms = 10_000) {
  const want = new Set(keys);
  const start = Date.now();
  for (;;) {
    const got = (await agent.evaluate(() => window.__latency.arrivals()))[field];
    if (got.filter(([k]) => want.has(k)).length >= want.size || Date.now() - start > ms) return got;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The latency rows: for each engine, a DOM change to the mirror showing it at 10, 100 and
 * 1,000 changes/s (p50, p99), and a keystroke every 50 ms on a 10,000-element page.
 */
export async function benchLatency({ browser, results, opts, log }) {
  const count = opts.quick ? 100 : 1000;
  const typingMs = opts.quick ? 5000 : 30_000;
  await buildBundles();
  const [server, relay, forwarder] = await Promise.all([serve(), startRelay({ port: 0, log: () => {} }), startForwarder()]);
  const where = { origin: server.origin, relayUrl: relay.url, forwarderUrl: forwarder.url };
  const issues = [];
  const clocks = [];
  const p99At100 = {};
  try {
    for (const lib of LIBS) {
      log(`• latency: ${lib}, ${count} DOM changes at ${RATES.join(', ')} per second`);
      const s = await openSession(browser, where, lib, 'changes', issues);
      clocks.push(s.clock);
      // A short warm-up (dropped): code paths compiled, sockets busy once.
      await s.customer.evaluate(() => window.__latency.changes(1_000_000, 50, 100));
      let base = 0;
      for (const rate of RATES) {
        base += 10_000;
        const made = await s.customer.evaluate(([b, n, r]) => window.__latency.changes(b, n, r), [base, count, rate]);
        const arrivals = await settle(
          s.agent,
          'slots',
          made.map((_, i) => base + i),
        );
        const { sorted, lost } = latencies(made, arrivals, s.clock.offset, (i) => base + i);
        if (lost)
          results.note(
            `latency ${rate} changes/s: ${lost} of ${count} changes never showed in ${lib}'s mirror (overwritten in their slot first, or lost).`,
          );
        results.add(`latency DOM change → mirror @${rate}/s: p50`, 'ms', 0, lib, percentile(sorted, 50));
        results.add(`latency DOM change → mirror @${rate}/s: p99`, 'ms', 0, lib, percentile(sorted, 99));
        if (rate === 100) p99At100[lib] = percentile(sorted, 99);
      }
      await s.context.close();

      log(`• latency: ${lib}, a keystroke every 50 ms for ${typingMs / 1000} s on a 10,000-element page`);
      const k = await openSession(browser, where, lib, 'typing', issues);
      clocks.push(k.clock);
      const elements = await k.customer.evaluate(() => document.body.getElementsByTagName('*').length);
      results.note(`Keystroke page: ${elements.toLocaleString('en-US')} elements in <body>.`);
      await k.customer.evaluate(() => window.__latency.startKeys());
      const keys = Math.round(typingMs / 50);
      const start = Date.now();
      for (let i = 0; i < keys; i++) {
        const wait = start + i * 50 - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        await k.customer.keyboard.press(String.fromCharCode(97 + (i % 26)));
      }
      const made = await k.customer.evaluate(() => window.__latency.keys());
      const arrivals = await settle(
        k.agent,
        'values',
        made.map((_, i) => i + 1),
      );
      const { sorted, lost } = latencies(made, arrivals, k.clock.offset, (i) => i + 1);
      if (lost)
        results.note(`latency keystrokes: ${lost} of ${made.length} values never showed in ${lib}'s mirror (a later one came first).`);
      results.add('latency keystroke → mirror, 10k elements: p50', 'ms', 0, lib, percentile(sorted, 50));
      results.add('latency keystroke → mirror, 10k elements: p99', 'ms', 0, lib, percentile(sorted, 99));
      await k.context.close();
    }
  } finally {
    await Promise.all([server.close(), relay.close(), forwarder.close()]);
  }
  const worst = clocks.reduce((a, c) => (Math.abs(c.offset) > Math.abs(a.offset) ? c : a), clocks[0] ?? { offset: 0, rtt: 0 });
  results.note(
    `Latency: ${count} changes per rate, one session per engine (customer and agent pages as two tabs of one browser context, one origin); ` +
      `times are performance.timeOrigin + now() in each page, the agent page's clock offset (largest |offset| ${worst.offset.toFixed(3)} ms, probe round trip ${worst.rtt.toFixed(3)} ms over a BroadcastChannel) taken off. ` +
      `Goal: p99 within one frame (${FRAME_MS} ms) at 100 changes/s — ours ${p99At100.ours?.toFixed(1)} ms ${p99At100.ours <= FRAME_MS ? '✓' : '✗'}, rrweb ${p99At100.rrweb?.toFixed(1)} ms.`,
  );
  results.note(
    "Latency transport: ours through our relay (envelopes checked, frames validated); rrweb through a bare ws forwarder started beside it (no checks), because our relay accepts only our protocol frames. rrweb's Replayer runs live with no buffer (startLive before the customer records; both pages share one clock), so each event is cast in the first animation frame after it arrives.",
  );
  for (const issue of [...new Set(issues)].slice(0, 6)) results.note(issue);
}

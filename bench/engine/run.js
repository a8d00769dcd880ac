#!/usr/bin/env node
/**
 * `npm run bench` — our mirroring engine against rrweb 2.2.1, in one headless Chromium run.
 *
 *   npm run bench                      full run (≈10 min on 2 cores, half of it latency), prints a table
 *   npm run bench -- --json            only a JSON array of { name, unit, ours, rrweb, ratio }
 *   npm run bench -- --quick           fewer runs, smaller pages, a 2 s storm (development)
 *   npm run bench -- --runs=7          measured runs per engine (a warm-up run is added and dropped)
 *   npm run bench -- --storm-seconds=5 attribute storm duration (default 10)
 *   npm run bench -- --only=snapshot,workloads,storm,heap,latency
 *   npm run bench -- --verbose         also prints every sample, in run order
 *   npm run bench -- --profile[=attributes,add-and-move,snapshot,storm]
 *                                      CPU profiles of both engines; prints the hot functions
 *
 * See bench/engine/README.md for what is measured and how.
 */
import { chromium } from 'playwright-core';
import { CHROME_ARGS, CHROME_PATH } from '../../test/helpers/chromium.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHarness } from './build.js';
import { serve } from './server.js';
import { WORKLOADS, framePage } from './pages.js';
import { readFile } from 'node:fs/promises';
import { profileAll } from './profile.js';
import { benchLatency } from '../latency/run.js';

// ─── Options ──────────────────────────────────────────────────────────────────

function parseArgs(argv) {
  const flags = new Map();
  for (const arg of argv) {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`Unknown argument: ${arg}`);
    flags.set(m[1], m[2] ?? true);
  }
  const known = ['json', 'quick', 'runs', 'storm-seconds', 'only', 'profile', 'sizes', 'verbose'];
  for (const key of flags.keys()) if (!known.includes(key)) throw new Error(`Unknown option --${key} (known: ${known.join(', ')})`);
  const quick = flags.has('quick');
  const only = flags.has('only')
    ? new Set(String(flags.get('only')).split(','))
    : new Set(['snapshot', 'workloads', 'storm', 'heap', 'latency']);
  return {
    json: flags.has('json'),
    verbose: flags.has('verbose'),
    quick,
    runs: Number(flags.get('runs') ?? (quick ? 2 : 5)),
    stormSeconds: Number(flags.get('storm-seconds') ?? (quick ? 2 : 10)),
    sizes: flags.has('sizes') ? String(flags.get('sizes')).split(',').map(Number) : quick ? [1000, 10000] : [1000, 10000, 100000],
    only,
    profile: flags.has('profile') ? (flags.get('profile') === true ? null : String(flags.get('profile')).split(',')) : undefined,
    mutations: 10000,
    iframes: 100,
  };
}

/** Chromium as the tests start it (test/helpers/chromium.js), with gc() exposed for the heap rows. */
export const LAUNCH = { executablePath: CHROME_PATH, args: [...CHROME_ARGS, '--js-flags=--expose-gc'] };

const LIBS = ['ours', 'rrweb'];
const log = (...args) => process.stderr.write(`${args.join(' ')}\n`);

// ─── Statistics and table ─────────────────────────────────────────────────────

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Collected samples: name → { unit, goal, ours: [], rrweb: [] }, in insertion order. */
class Results {
  rows = new Map();
  notes = [];
  add(name, unit, goal, lib, value) {
    if (!this.rows.has(name)) this.rows.set(name, { unit, goal, ours: [], rrweb: [] });
    this.rows.get(name)[lib].push(value);
  }
  note(text) {
    if (!this.notes.includes(text)) this.notes.push(text);
  }
  table() {
    return [...this.rows].map(([name, { unit, goal, ours, rrweb }]) => {
      const o = median(ours);
      const r = median(rrweb);
      const ratio = o === null || r === null || r === 0 ? null : o / r;
      return {
        name,
        unit,
        ours: round(o),
        rrweb: round(r),
        ratio: ratio === null ? null : Math.round(ratio * 1000) / 1000,
        goal,
        samples: { ours, rrweb },
      };
    });
  }
}

const round = (x) => (x === null ? null : Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 100) / 100);
const fmt = (x) => (x === null ? '—' : Math.abs(x) >= 1000 ? Math.round(x).toLocaleString('en-US') : String(x));

function printTable(rows, notes, meta) {
  const w = Math.max(...rows.map((r) => r.name.length), 10);
  const line = (cells) => cells.join('  ');
  const head = line(['name'.padEnd(w), 'unit'.padEnd(9), 'ours'.padStart(12), 'rrweb'.padStart(12), 'ratio'.padStart(7), 'goal']);
  const out = [
    `\nEngine benchmark — ours vs rrweb ${meta.rrweb} · Chromium ${meta.chromium} · medians of ${meta.runs} runs each (A B A B…, warm-up dropped)`,
    '',
    head,
    '-'.repeat(head.length),
  ];
  for (const r of rows) {
    const goal = r.goal ? (r.ratio === null ? `≤ ${r.goal}` : r.ratio <= r.goal ? `≤ ${r.goal} ✓` : `≤ ${r.goal} ✗`) : '';
    out.push(
      line([
        r.name.padEnd(w),
        r.unit.padEnd(9),
        fmt(r.ours).padStart(12),
        fmt(r.rrweb).padStart(12),
        (r.ratio === null ? '—' : r.ratio.toFixed(2)).padStart(7),
        goal,
      ]),
    );
  }
  if (meta.verbose) {
    out.push('', 'Samples (run order):');
    for (const r of rows)
      out.push(
        `  ${r.name}\n    ours  ${r.samples.ours.map((x) => round(x)).join(', ')}\n    rrweb ${r.samples.rrweb.map((x) => round(x)).join(', ')}`,
      );
  }
  if (notes.length) {
    out.push('', 'Notes:');
    notes.forEach((n, i) => out.push(`  ${i + 1}. ${n}`));
  }
  out.push('');
  process.stdout.write(out.join('\n') + '\n');
}

// ─── Running pages ────────────────────────────────────────────────────────────

export async function openBrowser() {
  // Chromium writes into ~/.config and ~/.cache: keep that out of the user's home.
  const home = await mkdtemp(join(tmpdir(), 'cobrowse-bench-'));
  const browser = await chromium.launch({
    ...LAUNCH,
    env: { ...process.env, XDG_CONFIG_HOME: join(home, 'config'), XDG_CACHE_HOME: join(home, 'cache') },
  });
  return {
    browser,
    async close() {
      await browser.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}

/**
 * One long-lived page per engine, each in a browser context (so a renderer process) of its
 * own: every run navigates it afresh, so each run gets a new document and JS realm, while
 * process start-up is paid once and never lands in a measurement.
 */
export async function openTabs(browser, libs, issues) {
  const tabs = {};
  for (const lib of libs) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    page.on('pageerror', (e) => issues.push(`${lib}: page error at ${page.url().replace(/^https?:\/\/[^/]+/, '')}: ${e.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning')
        issues.push(`${lib}: console ${msg.type()} at ${page.url().replace(/^https?:\/\/[^/]+/, '')}: ${msg.text().slice(0, 160)}`);
    });
    tabs[lib] = {
      page,
      cdp,
      /** Navigates to `url` and runs `fn(page, cdp)` there. */
      async on(url, fn) {
        await page.goto(url, { waitUntil: 'load', timeout: 120_000 });
        return fn(page, cdp);
      },
    };
  }
  return tabs;
}

/**
 * `runs` alternating rounds: ours, rrweb, ours, rrweb… With `warmup`, a first round whose
 * figures are dropped. Each section warms up once, on its first case: what a warm-up warms
 * (the renderer process, the bundle's code cache, the HTTP cache) is shared by all its cases.
 */
async function alternate(runs, each, warmup = true) {
  for (let rep = warmup ? -1 : 0; rep < runs; rep++) {
    for (const lib of LIBS) await each(lib, rep < 0);
  }
}

async function measureHeap(cdp) {
  for (let i = 0; i < 3; i++) await cdp.send('HeapProfiler.collectGarbage');
  const heap = await cdp.send('Runtime.getHeapUsage');
  const dom = await cdp.send('Memory.getDOMCounters');
  return { js: heap.usedSize, nodes: dom.nodes, documents: dom.documents, listeners: dom.jsEventListeners };
}

// ─── The benchmarks ───────────────────────────────────────────────────────────

const SIZE_LABEL = (n) => (n >= 1000 ? `${n / 1000}k` : String(n));

async function benchSnapshots(ctx) {
  const { tabs, origin, opts, results } = ctx;
  for (const [i, size] of opts.sizes.entries()) {
    const label = `snapshot ${SIZE_LABEL(size)} nodes`;
    log(`• ${label}`);
    await alternate(
      opts.runs,
      async (lib, warmup) => {
        const rec = await tabs[lib].on(`${origin}/generated/${size}.html?lib=${lib}`, (page) =>
          page.evaluate(() => window.__bench.snapshot()),
        );
        const app = await tabs[lib].on(`${origin}/mirror.html?lib=${lib}`, (page) =>
          page.evaluate(([frames]) => window.__bench.apply(frames, frames.length), [rec.frames]),
        );
        if (app.loadedElements !== rec.elements)
          results.note(`${label}: ${lib}'s mirror has ${app.loadedElements} body elements, the page ${rec.elements}.`);
        if (warmup) return;
        results.add(`${label}: time (record start)`, 'ms', 0.5, lib, rec.firstMs);
        results.add(`${label}: time (resnapshot)`, 'ms', 0.5, lib, rec.againMs);
        results.add(`${label}: size`, 'bytes', 0.5, lib, rec.bytes);
        results.add(`${label}: mirror apply`, 'ms', 0.7, lib, app.loadMs);
        results.note(
          `Generated pages: ${SIZE_LABEL(size)} = ${rec.nodes.toLocaleString('en-US')} DOM nodes (${rec.elements.toLocaleString('en-US')} elements in <body>).`,
        );
      },
      i === 0,
    );
  }
}

async function benchWorkloads(ctx) {
  const { tabs, origin, opts, results } = ctx;
  for (const [i, [name, file]] of WORKLOADS.entries()) {
    log(`• mutation ${name}`);
    await alternate(
      opts.runs,
      async (lib, warmup) => {
        const rec = await tabs[lib].on(`${origin}/workload/${file}?lib=${lib}`, (page) => page.evaluate(() => window.__bench.workload()));
        const app = await tabs[lib].on(`${origin}/mirror.html?lib=${lib}`, (page) =>
          page.evaluate(([frames, first]) => window.__bench.apply(frames, first), [rec.frames, rec.firstPatch]),
        );
        if (app.elements !== rec.elements)
          results.note(
            `mutation ${name}: ${lib}'s mirror ended with ${app.elements} body elements, the page with ${rec.elements} (did not converge).`,
          );
        if (app.outOfStep) results.note(`mutation ${name}: ${lib}'s mirror reported ${app.outOfStep} patch(es) out of step.`);
        if (warmup) return;
        results.add(`mutation ${name}: record`, 'ms', 0.5, lib, rec.timeMs);
        results.add(`mutation ${name}: recorder callback`, 'ms', 0.5, lib, rec.callbackMs);
        results.add(`mutation ${name}: size`, 'bytes', 0.5, lib, rec.bytes);
        results.add(`mutation ${name}: mirror apply`, 'ms', 0.7, lib, app.applyMs);
      },
      i === 0,
    );
  }
  results.note(
    '"record" runs from the workload\'s start to the last event emitted (it includes the workload\'s own DOM work, the same for both); "recorder callback" is only the engine\'s MutationObserver callback (workload return → next microtask).',
  );
}

async function benchStorm(ctx) {
  const { tabs, origin, opts, results } = ctx;
  log(`• attribute storm (${opts.stormSeconds} s per run)`);
  const fps = { ours: [], rrweb: [] };
  const update = { ours: [], rrweb: [] };
  await alternate(opts.runs, async (lib, warmup) => {
    const seconds = warmup ? Math.min(1, opts.stormSeconds) : opts.stormSeconds;
    const r = await tabs[lib].on(`${origin}/storm.html?lib=${lib}`, (page) =>
      page.evaluate((ms) => window.__bench.storm(ms), seconds * 1000),
    );
    if (warmup) return;
    results.add('attribute storm 200 dots @60 Hz: recorder time', 'ms/s', 0.5, lib, r.recorderMsPerSec);
    results.add('attribute storm 200 dots @60 Hz: size', 'bytes/s', 0.5, lib, r.bytesPerSec);
    fps[lib].push(r.fps);
    update[lib].push(r.updateMsPerSec);
  });
  results.note(
    `Attribute storm: ${opts.stormSeconds} s per run; frames per second ours ${median(fps.ours)?.toFixed(1)}, rrweb ${median(fps.rrweb)?.toFixed(1)}; ` +
      `the page's own style updates cost ${median(update.ours)?.toFixed(1)} ms/s (ours) and ${median(update.rrweb)?.toFixed(1)} ms/s (rrweb) — rrweb observes with attributeOldValue, which makes every update dearer.`,
  );
}

async function benchHeap(ctx) {
  const { tabs, origin, opts, results } = ctx;
  const frame = framePage();
  const baseline = { mutations: [], iframes: [], iframeDocs: [] };
  const kinds = [
    // Mutations warm up with a full round of other mutations (hash tables and code reach their size), iframes with ten cycles.
    [
      'mutations',
      `heap after ${opts.mutations.toLocaleString('en-US')} mutations`,
      ([n, seed]) => window.__bench.mutations(n, seed),
      [opts.mutations, 2],
      [opts.mutations, 1],
    ],
    [
      'iframes',
      `heap after ${opts.iframes} iframe mount/unmount`,
      ([n, html]) => window.__bench.iframes(n, html),
      [opts.iframes, frame],
      [Math.ceil(opts.iframes / 10), frame],
    ],
  ];
  for (const [kind, label, work, args, warmArgs] of kinds) {
    log(`• ${label}`);
    // No dropped warm-up round here: each run warms up in the page before measuring.
    for (let rep = 0; rep < opts.runs; rep++) {
      // The page alone (no recorder) once: it is a footnote, not a row.
      for (const lib of rep === 0 ? ['none', ...LIBS] : LIBS) {
        const r = await tabs[lib].on(`${origin}/heap.html?lib=${lib}`, async (page, cdp) => {
          await page.evaluate(() => window.__bench.startDiscarding());
          await page.evaluate(work, warmArgs);
          const before = await measureHeap(cdp);
          await page.evaluate(work, args);
          const after = await measureHeap(cdp);
          await page.evaluate(() => window.__bench.stopRecording());
          return {
            js: (after.js - before.js) / 1024,
            nodes: after.nodes - before.nodes,
            documents: after.documents - before.documents,
            listeners: after.listeners - before.listeners,
          };
        });
        if (lib === 'none') {
          baseline[kind].push(r.js);
          if (kind === 'iframes') baseline.iframeDocs.push(r.documents);
          continue;
        }
        results.add(`${label}: JS heap growth`, 'KB', 0, lib, r.js);
        results.add(`${label}: DOM nodes kept`, 'nodes', 0, lib, r.nodes);
        if (kind === 'iframes') {
          results.add(`${label}: documents kept`, 'documents', 0, lib, r.documents);
          results.add(`${label}: event listeners kept`, 'listeners', 0, lib, r.listeners);
        }
      }
    }
  }
  results.note(
    `Heap: JS heap (Runtime.getHeapUsage) and DOM counters (Memory.getDOMCounters) after forced GC, before and after the work, while recording and dropping what is emitted; ` +
      `each run first warms up (a first round of ${opts.mutations.toLocaleString('en-US')} other mutations; ${Math.ceil(opts.iframes / 10)} iframe cycles), so the figures are what the work keeps, not first-use growth. ` +
      `Without any recorder the page alone grows ${median(baseline.mutations)?.toFixed(1)} KB (mutations) and ${median(baseline.iframes)?.toFixed(1)} KB / ${median(baseline.iframeDocs)} documents (iframes). No goal ratio: a figure near that baseline means no leak. The iframes are srcdoc documents (same origin).`,
  );
}

const FEATURE_NOTES = [
  'Coverage: both engines record same-origin iframes and open shadow roots. rrweb also inlines <link rel=stylesheet> CSS into its snapshot (we send the URL; the generated pages link a 0.2 KB sheet) and records mouse, selection and focus events (none happen here).',
  'Masking: rrweb with its defaults (masks password inputs); ours with the default Masker (passwords, hidden and payment/one-time-code fields). The generated pages have a password input on every 10th card.',
  'Apply: ours = Mirror.applySnapshot/applyPatch on parsed frames (the viewer also runs checkFrame() per frame, not timed here); rrweb = Replayer in live mode fed with addEvent(), timed inside rebuildFullSnapshot/applyIncremental (what its live timer calls), so its state machine and timer overhead are not counted.',
  "Runs: one long-lived tab per engine (its own browser context and renderer process), navigated afresh for every run; ours and rrweb alternate run by run; each section starts with a dropped warm-up round. Mirrors are built in a display:none container, so no apply figure includes the browser's style, layout or paint of the mirrored page.",
];

// ─── Main ─────────────────────────────────────────────────────────────────────

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  log('Building the harness (esbuild)…');
  await buildHarness();
  const server = await serve();
  const { browser, close } = await openBrowser();
  const issues = [];
  try {
    if (opts.profile !== undefined) {
      await profileAll({ browser, origin: server.origin, names: opts.profile, quick: opts.quick });
      return;
    }
    const results = new Results();
    const loadAtStart = loadavg()[0];
    const tabs = await openTabs(browser, ['none', ...LIBS], issues);
    const ctx = { browser, tabs, origin: server.origin, opts, results, log };
    const sections = { snapshot: benchSnapshots, workloads: benchWorkloads, storm: benchStorm, heap: benchHeap, latency: benchLatency };
    for (const [name, bench] of Object.entries(sections)) {
      if (!opts.only.has(name)) continue;
      const t = Date.now();
      await bench(ctx);
      log(`  (${name}: ${Math.round((Date.now() - t) / 1000)} s)`);
    }
    for (const n of FEATURE_NOTES) results.note(n);
    results.note(
      `Machine: ${availableParallelism()} cores; load average ${loadAtStart.toFixed(1)} at the start and ${loadavg()[0].toFixed(1)} at the end` +
        (Math.max(loadAtStart, loadavg()[0]) > availableParallelism()
          ? ' — other processes competed for the CPU, so absolute times are inflated and noisier (ratios hold better).'
          : '.'),
    );
    const counted = new Map();
    for (const issue of issues) counted.set(issue, (counted.get(issue) ?? 0) + 1);
    for (const [issue, count] of [...counted].slice(0, 8)) results.note(`${issue}${count > 1 ? ` (×${count})` : ''}`);
    if (counted.size > 8) results.note(`…and ${counted.size - 8} other console messages.`);
    const rows = results.table();
    const rrwebVersion = JSON.parse(await readFile(new URL('../../node_modules/rrweb/package.json', import.meta.url), 'utf8')).version;
    if (opts.json) {
      process.stdout.write(
        JSON.stringify(
          rows.map(({ name, unit, ours, rrweb, ratio }) => ({ name, unit, ours, rrweb, ratio })),
          null,
          2,
        ) + '\n',
      );
    } else {
      printTable(rows, results.notes, { rrweb: rrwebVersion, chromium: browser.version(), runs: opts.runs, verbose: opts.verbose });
    }
    log(`Done in ${Math.round((Date.now() - started) / 1000)} s.`);
  } finally {
    await close();
    await server.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

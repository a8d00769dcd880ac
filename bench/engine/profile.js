/**
 * `npm run bench -- --profile[=names]`: CPU profiles (CDP Profiler, 50 µs sampling) of both
 * engines on the mutation workloads, the 10k snapshot and a short storm, mapped back to the
 * TypeScript sources through the bundles' source maps. Prints, per run, the functions with
 * the most self time and, for our engine, the core/ functions with the most total time.
 */
import { readFile } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD_DIR } from './build.js';
import { WORKLOADS } from './pages.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function loadMap(lib) {
  const payload = JSON.parse(await readFile(`${BUILD_DIR}${lib}.js.map`, 'utf8'));
  return new SourceMap(payload);
}

/** "name (file:line)" for a profile call frame, with bundle positions mapped to sources. */
function describe(frame, maps) {
  const name = frame.functionName || '(anonymous)';
  const m = /\/build\/(ours|rrweb|none)\.js$/.exec(frame.url);
  if (m && maps[m[1]]) {
    const entry = maps[m[1]].findEntry(frame.lineNumber, frame.columnNumber);
    if (entry?.originalSource) {
      let file = relative(ROOT, resolve(BUILD_DIR, entry.originalSource.replace(/^file:\/\//, '')));
      file = file.replace(/^node_modules\//, '');
      return { key: `${name} ${file}:${entry.originalLine + 1}`, file };
    }
  }
  if (!frame.url) return { key: name, file: '' };
  const page = frame.url.replace(/^https?:\/\/[^/]+/, '').replace(/\?.*$/, '');
  return { key: `${name} ${page}:${frame.lineNumber + 1}`, file: page };
}

/** Maps a bundle line (1-based) to "file:line" and that source line's text. */
async function sourceLine(maps, lib, bundleLines, line) {
  const text = bundleLines[lib][line - 1] ?? '';
  // The last mapping on the line: the first may be missing (`else` is not mapped), and then
  // findEntry would answer with the line above.
  let entry = maps[lib].findEntry(line - 1, Math.max(0, text.length - 1));
  if (entry?.generatedLine !== line - 1) entry = maps[lib].findEntry(line - 1, Math.max(0, text.search(/\S/)));
  if (!entry?.originalSource) return { where: `${lib}.js:${line}`, code: text.trim() };
  const file = relative(ROOT, resolve(BUILD_DIR, entry.originalSource.replace(/^file:\/\//, '')));
  let code = '';
  try {
    code = (await readFile(resolve(ROOT, file), 'utf8')).split('\n')[entry.originalLine]?.trim() ?? '';
  } catch {
    code = text.trim();
  }
  return { where: `${file.replace(/^node_modules\//, '')}:${entry.originalLine + 1}`, code };
}

/** Time (ms) per bundle line of `lib`, from the profile's line-level ticks. */
function hotLines(profile, lib) {
  const perSample = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    perSample.set(id, (perSample.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000);
  }
  const lines = new Map();
  for (const node of profile.nodes) {
    if (!node.positionTicks?.length || !node.callFrame.url.endsWith(`/build/${lib}.js`)) continue;
    const hits = node.positionTicks.reduce((sum, t) => sum + t.ticks, 0);
    const ms = perSample.get(node.id) ?? 0;
    for (const t of node.positionTicks) lines.set(t.line, (lines.get(t.line) ?? 0) + (ms * t.ticks) / hits);
  }
  return lines;
}

/** Self and total time (ms) per function, from a CDP profile. */
function summarize(profile, maps) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const total = new Map();
  const files = new Map();
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const node = byId.get(profile.samples[i]);
    const { key, file } = describe(node.callFrame, maps);
    if (key === '(idle)' || key === '(program)') continue;
    busy += dt;
    self.set(key, (self.get(key) ?? 0) + dt);
    files.set(key, file);
    const seen = new Set();
    for (let id = node.id; id !== undefined; id = parent.get(id)) {
      const d = describe(byId.get(id).callFrame, maps);
      if (seen.has(d.key)) continue;
      seen.add(d.key);
      total.set(d.key, (total.get(d.key) ?? 0) + dt);
      files.set(d.key, d.file);
    }
  }
  return { self, total, files, busy };
}

const top = (map, n, filter = () => true) =>
  [...map]
    .filter(([key]) => filter(key))
    .sort((a, b) => b[1] - a[1])
    .slice(0, n);

async function profiled(browser, url, run, arg) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    await page.goto(url, { waitUntil: 'load', timeout: 120_000 });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 50 });
    await cdp.send('Profiler.start');
    const result = await page.evaluate(run, arg);
    const { profile } = await cdp.send('Profiler.stop');
    return { profile, result };
  } finally {
    await context.close();
  }
}

async function report(out, title, lib, profile, maps, bundleLines) {
  const { self, total, files, busy } = summarize(profile, maps);
  out.push(`\n── ${title} · ${lib} · ${busy.toFixed(0)} ms busy (sampled, whole page.evaluate: harness and page work included) ──`);
  out.push('  self time:');
  for (const [key, ms] of top(self, lib === 'ours' ? 15 : 8))
    out.push(`    ${ms.toFixed(1).padStart(8)} ms  ${((100 * ms) / busy).toFixed(1).padStart(5)}%  ${key}`);
  if (lib !== 'ours') return;
  out.push('  hottest lines (self time, core/ only):');
  const merged = new Map();
  for (const [line, ms] of hotLines(profile, lib)) {
    const l = await sourceLine(maps, lib, bundleLines, line);
    merged.set(l.where, { ...l, ms: (merged.get(l.where)?.ms ?? 0) + ms });
  }
  const shown = [...merged.values()]
    .filter((l) => l.where.startsWith('core/'))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 12);
  for (const l of shown)
    out.push(
      `    ${l.ms.toFixed(1).padStart(8)} ms  ${((100 * l.ms) / busy).toFixed(1).padStart(5)}%  ${l.where.padEnd(30)} ${l.code.slice(0, 100)}`,
    );
  out.push('  total time, core/ functions:');
  for (const [key, ms] of top(total, 12, (k) => files.get(k)?.startsWith('core/')))
    out.push(`    ${ms.toFixed(1).padStart(8)} ms  ${((100 * ms) / busy).toFixed(1).padStart(5)}%  ${key}`);
}

export async function profileAll({ browser, origin, names, quick }) {
  const maps = { ours: await loadMap('ours'), rrweb: await loadMap('rrweb') };
  const bundleLines = {
    ours: (await readFile(`${BUILD_DIR}ours.js`, 'utf8')).split('\n'),
    rrweb: (await readFile(`${BUILD_DIR}rrweb.js`, 'utf8')).split('\n'),
  };
  const cases = [
    ...WORKLOADS.map(([name, file]) => [name, `/workload/${file}`, () => window.__bench.workload()]),
    ['snapshot', `/generated/${quick ? 10000 : 100000}.html`, () => window.__bench.snapshot()],
    ['storm', '/storm.html', () => window.__bench.storm(3000)],
  ].filter(([name]) => !names || names.includes(name));
  const out = [];
  for (const [name, path, run] of cases) {
    for (const lib of ['ours', 'rrweb']) {
      process.stderr.write(`• profiling ${name} (${lib})\n`);
      const { profile, result } = await profiled(browser, `${origin}${path}?lib=${lib}`, run);
      await report(out, `${name} · record`, lib, profile, maps, bundleLines);
      if (!result.frames) continue;
      // The mirror side: the same frames applied (patches, or the snapshot itself).
      const first = result.firstPatch ?? result.frames.length;
      const applied = await profiled(browser, `${origin}/mirror.html?lib=${lib}`, ([frames, at]) => window.__bench.apply(frames, at), [
        result.frames,
        first,
      ]);
      await report(out, `${name} · apply`, lib, applied.profile, maps, bundleLines);
    }
  }
  process.stdout.write(out.join('\n') + '\n');
}

#!/usr/bin/env node
// The flake hunt: `npm run test:repeat -- N` runs the whole suite (scripts/test.sh) N times in a row,
// each run to its end even when a stage fails, and prints how often each test failed and each run's time.
// The logs stay in a temporary folder, named at the end.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.argv[2] ?? 3);
if (!Number.isInteger(runs) || runs < 1) {
  console.error('usage: npm run test:repeat -- N   (N ≥ 1 full runs)');
  process.exit(2);
}
const logs = mkdtempSync(path.join(tmpdir(), 'cobrowse-repeat-'));

/** Runs the suite once, its output to `log` and, dimmed to the stage lines, to the terminal; resolves with its exit code. */
function runOnce(log) {
  return new Promise((resolve) => {
    const out = createWriteStream(log);
    const child = spawn('bash', [path.join(ROOT, 'scripts/test.sh')], {
      cwd: ROOT,
      env: { ...process.env, COBROWSE_KEEP_GOING: '1', FORCE_COLOR: '0', NO_COLOR: '1' },
    });
    for (const stream of [child.stdout, child.stderr]) {
      stream.pipe(out, { end: false });
      stream.on('data', (chunk) => {
        for (const line of String(chunk).split('\n')) if (/==> |Failed stages|All tests passed/.test(line)) console.log(`  ${line.trim()}`);
      });
    }
    child.on('close', (code) => out.end(() => resolve(code)));
  });
}

// eslint-disable-next-line no-control-regex -- terminal colour codes
const plain = (line) => line.replace(/\x1b\[[0-9;]*m/g, '');

/** The failing tests of one run's log: node's spec reporter marks them ✖, web-test-runner ❌; a failed stage counts too. */
function failuresIn(log) {
  const failed = new Set();
  let stage = '';
  let failedStages = false;
  for (const raw of readFileSync(log, 'utf8').split('\n')) {
    const line = plain(raw);
    const heading = /^==> (.*)$/.exec(line);
    if (heading) stage = heading[1];
    if (/^Failed stages:/.test(line)) failedStages = true;
    else if (failedStages && /^ {2}\S/.test(line)) failed.add(`stage: ${line.trim()}`);
    const node = /^\s*✖ (.+?)(?: \([\d.]+m?s\))?$/.exec(line);
    if (node && !/^failing tests:?$/.test(node[1])) failed.add(`${stage.split(' (')[0]} › ${node[1]}`);
    const browser = /^\s*❌ (.+)$/.exec(line);
    if (browser) failed.add(`${stage.split(' (')[0]} › ${browser[1].trim()}`);
  }
  return failed;
}

const counts = new Map();
const times = [];
for (let i = 1; i <= runs; i++) {
  console.log(`\nRun ${i} of ${runs}`);
  const log = path.join(logs, `run-${i}.log`);
  const started = Date.now();
  const code = await runOnce(log);
  times.push(Math.round((Date.now() - started) / 1000));
  const failed = failuresIn(log);
  if (code !== 0 && !failed.size) failed.add('(the run failed outside any test: see its log)');
  for (const name of failed) counts.set(name, (counts.get(name) ?? 0) + 1);
  console.log(`  run ${i}: exit ${code}, ${times.at(-1)} s, ${failed.size} failing`);
}

console.log(`\n${runs} runs: ${times.map((t) => `${t} s`).join(', ')}`);
if (!counts.size) console.log('No test failed in any run.');
else {
  console.log('Failures per test:');
  for (const [name, n] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`  ${n}/${runs}  ${name}`);
}
console.log(`Logs: ${logs}`);
process.exit(counts.size ? 1 : 0);

#!/usr/bin/env node
// `npm start` runs this first: it runs `npm run build` unless dist/ is already newer than
// every source file, so a fresh clone builds once and later starts are instant.
// Force a rebuild with `COBROWSE_REBUILD=1 npm start`.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** What the demo needs from the build. */
const outputs = [
  'dist/demo/server.js',
  'dist/relay/index.js',
  'dist/cobrowse.js',
  'dist/cobrowse.min.js',
  'dist/cobrowse-agent.js',
  'dist/cobrowse-agent.min.js',
];
/** What the build reads. */
const sourceDirs = ['core', 'components', 'relay', 'demo'];
const sourceFiles = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'rollup.config.js'];

function mtime(file) {
  try {
    return statSync(path.join(root, file)).mtimeMs;
  } catch {
    return undefined;
  }
}

function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(path.join(root, dir), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (/\.(ts|tsx|js|mjs|json)$/.test(entry.name)) newest = Math.max(newest, mtime(rel) ?? 0);
    }
  };
  sourceDirs.forEach(walk);
  for (const file of sourceFiles) newest = Math.max(newest, mtime(file) ?? 0);
  return newest;
}

function reason() {
  if (process.env.COBROWSE_REBUILD) return 'COBROWSE_REBUILD is set';
  const times = outputs.map(mtime);
  const missing = outputs.filter((_, i) => times[i] === undefined);
  if (missing.length) return `missing ${missing.join(', ')}`;
  if (newestSource() > Math.min(...times)) return 'sources changed since the last build';
  return undefined;
}

const why = reason();
if (!why) {
  console.log('dist/ is up to date; skipping the build (COBROWSE_REBUILD=1 forces one).');
  process.exit(0);
}

console.log(`Building (${why})…`);
// Under `npm start`, npm_execpath is npm's own CLI: run it with this same node.
const npmCli = process.env.npm_execpath;
const result = npmCli
  ? spawnSync(process.execPath, [npmCli, 'run', 'build'], { cwd: root, stdio: 'inherit' })
  : spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
if (result.error) {
  console.error('Could not run the build:', result.error.message);
  process.exit(1);
}
process.exit(result.status ?? 1);

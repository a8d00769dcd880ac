// The package as users get it: what `npm pack` puts in the tarball, and whether each entry point works
// once that tarball is installed into a project of its own (from npm's cache where it can, else the registry:
// a fresh machine's cache is empty).
// Packs the current dist/ (run `npm run build` first; scripts/test.sh does).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PKG = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const run = promisify(execFile);

/** npm with lifecycle scripts off: dist/ is built by the build stage, not rebuilt under other tests' feet. */
const npm = (args, cwd = ROOT) => run('npm', [...args, '--ignore-scripts', '--no-audit', '--no-fund'], { cwd, maxBuffer: 64 << 20 });

/** Every file an `exports` entry, `bin` or `customElements` names, without the leading './'. */
function declaredFiles() {
  const targets = Object.values(PKG.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)));
  return [...targets, ...Object.values(PKG.bin), PKG.customElements].map((f) => f.replace(/^\.\//, ''));
}

describe('npm package', () => {
  let files, tmp, project;
  before(async () => {
    // custom-elements.json is generated, not committed (prepack makes it when publishing).
    if (!existsSync(path.join(ROOT, PKG.customElements))) await run('npm', ['run', 'analyze', '--silent'], { cwd: ROOT });
    const [dry] = JSON.parse((await npm(['pack', '--dry-run', '--json'])).stdout);
    files = new Set(dry.files.map((f) => f.path));
    tmp = await mkdtemp(path.join(os.tmpdir(), 'cobrowse-pack-'));
    project = path.join(tmp, 'app');
  });
  after(() => tmp && rm(tmp, { recursive: true, force: true }));

  it('holds no tests, stories, fixtures, demo, benchmarks or examples', () => {
    const unwanted = [...files].filter(
      (f) =>
        /(^|\/)(test|tests|fixtures|storybook|storybook-static|stories|demo|bench|examples|node_modules)\//.test(f) ||
        /\.(test|spec|stories)\.[jt]sx?(\.map)?$/.test(f) ||
        /\.tgz$/.test(f),
    );
    assert.deepEqual(unwanted, []);
  });

  it('holds every file package.json points at, plus README and the manifest', () => {
    // A pattern (`./strings/*`) must match files: the translations.
    const packed = (f) =>
      f.includes('*')
        ? [...files].some((file) => new RegExp(`^${f.replace(/[.]/g, '\\.').replace('*', '[^/]+')}$`).test(file))
        : files.has(f);
    const missing = [...declaredFiles(), 'README.md', 'package.json', 'dist/cobrowse.min.js', 'dist/cobrowse-agent.min.js'].filter(
      (f) => !packed(f),
    );
    for (const lang of ['fr', 'de', 'es']) assert.ok(files.has(`dist/components/launcher/strings/${lang}.js`), `the ${lang} translation`);
    assert.deepEqual(missing, []);
  });

  it('every source map it ships resolves: its sources are in the package or embedded', () => {
    const broken = [];
    for (const file of [...files].filter((f) => f.endsWith('.map'))) {
      const map = JSON.parse(readFileSync(path.join(ROOT, file), 'utf8'));
      map.sources.forEach((source, i) => {
        const packed = path.posix.normalize(path.posix.join(path.posix.dirname(file), map.sourceRoot ?? '', source));
        if (!files.has(packed) && !map.sourcesContent?.[i]) broken.push(`${file} → ${source}`);
      });
    }
    assert.deepEqual(broken, []);
  });

  it('installs from its tarball into a fresh project', async () => {
    const { stdout } = await npm(['pack', '--json', '--pack-destination', tmp]);
    const tarball = path.join(tmp, JSON.parse(stdout)[0].filename);
    await run('mkdir', ['-p', project]);
    await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    await npm(['install', tarball, '--prefer-offline'], project);
    assert.ok(existsSync(path.join(project, 'node_modules', PKG.name, 'package.json')));
  });

  it('core imports in Node', async () => {
    const core = await importFromProject(project, `${PKG.name}/core`);
    for (const name of ['record', 'Mirror', 'Masker', 'CustomerSession', 'AgentSession', 'Transport']) {
      assert.equal(typeof core[name], 'function', name);
    }
  });

  it('relay: createRelay starts on port 0 and answers /healthz', async () => {
    const { createRelay, startRelay, attachRelay, listenWithRelay } = await importFromProject(project, `${PKG.name}/relay`);
    assert.deepEqual([typeof startRelay, typeof attachRelay, typeof listenWithRelay], ['function', 'function', 'function']);
    const relay = await createRelay({ port: 0, log() {} });
    try {
      assert.match(relay.url, /^ws:\/\/127\.0\.0\.1:\d+\/relay$/);
      const res = await fetch(`http://127.0.0.1:${relay.port}/healthz`);
      assert.equal(res.status, 200);
      assert.equal((await res.json()).ok, true);
    } finally {
      await relay.close();
    }
  });

  it('the bin runs: cobrowse-relay --help', async () => {
    const { stdout } = await run(path.join(project, 'node_modules/.bin/cobrowse-relay'), ['--help']);
    assert.match(stdout, /Usage: cobrowse-relay/);
  });

  it('browser entries resolve and bundle; importing one defines its elements (sideEffects)', async () => {
    const bundle = async (contents, { quiet = true } = {}) => {
      const result = await build({
        stdin: { contents, resolveDir: project, loader: 'js' },
        bundle: true,
        write: false,
        format: 'esm',
        platform: 'browser',
        conditions: ['production'],
        logLevel: 'silent',
      });
      // A warning here would show in every user's bundler output.
      if (quiet)
        assert.deepEqual(
          result.warnings.map((w) => w.text),
          [],
          contents,
        );
      return result.outputFiles[0].text;
    };
    // A bare import is how pages register the elements: a bundler must keep every definition.
    // (customElements.define('tag', Class), or Lit's @customElement('tag'), which the bundler renames.)
    const defines = (code, tag) => code.includes('customElements.define(') && new RegExp(`\\(\\s*["']${tag}["']\\s*[,)]`).test(code);
    const customer = await bundle(`import '${PKG.name}';`);
    assert.ok(defines(customer, 'cobrowse-launcher'), 'the customer entry defines <cobrowse-launcher>');
    assert.ok(!customer.includes('cobrowse-viewer'), 'agent code never reaches the customer bundle');
    const agent = await bundle(`import '${PKG.name}/agent';`);
    assert.ok(defines(agent, 'cobrowse-viewer') && defines(agent, 'cobrowse-toolbar'), 'the agent entry defines its elements');
    // core declares no side effects: an unused import of it costs nothing.
    assert.equal((await bundle(`import '${PKG.name}/core';`, { quiet: false })).trim(), '');
    // The one-tag bundles are reachable by name, e.g. to copy them into a static site.
    for (const entry of ['cobrowse.min.js', 'cobrowse-agent.min.js', 'custom-elements.json']) {
      assert.ok(existsSync(resolveFromProject(project, `${PKG.name}/${entry}`)), entry);
    }
  });

  it('types: every entry type-checks from a TypeScript project (nodenext resolution)', async () => {
    const source = `import { CobrowseLauncher } from '${PKG.name}';
import { CobrowseViewer, CobrowseToolbar } from '${PKG.name}/agent';
import { Mirror, type Frame } from '${PKG.name}/core';
import { createRelay, type StandaloneRelay } from '${PKG.name}/relay';
const launcher: CobrowseLauncher = document.createElement('cobrowse-launcher');
const viewer: CobrowseViewer = document.createElement('cobrowse-viewer');
launcher.addEventListener('cobrowse-session-created', (e) => e.detail.code.toUpperCase());
export const used = [viewer, CobrowseToolbar, Mirror, null as Frame | null];
export const relay: Promise<StandaloneRelay> = createRelay({ port: 0 });
`;
    await writeFile(path.join(project, 'check.ts'), source);
    await writeFile(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          lib: ['es2022', 'dom', 'dom.iterable'],
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [path.join(ROOT, 'node_modules/@types')],
        },
        files: ['check.ts'],
      }),
    );
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', project]).catch((err) => err);
    assert.equal(result.code ?? 0, 0, `${result.stdout}${result.stderr}`);
  });
});

/** Resolves a specifier from inside the installed project (`exports` applied: it only has `default` conditions). */
function resolveFromProject(project, specifier) {
  return createRequire(path.join(project, 'index.js')).resolve(specifier);
}

function importFromProject(project, specifier) {
  return import(pathToFileURL(resolveFromProject(project, specifier)).href);
}

// Builds the framework examples into examples/<name>/build/ with esbuild (plus Svelte's compiler
// for .svelte files). `node examples/build.mjs [name…]`; test/e2e/examples.test.js calls buildExample.
// Needs the package built first (`npm run build`): the apps import 'cobrowse-sdk' as users do.
import { build } from 'esbuild';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Compiles `.svelte` files with Svelte 5's own compiler: all a Svelte app needs from a bundler. */
const sveltePlugin = {
  name: 'svelte',
  setup(b) {
    b.onLoad({ filter: /\.svelte$/ }, async ({ path: file }) => {
      const { compile } = await import('svelte/compiler');
      const { js, warnings } = compile(await readFile(file, 'utf8'), { filename: file, generate: 'client' });
      return { contents: js.code, loader: 'js', warnings: warnings.map((w) => ({ text: w.message })) };
    });
  },
};

const common = { bundle: true, minify: true, format: 'esm', target: 'es2022', logLevel: 'warning', conditions: ['production'] };

/** How each example is built; plain-html has no build, only the one-tag bundle copied next to it. */
export const EXAMPLES = {
  'plain-html': async (out) => copyFile(path.join(HERE, '../dist/cobrowse.min.js'), path.join(out, 'cobrowse.min.js')),
  react: (out) =>
    build({
      ...common,
      entryPoints: [path.join(HERE, 'react/app.jsx')],
      outfile: path.join(out, 'app.js'),
      jsx: 'automatic',
      define: { 'process.env.NODE_ENV': '"production"' },
    }),
  vue: (out) =>
    build({
      ...common,
      entryPoints: [path.join(HERE, 'vue/app.js')],
      outfile: path.join(out, 'app.js'),
      // The full build compiles the template string in the browser, where `compilerOptions.isCustomElement` applies.
      alias: { vue: 'vue/dist/vue.esm-bundler.js' },
      define: {
        'process.env.NODE_ENV': '"production"',
        __VUE_OPTIONS_API__: 'true',
        __VUE_PROD_DEVTOOLS__: 'false',
        __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
      },
    }),
  svelte: (out) =>
    build({
      ...common,
      entryPoints: [path.join(HERE, 'svelte/app.js')],
      outfile: path.join(out, 'app.js'),
      conditions: ['svelte', 'browser', 'production'],
      plugins: [sveltePlugin],
    }),
};

/** Builds one example; resolves to its folder, which is the site root to serve. */
export async function buildExample(name) {
  if (!EXAMPLES[name]) throw new TypeError(`no example "${name}"; there are: ${Object.keys(EXAMPLES).join(', ')}`);
  const out = path.join(HERE, name, 'build');
  await mkdir(out, { recursive: true });
  await EXAMPLES[name](out);
  return path.join(HERE, name);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2);
  for (const name of names.length ? names : Object.keys(EXAMPLES)) {
    await buildExample(name);
    console.log(`built examples/${name}/build/`);
  }
}

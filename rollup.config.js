// Browser bundles. The customer's page loads only the customer bundle; agent code never reaches it.
import { nodeResolve } from '@rollup/plugin-node-resolve';
import minifyTemplates from '@lit-labs/rollup-plugin-minify-html-literals';
import terser from '@rollup/plugin-terser';
import esbuild from 'rollup-plugin-esbuild';
import { gzipSync } from 'node:zlib';

/** The most each single-file bundle may weigh, min+gzip: every byte of the customer's ships to every page view. */
// 26.5 KiB: issue 16's security fixes cost about 1.5 KiB, issue 18's split (state tables, the recorder's
// parts passing objects whose property names terser keeps) about 0.5 KiB; issue 22 brings it to 20.
const BUDGET_KIB = { 'cobrowse.min.js': 26.5, 'cobrowse-agent.min.js': 60 };

/** Terser with two passes: about 5% smaller than esbuild's minifier once gzipped, which the customer's budget needs. */
const minify = () => terser({ ecma: 2020, compress: { passes: 2, pure_getters: true }, format: { comments: false } });

/** Prints each bundle's minified and gzipped size, and fails the build past its budget. */
const reportSize = () => ({
  name: 'report-size',
  generateBundle(options, bundle) {
    for (const chunk of Object.values(bundle)) {
      if (chunk.type !== 'chunk' || !chunk.fileName.endsWith('.min.js')) continue;
      const gz = gzipSync(chunk.code, { level: 9 }).length / 1024;
      const budget = BUDGET_KIB[chunk.fileName];
      console.log(
        `${chunk.fileName.padEnd(24)} ${(chunk.code.length / 1024).toFixed(1).padStart(6)} KiB min  ${gz.toFixed(1).padStart(5)} KiB min+gzip  (budget ${budget} KiB)`,
      );
      if (budget && gz > budget) this.error(`${chunk.fileName} is ${gz.toFixed(1)} KiB min+gzip, over its ${budget} KiB budget`);
    }
  },
});

const plugins = [
  nodeResolve({ exportConditions: ['production'], browser: true }),
  esbuild({ target: 'es2022', tsconfig: 'tsconfig.json' }),
  // The whitespace of Lit's html`` and css`` templates, which no JS minifier touches.
  // Conservative: runs of whitespace become one space, never none (a space between two parts of a text is text).
  minifyTemplates({ failOnError: true, options: { minifyOptions: { collapseWhitespace: true, conservativeCollapse: true } } }),
];

const bundle = (input, name) => ({
  input,
  plugins,
  output: [
    { file: `dist/${name}.js`, format: 'es', sourcemap: true },
    {
      file: `dist/${name}.min.js`,
      format: 'iife',
      name: name === 'cobrowse' ? 'Cobrowse' : 'CobrowseAgent',
      plugins: [minify(), reportSize()],
    },
  ],
});

export default [bundle('components/customer.ts', 'cobrowse'), bundle('components/agent.ts', 'cobrowse-agent')];

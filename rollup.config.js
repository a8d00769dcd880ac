// Browser bundles. The customer's page loads only the customer bundle; agent code never reaches it.
import { nodeResolve } from '@rollup/plugin-node-resolve';
import esbuild, { minify } from 'rollup-plugin-esbuild';
import { gzipSync } from 'node:zlib';

/** Prints each bundle's minified and gzipped size, so growth is seen at every build. */
const reportSize = () => ({
  name: 'report-size',
  generateBundle(options, bundle) {
    for (const chunk of Object.values(bundle)) {
      if (chunk.type !== 'chunk' || !chunk.fileName.endsWith('.min.js')) continue;
      const gz = gzipSync(chunk.code, { level: 9 }).length;
      console.log(`${chunk.fileName.padEnd(24)} ${(chunk.code.length / 1024).toFixed(1).padStart(6)} KiB min  ${(gz / 1024).toFixed(1).padStart(5)} KiB min+gzip`);
    }
  },
});

const plugins = [
  nodeResolve({ exportConditions: ['production'], browser: true }),
  esbuild({ target: 'es2022', tsconfig: 'tsconfig.json' }),
];

const bundle = (input, name) => ({
  input,
  plugins,
  output: [
    { file: `dist/${name}.js`, format: 'es', sourcemap: true },
    { file: `dist/${name}.min.js`, format: 'iife', name: name === 'cobrowse' ? 'Cobrowse' : 'CobrowseAgent', plugins: [minify({ target: 'es2022' }), reportSize()] },
  ],
});

export default [bundle('components/customer.ts', 'cobrowse'), bundle('components/agent.ts', 'cobrowse-agent')];

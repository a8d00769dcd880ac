/** Bundles the in-page harness, once per engine, with esbuild's API (no files outside bench/.build). */
import { build } from 'esbuild';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
export const BUILD_DIR = fileURLToPath(new URL('../.build/', import.meta.url));

/** Writes bench/.build/{ours,rrweb,none}.js (+ source maps, used to read CPU profiles). */
export async function buildHarness() {
  await mkdir(BUILD_DIR, { recursive: true });
  await build({
    entryPoints: {
      ours: `${here}browser/ours.ts`,
      rrweb: `${here}browser/rrweb.ts`,
      none: `${here}browser/none.ts`,
    },
    outdir: BUILD_DIR,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    sourcemap: 'linked',
    minify: false,
    legalComments: 'none',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  return BUILD_DIR;
}

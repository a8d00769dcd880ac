import type { StorybookConfig } from '@storybook/web-components-vite';
import { transform } from 'esbuild';
import type { Plugin } from 'vite';

/**
 * The elements use standard (TC39) decorators, which Vite 8's Oxc transform leaves as they are
 * and no browser runs yet; esbuild lowers them, as it does for the rollup bundles. The modules
 * register elements, but package.json's `sideEffects` names only dist/: say so, or a story's
 * bare `import '…/cobrowse-launcher.js'` is tree-shaken away.
 */
const lowerDecorators = (): Plugin => ({
  name: 'cobrowse-lower-decorators',
  enforce: 'pre',
  async transform(code, id) {
    const file = id.split('?')[0]!;
    if (!/\/components\/.*\.ts$/.test(file) || file.includes('/node_modules/')) return null;
    const result = await transform(code, { loader: 'ts', target: 'es2022', sourcemap: true, sourcefile: file });
    return { code: result.code, map: result.map, moduleSideEffects: true };
  },
});

/** Storybook for the three elements; stories live here so components/ holds only what ships. */
const config: StorybookConfig = {
  framework: '@storybook/web-components-vite',
  stories: ['./**/*.stories.ts'],
  core: { disableTelemetry: true },
  // Docs pages (`tags: ['autodocs']`) from the manifest that preview.ts hands to setCustomElementsManifest.
  addons: ['@storybook/addon-docs'],
  viteFinal: (vite) => ({
    ...vite,
    plugins: [lowerDecorators(), ...(vite.plugins ?? [])],
    // Storybook's own preview runtime is most of the one big chunk; nothing to split for us.
    build: { ...vite.build, chunkSizeWarningLimit: 2048 },
    // Storybook's renderer imports lit/directive-helpers.js unbundled; pre-bundling it with the rest keeps one Lit in dev.
    optimizeDeps: { ...vite.optimizeDeps, include: [...(vite.optimizeDeps?.include ?? []), 'lit/directive-helpers.js'] },
  }),
};

export default config;

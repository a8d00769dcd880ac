// ESLint 9 flat config: `npm run lint`. Formatting is Prettier's job (`npm run format:check`), not ESLint's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import lit from 'eslint-plugin-lit';
import wc from 'eslint-plugin-wc';
import litA11y from 'eslint-plugin-lit-a11y';
import noOnlyTests from 'eslint-plugin-no-only-tests';
import globals from 'globals';
import boundaries from './eslint.boundaries.js';
import sizes from './eslint.sizes.js';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'storybook-static/',
      'node_modules/',
      'bench/.build/',
      'bench/fixtures/',
      'test/fixtures/',
      'examples/*/build/',
      'custom-elements.json',
    ],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // `==` only against null (`x == null` covers undefined too), as the code already does.
      eqeqeq: ['error', 'smart'],
    },
  },

  // Type-aware, but only the promise rules (a dropped rejection crashes Node or hides a failure) and only over
  // shipped code and stories: the whole typed set is ~4x slower, and in tests chai's types make every assertion look like a promise.
  {
    files: ['core/**/*.ts', 'components/**/*.ts', 'relay/**/*.ts', 'demo/**/*.ts', 'storybook/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },

  // Lit elements, their templates and their accessibility: wherever `html` templates are written.
  {
    files: ['components/**/*.ts', 'storybook/**/*.ts', 'demo/**/*.ts', 'test/components/**/*.ts', 'examples/**/*.{js,jsx,mjs}'],
    ...lit.configs['flat/recommended'],
  },
  { files: ['components/**/*.ts', 'storybook/**/*.ts', 'test/components/**/*.ts'], ...wc.configs['flat/best-practice'] },
  {
    files: ['components/**/*.ts', 'storybook/**/*.ts', 'test/components/**/*.ts'],
    rules: {
      // LitElement always implements the lifecycle callbacks, and `override` makes tsc prove the super method exists.
      'wc/guard-super-call': 'off',
    },
  },
  { files: ['components/**/*.ts', 'storybook/**/*.ts', 'demo/**/*.ts', 'examples/**/*.{js,jsx,mjs}'], ...litA11y.configs.recommended },

  // The layers' boundaries: see eslint.boundaries.js.
  ...boundaries,

  // Function and entry-file sizes: see eslint.sizes.js.
  ...sizes,

  // A forgotten `.only` silently skips the rest of a suite.
  {
    files: ['test/**/*.{ts,js,mjs}', '**/*.test.{ts,js}', '**/*.stories.ts'],
    plugins: { 'no-only-tests': noOnlyTests },
    rules: { 'no-only-tests/no-only-tests': 'error' },
  },
  {
    files: ['test/**/*.{ts,js}'],
    rules: {
      // chai's property assertions (`expect(x).to.exist`, `.to.be.true`) are expressions by design.
      '@typescript-eslint/no-unused-expressions': 'off',
    },
  },

  // Where code runs: the browser (SDK, components, browser tests, stories, bench pages) or Node (relay, servers, scripts).
  {
    files: ['core/**', 'components/**', 'storybook/**', 'test/core/**', 'test/components/**', 'bench/*/browser/**', 'examples/*/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['relay/**', 'demo/server.ts', 'scripts/**', 'bench/**/*.js', 'test/**/*.js', 'test/helpers/**', 'examples/*.mjs', '*.{js,mjs}'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // Node scripts that drive Chromium: the callbacks they hand to page.evaluate() run in the page.
    files: [
      'bench/**/*.js',
      'test/e2e/**/*.js',
      'test/e2e-firefox/**/*.js',
      'test/chaos/**/*.js',
      'test/fidelity/**/*.js',
      'test/storybook/**/*.js',
      'test/helpers/**/*.js',
    ],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  { files: ['**/*.jsx'], languageOptions: { parserOptions: { ecmaFeatures: { jsx: true } } } },
);

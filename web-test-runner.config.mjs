// Browser unit and component tests, in real Chromium, against a real relay.
import { chromeLauncher } from '@web/test-runner-chrome';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { startRelay } from './dist/relay/index.js';
import { CHROME_ARGS, CHROME_PATH } from './test/helpers/chromium.js';

// Component tests talk to this relay; it lives as long as the test run.
const relay = await startRelay({ port: 0, log: () => {} });

export default {
  files: ['test/core/**/*.test.ts', 'test/components/**/*.test.ts'],
  nodeResolve: { exportConditions: ['production'] },
  // One page at a time: a background page gets no animation frames, and the recorder and fixtures wait for them.
  concurrency: 1,
  testsFinishTimeout: 240_000,
  testFramework: { config: { timeout: 20_000 } },
  plugins: [
    esbuildPlugin({ ts: true, target: 'es2022', tsconfig: './tsconfig.json' }),
    {
      name: 'cobrowse-relay',
      serverStop: () => relay.close(),
    },
  ],
  testRunnerHtml: (testFramework) => `<!doctype html><html><body>
    <script>window.RELAY_URL = ${JSON.stringify(relay.url)};</script>
    <script type="module" src="${testFramework}"></script></body></html>`,
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: CHROME_PATH,
        headless: true,
        args: CHROME_ARGS,
      },
    }),
  ],
};

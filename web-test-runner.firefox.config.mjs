// The same browser unit and component tests as web-test-runner.config.mjs (same files, plugins,
// relay and page), in Firefox: Debian's firefox-esr, launched by puppeteer-core over WebDriver BiDi.
//   FIREFOX_PATH="$(bash scripts/ensure-firefox.sh)" npx web-test-runner --config web-test-runner.firefox.config.mjs
import { chromeLauncher, puppeteerCore } from '@web/test-runner-chrome';
import chromiumConfig from './web-test-runner.config.mjs';
import { firefoxLaunchOptions } from './test/helpers/firefox.js';

export default {
  ...chromiumConfig,
  // chromeLauncher with a puppeteer instance of our own launches what launchOptions.browser names.
  browsers: [chromeLauncher({ puppeteer: puppeteerCore, launchOptions: firefoxLaunchOptions() })],
};

/** Which browser runs the browser tests: web-test-runner.config.mjs runs Chromium, web-test-runner.firefox.config.mjs Firefox. */
export const IN_FIREFOX = navigator.userAgent.includes('Firefox/');

/** The name describePlatform gives the browser running the tests, as a pattern (`Chrome` or `Chromium`; `Firefox`). */
export const THIS_BROWSER = IN_FIREFOX ? 'Firefox' : 'Chrom\\S*';

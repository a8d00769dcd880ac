// One place for how tests start Firefox here: Debian's firefox-esr, driven by puppeteer-core over
// WebDriver BiDi (Playwright's patched Firefox cannot be downloaded here, and playwright-core
// cannot drive a stock Firefox).
import puppeteer from 'puppeteer-core';

export const FIREFOX_PATH = process.env.FIREFOX_PATH || '/usr/bin/firefox-esr';

/**
 * Preferences for every test Firefox: no network calls of its own, and a page never throttled as a
 * background page (the recorder waits for animation frames).
 */
export const FIREFOX_PREFS = {
  'app.update.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'dom.min_background_timeout_value': 0,
  'dom.timeout.enable_budget_timer_throttling': false,
  'layout.throttled_frame_rate': 60,
};

/** puppeteer-core's launch options for FIREFOX_PATH, headless, over WebDriver BiDi. */
export const firefoxLaunchOptions = (extra = {}) => ({
  browser: 'firefox',
  protocol: 'webDriverBiDi',
  executablePath: FIREFOX_PATH,
  headless: true,
  extraPrefsFirefox: FIREFOX_PREFS,
  ...extra,
});

/** Launches Firefox with firefoxLaunchOptions. */
export const launchFirefox = (extra) => puppeteer.launch(firefoxLaunchOptions(extra));

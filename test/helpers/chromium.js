// One place for how tests start Debian's Chromium here (see ../shared/TOOLCHAIN.md).
import { chromium } from 'playwright-core';

export const CHROME_PATH = process.env.CHROME_PATH || '/usr/bin/chromium';

/**
 * Flags for every test browser: no sandbox (root), headless, no network calls of its own, and
 * pages side by side never throttled as background pages (the recorder waits for animation frames).
 */
export const CHROME_ARGS = [
  '--no-sandbox',
  '--headless=new',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-renderer-backgrounding',
  '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
];

/** Launches Chromium with CHROME_ARGS, plus any test-specific flags. */
export const launchChromium = (extraArgs = []) => chromium.launch({ executablePath: CHROME_PATH, args: [...CHROME_ARGS, ...extraArgs] });

/**
 * After the page's next two frames, has it fetch `url` (its answer ignored): a request that comes after
 * everything the page started before, which a test can wait for in its own log of requests.
 */
export async function fetchAfterFrames(page, url) {
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  await page.evaluate(
    (url) =>
      fetch(url).then(
        () => undefined,
        () => undefined,
      ),
    url,
  );
}

/** Where a customer element shows in the agent console's page (the mirror is scaled to fit). */
export function mirrorPoint(agentPage, selector) {
  return agentPage.evaluate((selector) => {
    const viewer = document.querySelector('cobrowse-viewer');
    const iframe = viewer.shadowRoot.querySelector('iframe');
    const layer = viewer.shadowRoot.querySelector('.input-layer').getBoundingClientRect();
    const scale = layer.width / iframe.offsetWidth;
    const r = iframe.contentDocument.querySelector(selector).getBoundingClientRect();
    return { x: layer.left + (r.left + r.width / 2) * scale, y: layer.top + (r.top + r.height / 2) * scale };
  }, selector);
}

/** mirrorPoint once it holds still: the console may still be fitting the page to its size. */
export async function settledMirrorPoint(agentPage, selector) {
  let point = await mirrorPoint(agentPage, selector);
  for (let previous = null; JSON.stringify(previous) !== JSON.stringify(point);) {
    previous = point;
    await agentPage.waitForTimeout(50);
    point = await mirrorPoint(agentPage, selector);
  }
  return point;
}

/** Starts a session from the page's `<cobrowse-launcher>` (its button, then Start) and returns the 9-digit ID it shows. */
export async function startFromLauncher(page) {
  const launcher = page.locator('cobrowse-launcher');
  await launcher.locator('[part=trigger]').click();
  await launcher.locator('[part=start]').click();
  const code = (await launcher.locator('[part=code]').textContent()).replace(/\s/g, '');
  if (!/^\d{9}$/.test(code)) throw new Error(`the launcher shows "${code}", not a session ID`);
  return code;
}

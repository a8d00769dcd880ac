/**
 * The customer's platform, as the agent's toolbar shows it. The customer's page only
 * collects raw facts; parsing the User-Agent string happens on the agent's side
 * (core/platform-description.ts), so the customer's bundle carries no parser.
 */
import type { PlatformFrame } from './protocol/index.js';

interface UADataValues {
  fullVersionList?: Array<{ brand: string; version: string }>;
  platform?: string;
  platformVersion?: string;
  mobile?: boolean;
}
interface NavigatorUAData {
  getHighEntropyValues(hints: string[]): Promise<UADataValues>;
}

/** Collects the platform details; uses User-Agent Client Hints where the browser has them. */
export async function collectPlatform(win: Window = window): Promise<PlatformFrame> {
  const nav = win.navigator as Navigator & { userAgentData?: NavigatorUAData };
  const frame: PlatformFrame = {
    t: 'platform',
    ua: nav.userAgent.slice(0, 1024),
    screen: [win.screen.width, win.screen.height],
    viewport: [win.innerWidth, win.innerHeight],
    dpr: win.devicePixelRatio,
    language: nav.language.slice(0, 64),
    timeZone: (Intl.DateTimeFormat().resolvedOptions().timeZone ?? '').slice(0, 64),
  };
  try {
    const values = await nav.userAgentData?.getHighEntropyValues(['fullVersionList', 'platformVersion']);
    if (values?.fullVersionList) {
      frame.hints = {
        brands: values.fullVersionList.slice(0, 16).map((b) => [b.brand.slice(0, 64), b.version.slice(0, 64)]),
        platform: (values.platform ?? '').slice(0, 64),
        platformVersion: (values.platformVersion ?? '').slice(0, 64),
        mobile: Boolean(values.mobile),
      };
    }
  } catch {
    // Hints refused (permissions policy): the UA string still tells most of it.
  }
  return frame;
}

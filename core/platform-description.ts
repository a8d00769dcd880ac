/** The agent's reading of a customer's platform frame: browser, system, device, in words. */
import { parse } from 'bowser';
import type { PlatformFrame } from './protocol/index.js';

export interface PlatformDescription {
  browser: string;
  browserVersion: string;
  os: string;
  osVersion: string;
  device: 'desktop' | 'mobile' | 'tablet' | string;
  /** One line for a tooltip: "Chrome 131 on Windows 11 · desktop · 1920×1080 @1.5x · en-US · Europe/Paris". */
  summary: string;
}

/** Brands that only exist to defeat naive parsing. */
const GREASE = /not.?a.?brand|chromium/i;

export function describePlatform(frame: PlatformFrame): PlatformDescription {
  const parsed = parse(frame.ua);
  let browser = parsed.browser.name ?? 'Unknown browser';
  let browserVersion = parsed.browser.version ?? '';
  let os = parsed.os.name ?? 'Unknown system';
  let osVersion = parsed.os.versionName ?? parsed.os.version ?? '';
  const hints = frame.hints;
  if (hints) {
    // Client Hints beat the frozen UA string: full versions, and Windows 11 (which the UA calls 10).
    const brand = hints.brands.find(([name]) => !GREASE.test(name)) ?? hints.brands.find(([name]) => /chromium/i.test(name));
    if (brand) [browser, browserVersion] = [brand[0].replace(/^Google /, ''), brand[1]];
    if (hints.platform) os = hints.platform;
    if (hints.platformVersion) osVersion = os === 'Windows' ? windowsVersion(hints.platformVersion) : hints.platformVersion;
  }
  const device = parsed.platform.type ?? (hints?.mobile ? 'mobile' : 'desktop');
  const major = browserVersion.split('.')[0] ?? '';
  const summary = [
    `${browser} ${major}`.trim() + ` on ${`${os} ${osVersion}`.trim()}`,
    device,
    `${frame.viewport[0]}×${frame.viewport[1]} @${frame.dpr}x`,
    frame.language,
    frame.timeZone,
  ]
    .filter(Boolean)
    .join(' · ');
  return { browser, browserVersion, os, osVersion, device, summary };
}

/** Windows reports 13+ as its platform version from Windows 11 on. */
function windowsVersion(platformVersion: string): string {
  const major = Number(platformVersion.split('.')[0]);
  return major >= 13 ? '11' : major > 0 ? '10' : platformVersion;
}

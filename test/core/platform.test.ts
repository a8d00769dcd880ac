import { expect } from '@open-wc/testing';
import { collectPlatform } from '../../core/platform.js';
import { describePlatform } from '../../core/platform-description.js';
import { checkFrame, FORWARDED } from '../../core/protocol/index.js';
import { THIS_BROWSER } from '../helpers/browser.js';

const base = {
  t: 'platform' as const,
  screen: [1920, 1080] as [number, number],
  viewport: [1280, 720] as [number, number],
  dpr: 1.5,
  language: 'en-GB',
  timeZone: 'Europe/London',
};

describe('platform details', () => {
  it("collects this browser's details as a valid frame", async () => {
    const frame = await collectPlatform();
    expect(() => checkFrame(JSON.parse(JSON.stringify(frame)), FORWARDED.customer)).not.to.throw();
    expect(frame.viewport).to.deep.equal([innerWidth, innerHeight]);
    expect(describePlatform(frame).browser).to.match(new RegExp(`^${THIS_BROWSER}$`));
  });

  it('reads browser, system and device from the UA string', () => {
    const ua =
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
    const d = describePlatform({ ...base, ua });
    expect([d.browser, d.browserVersion.split('.')[0], d.os, d.device]).to.deep.equal(['Safari', '17', 'iOS', 'mobile']);
    expect(d.summary).to.equal('Safari 17 on iOS 17.4 · mobile · 1280×720 @1.5x · en-GB · Europe/London');
  });

  it('prefers Client Hints: full versions and Windows 11, which the UA string calls 10', () => {
    const ua = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
    const hints = {
      brands: [
        ['Not_A Brand', '8.0.0.0'],
        ['Chromium', '131.0.6778.86'],
        ['Google Chrome', '131.0.6778.86'],
      ] as Array<[string, string]>,
      platform: 'Windows',
      platformVersion: '15.0.0',
      mobile: false,
    };
    const d = describePlatform({ ...base, ua, hints });
    expect([d.browser, d.browserVersion, d.os, d.osVersion, d.device]).to.deep.equal([
      'Chrome',
      '131.0.6778.86',
      'Windows',
      '11',
      'desktop',
    ]);
  });
});

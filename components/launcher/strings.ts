import { translations } from '../internal/translations.js';

/** Every text the launcher shows, replaceable through its `strings` property (for localisation). */
export const launcherStrings = {
  trigger: 'Co-browsing',
  triggerShared: 'Sharing this tab',
  title: 'Co-browsing',
  intro: 'Share this tab with your support agent. They see this page only, never the rest of your screen.',
  moved: 'Your agent now sees another tab or window of this site. Start here to share this tab instead.',
  start: 'Start co-browsing',
  connecting: 'Connecting…',
  codeTitle: 'Your session ID',
  codeLabel: (digits: string) => `Session ID ${digits}`,
  readToAgent: 'Read this number to your agent.',
  reconnecting: 'Reconnecting…',
  copy: 'Copy',
  copied: 'Copied',
  defaultAgent: 'Your agent',
  viewing: (name: string) => `${name} is viewing this page`,
  hiddenFields: 'Fields with passwords and other sensitive data are hidden from the agent.',
  controlling: (name: string) => `${name} can control this page.`,
  consentTitle: (name: string) => `${name} wants to control this page`,
  consentBody: 'They could click, scroll and fill in forms for you. You can take control back at any time.',
  allow: 'Allow',
  /** The Allow button's title: it takes no click for a moment after the prompt appears (or moves). */
  allowWait: 'Read the request first: Allow works after a moment',
  deny: 'Deny',
  takeBack: 'Take back control',
  stopSharing: 'Stop sharing',
  pausedTitle: 'Sharing paused',
  pausedBody: 'The agent cannot see this page until you share it again.',
  startSharing: 'Start sharing',
  endSession: 'End session',
  endedTitle: 'Co-browsing ended',
  endedBy: {
    customer: 'You ended the session.',
    agent: 'The agent ended the session.',
    expired: 'The session expired.',
    relay: 'The co-browsing service ended the session.',
  },
  startNew: 'Start a new session',
  errorTitle: 'Co-browsing unavailable',
  errorFallback: 'Something went wrong.',
  retry: 'Try again',
  insecure: 'Co-browsing needs a secure (https) page.',
  unsupported: 'Co-browsing is not supported in this browser.',
};
export type LauncherStrings = typeof launcherStrings;

/**
 * Translations by language tag ('fr', 'de-CH'…), picked by the launcher's `lang`. None ships in
 * the customer's bundle (every byte goes to every page view): import the ones you need, e.g.
 * `import 'cobrowse-sdk/strings/fr'`, or register your own.
 */
export const launcherTranslations = translations(launcherStrings);

/** Adds (or replaces) the launcher's texts in a language: `registerLauncherStrings('it', { … })`. */
export const registerLauncherStrings = launcherTranslations.register;

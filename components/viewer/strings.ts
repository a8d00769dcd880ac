import type { AgentState } from '../../core/index.js';
import type { EndedBy, Mode } from '../../core/protocol/index.js';
import { translations } from '../internal/translations.js';
import { de } from './strings/de.js';
import { es } from './strings/es.js';
import { fr } from './strings/fr.js';

/** Every text `<cobrowse-viewer>` and `<cobrowse-toolbar>` show, replaceable through their `strings` property (for localisation). */
export const viewerStrings = {
  // <cobrowse-viewer>
  codeLabel: 'Session ID',
  join: 'Start',
  badCode: 'A session ID is 9 digits.',
  mirrorTitle: "Customer's page",
  /** The message over the mirror while there is no live page to show. */
  waiting: {
    joining: 'Joining the session…',
    waiting: "Waiting for the customer's page…",
    'customer-away': 'The customer is offline. Waiting for them to come back…',
    reconnecting: 'Connection lost. Reconnecting…',
    paused: 'The customer paused sharing.',
    left: 'The customer left the co-browsing site.',
  } as Partial<Record<AgentState, string>>,
  endedBy: {
    customer: 'The customer ended the session.',
    agent: 'You closed the session.',
    expired: 'The session expired.',
    relay: 'The co-browsing service ended the session.',
  } as Record<EndedBy, string>,
  formsLocked: 'Forms cannot be edited on the agent side',
  refused: "The customer's page refused",
  chooseForCustomer: 'Choose for the customer',
  typeForCustomer: 'Type for the customer',

  // <cobrowse-toolbar>
  toolbar: 'Co-browsing session',
  title: 'Co-browsing',
  modes: { 'full-control': 'Full control', 'partial-control': 'Partial control', 'no-control': 'No control' } as Record<Mode, string>,
  /** The session's status beside the mode. */
  status: {
    joining: 'Connecting',
    waiting: 'Waiting for page',
    live: 'Live',
    'customer-away': 'Customer offline',
    paused: 'Customer paused sharing',
    left: 'Customer left the co-browsing site',
    reconnecting: 'Reconnecting',
    ended: 'Ended',
  } as Partial<Record<AgentState, string>>,
  link: { good: 'Good', slow: 'Slow', offline: 'Offline' },
  /** The connection's label for screen readers: its status, and its round trip when there is one ("Slow, 640 ms"). */
  connection: (measure: string) => `Customer's connection: ${measure}`,
  /** The connection's tooltip ('' for no answer). */
  roundTrip: (rtt: string) => `Round trip to the customer's page: ${rtt || 'no answer'}`,
  back: 'Back',
  forward: 'Forward',
  reload: 'Reload',
  address: "Address of the customer's page",
  highlight: 'Highlight',
  tools: { rect: 'Rectangle', pen: 'Pen', spot: 'Spotlight' },
  clear: 'Clear',
  zoom: 'Zoom',
  zoomOut: 'Zoom out',
  zoomIn: 'Zoom in',
  autoFit: 'Auto-fit',
  close: 'Close session',
};
export type ViewerStrings = typeof viewerStrings;

/**
 * Translations by language tag ('fr', 'de-CH'…), picked by the element's `lang` (else the page's).
 * German, Spanish and French ship in the agent bundle; add another with `registerViewerStrings`.
 */
const viewerTranslations = translations(viewerStrings, new Map(Object.entries({ de, es, fr })));

/** Adds (or replaces) the viewer's and toolbar's texts in a language: `registerViewerStrings('it', { … })`. */
export const registerViewerStrings = viewerTranslations.register;

/** The texts an element shows: English, under its language's translation, under its own `strings`. */
export const viewerTextsFor = viewerTranslations.textsFor;

/**
 * The session follows the customer to the site's other domains. A link or form aimed at one of
 * them gets a one-time hand-off token in its URL fragment (fragments never reach a server, nor a
 * Referer); the next page takes it out of the address bar and resumes with it. A link to a site
 * outside the session's domains is noted, so the agent can be told the customer left.
 */

const PARAM = 'cobrowse-handoff';
const PAUSED = 'cobrowse-paused';

export interface Arrival {
  token: string;
  /** Sharing was paused on the page the customer came from, and stays paused. */
  paused: boolean;
}

const FOUND = new RegExp(`(?:^#|&)${PARAM}=([\\w-]{1,64})(&${PAUSED})?`);

/** A fragment without our parameters ('' or '#…'). */
const strip = (hash: string) =>
  hash
    .replace(FOUND, '')
    .replace(/^#?&?/, '')
    .replace(/^(?=.)/, '#');

/** `url` (absolute) without a hand-off token: a URL the recorder sends never carries one. */
export function withoutHandoff(url: string): string {
  const hash = url.indexOf('#');
  if (hash < 0 || !url.includes(PARAM, hash)) return url;
  return url.slice(0, hash) + strip(url.slice(hash));
}

/** Takes a hand-off token out of this page's URL (and its address bar), if it has one. */
export function takeHandoff(view: Window): Arrival | null {
  const { location, history } = view;
  const match = FOUND.exec(location.hash);
  if (!match) return null;
  history.replaceState(history.state, '', `${location.pathname}${location.search}${strip(location.hash)}`);
  return { token: match[1]!, paused: !!match[2] };
}

/** `url` with a hand-off token in its fragment (after any fragment of its own). */
export function withHandoff(url: URL, token: string, paused: boolean): string {
  const carried = new URL(url);
  const own = strip(url.hash);
  carried.hash = `${own ? `${own}&` : ''}${PARAM}=${token}${paused ? `&${PAUSED}` : ''}`;
  return carried.href;
}

export interface NavigationHooks {
  /** Where a URL leads: this origin, another of the session's domains, or away from them. */
  classify(url: URL): 'here' | 'listed' | 'away';
  /** The URL to use for a listed domain (with a hand-off token), or null to leave it as it is. */
  carry(url: URL): string | null;
  /** The customer is leaving for a site outside the session's domains (called as the page goes). */
  left(): void;
}

/** How long after a click on a link away a page going away counts as the customer following it. */
const LEAVING_MS = 5_000;

/** Watches link clicks and form submissions; returns a function that stops watching. */
export function watchNavigation(doc: Document, hooks: NavigationHooks): () => void {
  const view = doc.defaultView!;
  let leavingAt = -Infinity;

  /**
   * Links and forms carry the token only while the browser follows them (it reads the URL in this
   * task), so the token is fresh and the page's DOM is back as it was right after.
   */
  const briefly = (el: Element, attribute: string) => (url: string) => {
    const original = el.getAttribute(attribute);
    el.setAttribute(attribute, url);
    view.setTimeout(() => (original === null ? el.removeAttribute(attribute) : el.setAttribute(attribute, original)));
  };
  const follow = (href: string, rewrite: (url: string) => void) => {
    let url: URL;
    try {
      url = new URL(href, doc.baseURI);
    } catch {
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return;
    const where = hooks.classify(url);
    if (where === 'away') leavingAt = view.performance.now();
    const carried = where === 'listed' && hooks.carry(url);
    if (carried) rewrite(carried);
  };
  const onClick = (event: MouseEvent) => {
    const link = event
      .composedPath()
      .find(
        (node): node is HTMLAnchorElement | HTMLAreaElement =>
          (node instanceof view.HTMLAnchorElement || node instanceof view.HTMLAreaElement) && node.hasAttribute('href'),
      );
    if (link) follow(link.href, briefly(link, 'href'));
  };
  const onSubmit = (event: SubmitEvent) => {
    const form = event.target as HTMLFormElement;
    const submitter = event.submitter as HTMLButtonElement | HTMLInputElement | null;
    if (submitter?.hasAttribute('formaction')) follow(submitter.formAction, briefly(submitter, 'formaction'));
    else follow(form.action, briefly(form, 'action'));
  };
  const onPageHide = () => {
    if (view.performance.now() - leavingAt < LEAVING_MS) hooks.left();
  };
  doc.addEventListener('click', onClick, true);
  doc.addEventListener('auxclick', onClick, true);
  doc.addEventListener('submit', onSubmit, true);
  view.addEventListener('pagehide', onPageHide);
  return () => {
    doc.removeEventListener('click', onClick, true);
    doc.removeEventListener('auxclick', onClick, true);
    doc.removeEventListener('submit', onSubmit, true);
    view.removeEventListener('pagehide', onPageHide);
  };
}

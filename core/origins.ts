/**
 * Which origins a session may go to: the page's own, and the listed `domains` (`shop.example`,
 * `*.bank.example` for it and its sub-domains, `shop.example:8443` for another port) — on the
 * page's scheme, or https from an http page (never down to http), and on the page's port unless
 * the entry names one. Pure: the customer's session and the tests share it.
 */

const ENTRY = /^(\*\.)?([^:/]+|\[[^\]]+\])(?::(\d{1,5}))?$/;
const DEFAULT_PORT: Record<string, string> = { 'http:': '80', 'https:': '443' };

/** Whether `url` is on an origin a session on a page at `page` (its location) may go to. */
export function allowsOrigin(url: URL, page: URL | Location, domains: readonly string[]): boolean {
  if (url.origin === page.origin) return true;
  if (url.protocol !== page.protocol && !(page.protocol === 'http:' && url.protocol === 'https:')) return false;
  return domains.some((entry) => {
    const [, wildcard, name, port] = ENTRY.exec(entry.trim()) ?? [];
    if (!name) return false;
    let host: string;
    try {
      host = new URL(`http://${name}`).hostname; // the form URL gives (lower case, punycode)
    } catch {
      return false;
    }
    const onHost = url.hostname === host || (!!wildcard && url.hostname.endsWith(`.${host}`));
    // Without a port of its own, the entry means the page's: '' (the default) is http's 80 and https's 443 alike.
    return onHost && (port ? (url.port || DEFAULT_PORT[url.protocol]) === String(+port) : url.port === page.port);
  });
}

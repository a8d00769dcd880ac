/**
 * Which origins a session may go to, on strings already in canonical form (what `URL` gives): the
 * page's own, and the listed domains — on the page's scheme, or https from an http page (never down
 * to http), and on the page's port unless the entry names one. The customer's page applies it to
 * links; the relay to the page that redeems a hand-off token. Plain data: parsing lives with callers.
 */

/** A listed domain: its host (lower case, punycode, IPv6 in brackets), whether its sub-domains count, its port ('' = the page's). */
export interface DomainRule {
  host: string;
  subdomains: boolean;
  port: string;
}

/** An origin's parts as `URL` names them (`protocol` with its colon, `port` '' for the scheme's default). */
export interface OriginParts {
  origin: string;
  protocol: string;
  hostname: string;
  port: string;
}

const DEFAULT_PORT: Record<string, string> = { 'http:': '80', 'https:': '443' };

export function allowedBy(url: OriginParts, page: OriginParts, rules: readonly DomainRule[]): boolean {
  if (url.origin === page.origin) return true;
  if (url.protocol !== page.protocol && !(page.protocol === 'http:' && url.protocol === 'https:')) return false;
  return rules.some(({ host, subdomains, port }) => {
    const onHost = url.hostname === host || (subdomains && url.hostname.endsWith(`.${host}`));
    // Without a port of its own, the rule means the page's: '' (the default) is http's 80 and https's 443 alike.
    return onHost && (port ? (url.port || DEFAULT_PORT[url.protocol]) === port : url.port === page.port);
  });
}

/** At most this many rules travel with a hand-off request. */
export const MAX_DOMAIN_RULES = 32;

/** A rule as it may arrive on the wire (the relay checks hand-off requests with it). */
export function isDomainRule(value: unknown): value is DomainRule {
  if (typeof value !== 'object' || value === null) return false;
  const { host, subdomains, port } = value as Record<string, unknown>;
  return (
    typeof host === 'string' &&
    host.length > 0 &&
    host.length <= 255 &&
    /^(?:[a-z0-9-_.]+|\[[0-9a-f:.]+\])$/.test(host) &&
    typeof subdomains === 'boolean' &&
    typeof port === 'string' &&
    /^(?:|[1-9]\d{0,4})$/.test(port)
  );
}

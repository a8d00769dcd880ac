/**
 * The session's listed `domains` (`shop.example`, `*.bank.example` for it and its sub-domains,
 * `shop.example:8443` for another port) as rules, and the rule itself applied to a URL (see
 * protocol/origins.ts, which the relay shares). Pure: the customer's session and the tests share it.
 */
import { allowedBy, type DomainRule } from './protocol/origins.js';

const ENTRY = /^(\*\.)?([^:/]+|\[[^\]]+\])(?::(\d{1,5}))?$/;

/** An entry of `domains` in canonical form, or null when it is not one. */
export function domainRule(entry: string): DomainRule | null {
  const [, wildcard, name, port] = ENTRY.exec(entry.trim()) ?? [];
  if (!name) return null;
  try {
    const host = new URL(`http://${name}`).hostname; // the form URL gives (lower case, punycode)
    return { host, subdomains: !!wildcard, port: port ? String(+port) : '' };
  } catch {
    return null;
  }
}

export const domainRules = (domains: readonly string[]): DomainRule[] =>
  domains.map(domainRule).filter((rule): rule is DomainRule => rule !== null);

/** Whether `url` is on an origin a session on a page at `page` (its location) may go to. */
export function allowsOrigin(url: URL, page: URL | Location, domains: readonly string[]): boolean {
  return allowedBy(url, page, domainRules(domains));
}

/**
 * How the agent's browser asks the relay's asset proxy for a resource of the customer's page, and
 * how CSS is rewritten so everything it loads goes the same way. Shared by the mirror (which writes
 * proxy URLs) and the relay (which reads them, and rewrites the stylesheets it serves). Plain data.
 */

/** What the mirror expects back; the proxy passes only content types of that kind. `css`: a url() in CSS (an image or a font). */
export type AssetKind = 'image' | 'style' | 'font' | 'media' | 'css';
export const ASSET_KINDS: ReadonlySet<string> = new Set<AssetKind>(['image', 'style', 'font', 'media', 'css']);

/** Where the relay serves the proxy unless told otherwise. */
export const DEFAULT_ASSET_PATH = '/asset';

/** The longest URL the proxy fetches; longer ones are refused (and never built by the mirror). */
export const MAX_ASSET_URL = 4096;

/** Joined's `assets`: the proxy's path on the relay's host, and the grant that lets this agent use it for this session. */
export interface AssetGrant {
  path: string;
  grant: string;
}

/** A proxy URL: `proxy` is the proxy's absolute URL (e.g. https://relay.example/asset), `url` an absolute http(s) URL. */
export function assetUrl(proxy: string, grant: string, url: string, kind: AssetKind): string {
  return `${proxy}?g=${encodeURIComponent(grant)}&as=${kind}&u=${encodeURIComponent(url)}`;
}

/** The parts of a proxy request's query, or null when one is missing or malformed. */
export function parseAssetQuery(search: { get(name: string): string | null }): { grant: string; kind: AssetKind; url: string } | null {
  const grant = search.get('g');
  const kind = search.get('as');
  const url = search.get('u');
  if (!grant || !kind || !ASSET_KINDS.has(kind) || !url || url.length > MAX_ASSET_URL) return null;
  if (!/^https?:\/\//i.test(url)) return null;
  return { grant, kind: kind as AssetKind, url };
}

/** url(…) with or without quotes, and @import "…" (an @import url(…) is a url() too). */
const CSS_URL = /url\(\s*(['"]?)([^'")]*)\1\s*\)|@import\s+(['"])([^'"]+)\3/gi;

/**
 * CSS with each url() and @import passed through `map(url, isImport)`: the URL to write instead, or
 * null to write `url()` (which loads nothing). Fragment-only and data: URLs are left alone: they load nothing.
 */
export function mapCssUrls(css: string, map: (url: string, isImport: boolean) => string | null): string {
  if (!css.includes('url(') && !css.includes('@import')) return css;
  return css.replace(CSS_URL, (match, quote: string, url: string, importQuote: string, imported: string) => {
    if (imported !== undefined) {
      const mapped = map(imported, true);
      return mapped === null ? '' : `@import ${importQuote}${mapped}${importQuote}`;
    }
    const trimmed = url.trim();
    if (!trimmed || trimmed.startsWith('data:') || trimmed.startsWith('#')) return match;
    const mapped = map(trimmed, false);
    return mapped === null ? 'url()' : `url(${quote}${mapped}${quote})`;
  });
}

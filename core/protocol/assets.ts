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

/** url(…) unquoted or quoted (a quoted URL may hold parentheses), and @import "…" (an @import url(…) is a url() too). */
const CSS_URL = /url\(\s*(?:"([^"]*)"|'([^']*)'|([^'"()\s]*))\s*\)|@import\s+(?:"([^"]*)"|'([^']*)')/gi;

/**
 * What a url() that may load nothing becomes. `none` where an image goes; elsewhere (a font's src, a
 * cursor) it makes the declaration invalid, so it is dropped: either way nothing is fetched, or even tried.
 */
const NOTHING = 'none';

/**
 * CSS with each url() and @import passed through `map(url, isImport)`: the URL to write instead, or
 * null to load nothing. Fragment-only and data: URLs are left alone: they load nothing.
 */
export function mapCssUrls(css: string, map: (url: string, isImport: boolean) => string | null): string {
  if (!css.includes('url(') && !css.includes('@import')) return css;
  return css.replace(CSS_URL, (match, double?: string, single?: string, bare?: string, importDouble?: string, importSingle?: string) => {
    const imported = importDouble ?? importSingle;
    if (imported !== undefined) {
      const mapped = map(imported, true);
      const quote = importDouble !== undefined ? '"' : "'";
      return mapped === null ? '' : `@import ${quote}${mapped}${quote}`;
    }
    const url = (double ?? single ?? bare ?? '').trim();
    if (!url || url.startsWith('data:') || url.startsWith('#')) return match;
    const mapped = map(url, false);
    const quote = double !== undefined ? '"' : single !== undefined ? "'" : '';
    return mapped === null ? NOTHING : `url(${quote}${mapped}${quote})`;
  });
}

/**
 * How the mirror loads what the customer's page references. The page may be an attacker's: what
 * it names must never make the agent's browser fetch it (an address in the agent's network, the
 * console's own origin with its cookies). So by default everything goes through the relay's asset
 * proxy, which fetches only from the session's origins, and the mirror document's CSP lets it load
 * nothing else. Direct loading is an explicit choice; without either, the mirror loads nothing.
 */
import { assetUrl, mapCssUrls, type AssetKind } from '../protocol/assets.js';

/** Through the relay's proxy (its absolute URL, and this agent's grant), directly, or not at all. */
export type AssetLoading = { proxy: string; grant: string } | 'direct' | 'none';

/** What a URL attribute of an element does: loads an asset of this kind, nothing (kept as it is), or what the mirror refuses to load. */
type Use = AssetKind | 'keep' | 'drop';

const TABLE_PARTS = new Set(['body', 'table', 'thead', 'tbody', 'tfoot', 'tr', 'td', 'th']);
const MEDIA = new Set(['video', 'audio', 'source', 'track']);

/**
 * What the attribute `name` of element `tag` (its local name) does with a URL. Only the elements that
 * load one load one: a custom element's `src` or `background` is data, and stays.
 */
function useOf(tag: string, name: string, svg: boolean): Use {
  switch (name) {
    case 'src':
      return tag === 'img' || tag === 'input' ? 'image' : MEDIA.has(tag) ? 'media' : 'keep';
    case 'srcset':
      return tag === 'img' || tag === 'source' ? 'image' : 'keep';
    case 'poster':
      return tag === 'video' ? 'image' : 'keep';
    case 'background':
      return TABLE_PARTS.has(tag) ? 'image' : 'keep';
    case 'href':
    case 'xlink:href':
      if (!svg) return tag === 'link' ? 'style' : 'keep'; // other rels were refused before; a link leads, never loads
      if (tag === 'image' || tag === 'feImage') return 'image';
      // <use> and the other references into another SVG file: that file never renders across origins.
      return tag === 'a' ? 'keep' : 'drop';
    case 'ping': // a beacon on click
    case 'lowsrc':
    case 'dynsrc':
      return 'drop';
    default:
      return 'keep';
  }
}

const FETCHABLE = /^https?:\/\//i;

/** Per the HTML srcset rules: a URL runs to white space (commas inside it are its own), descriptors to a comma. */
export function mapSrcset(srcset: string, map: (url: string) => string | null): string {
  const candidates: string[] = [];
  let i = 0;
  while (i < srcset.length) {
    while (i < srcset.length && /[\s,]/.test(srcset[i]!)) i++;
    if (i >= srcset.length) break;
    const start = i;
    while (i < srcset.length && !/\s/.test(srcset[i]!)) i++;
    let url = srcset.slice(start, i);
    let descriptor = '';
    if (url.endsWith(',')) url = url.replace(/,+$/, '');
    else {
      const end = srcset.indexOf(',', i);
      descriptor = srcset.slice(i, end < 0 ? srcset.length : end).trim();
      i = end < 0 ? srcset.length : end + 1;
    }
    const mapped = map(url);
    if (mapped !== null) candidates.push(descriptor ? `${mapped} ${descriptor}` : mapped);
  }
  return candidates.join(', ');
}

export class AssetPolicy {
  /** The mirror document's Content-Security-Policy: nothing runs, and only the proxy (or, direct, the web) is loaded from. */
  readonly csp: string;
  /** Only a proxied page may keep quirks mode: in quirks mode a stylesheet may be any document, such as a console page. */
  readonly allowsQuirks: boolean;

  constructor(readonly loading: AssetLoading = 'none') {
    this.allowsQuirks = typeof loading === 'object';
    const from = typeof loading === 'object' ? exactPath(loading.proxy) : loading === 'direct' ? 'http: https:' : '';
    const sources = (...extra: string[]) => [from, ...extra].filter(Boolean).join(' ') || "'none'";
    this.csp = [
      "default-src 'none'",
      `img-src ${sources('data:', 'blob:')}`,
      `style-src ${sources("'unsafe-inline'")}`,
      `font-src ${sources('data:')}`,
      `media-src ${sources('data:', 'blob:')}`,
      "form-action 'none'",
      "base-uri 'none'",
    ].join('; ');
  }

  /** An absolute URL as the mirror loads it (a kind of asset), or null: it loads nothing. */
  url(url: string, kind: AssetKind): string | null {
    const trimmed = url.trim();
    if (trimmed.startsWith('data:')) return trimmed; // active data: URLs were refused before
    const { loading } = this;
    if (loading === 'none' || !FETCHABLE.test(trimmed)) return null;
    return loading === 'direct' ? trimmed : assetUrl(loading.proxy, loading.grant, trimmed, kind);
  }

  /** CSS whose url()s and @imports load through the proxy (or not at all). */
  css(css: string): string {
    if (this.loading === 'direct') return css;
    return mapCssUrls(css, (url, isImport) => this.url(url, isImport ? 'style' : 'css'));
  }

  /**
   * The value a URL attribute is set with, or null to leave it unset. Links and form targets keep
   * their URL (they are shown, never followed: the agent's clicks go to the customer's page).
   */
  attribute(tag: string, name: string, value: string, svg: boolean): string | null {
    if (value.trim().startsWith('#')) return value;
    const use = useOf(tag, name, svg);
    if (use === 'keep') return value;
    if (use === 'drop') return null;
    if (name === 'srcset') return mapSrcset(value, (url) => this.url(url, 'image'));
    return this.url(value, use);
  }
}

/** The proxy's URL as a CSP source that matches its path exactly (a source path without a trailing slash does). */
function exactPath(proxy: string): string {
  const url = new URL(proxy);
  return `${url.origin}${url.pathname}`;
}

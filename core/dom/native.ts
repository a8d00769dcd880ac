/** Browser APIs as the browser made them, even on a page that replaced its own. */

/**
 * The page's MutationObserver, or, when the page replaced it (some do, to watch their own DOM),
 * a clean one borrowed from a blank iframe: it keeps working after the iframe is gone.
 */
export function nativeMutationObserver(doc: Document): typeof MutationObserver {
  const own = (doc.defaultView as (Window & typeof globalThis) | null)?.MutationObserver ?? MutationObserver;
  if (/\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(own))) return own;
  const iframe = doc.createElement('iframe');
  iframe.style.display = 'none';
  doc.documentElement.append(iframe);
  const clean = (iframe.contentWindow as Window & typeof globalThis).MutationObserver;
  iframe.remove();
  return clean;
}

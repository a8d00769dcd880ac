/** Crossing between a same-origin iframe and its document; another origin's frame reads as none. */

/** The iframe (or frame) element holding `doc`, or null (the top document, or a frame of another origin). */
export function frameOf(doc: Document): Element | null {
  try {
    return doc.defaultView?.frameElement ?? null;
  } catch {
    return null;
  }
}

/** A same-origin iframe's document, or null (cross-origin, not an iframe, or not loaded). */
export function sameOriginDocument(el: Element): Document | null {
  if (el.localName !== 'iframe' && el.localName !== 'frame') return null;
  try {
    return (el as HTMLIFrameElement).contentDocument;
  } catch {
    return null;
  }
}

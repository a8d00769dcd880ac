/**
 * External SVG sprite files a `<use>` points into. The mirror may not load them (another base, the
 * asset rules), so the recorder loads each file once — from the page's own origin only, as the page
 * itself may — and sends copies of the elements used.
 */

/** Sprite files larger than this are not sent (an icon sprite is a few KB to a few hundred). */
const MAX_SPRITE_CHARS = 512 * 1024;

/** Finds element `id` of sprite file `file` (absolute URL, no fragment): null when there is none, undefined while the file loads. */
export type SpriteLookup = (file: string, id: string) => Element | null | undefined;

/** A lookup that loads each file once and keeps it (across snapshots); `onLoaded` is told when one arrives. */
export function spriteLookup(view: Window & typeof globalThis, onLoaded: () => void): SpriteLookup {
  /** By URL: pending (undefined), loaded, or unusable (null). */
  const files = new Map<string, Document | null | undefined>();
  const load = (file: string): void => {
    files.set(file, undefined);
    const done = (sprite: Document | null) => {
      files.set(file, sprite);
      if (sprite) onLoaded();
    };
    if (new URL(file).origin !== view.location.origin) return done(null);
    view
      .fetch(file, { credentials: 'same-origin' })
      .then((response) => (response.ok ? response.text() : ''))
      .then(
        (text) => {
          const parsed = text && text.length <= MAX_SPRITE_CHARS ? new view.DOMParser().parseFromString(text, 'image/svg+xml') : null;
          done(parsed && !parsed.querySelector('parsererror') ? parsed : null);
        },
        () => done(null),
      );
  };
  return (file, id) => {
    if (!files.has(file)) load(file);
    const sprite = files.get(file);
    return sprite === undefined ? undefined : (sprite?.getElementById(id) ?? null);
  };
}

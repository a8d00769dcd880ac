/** Helpers shared by the browser tests: frames to record from and mirror into, and a tree comparison. */
import { Mirror, type MirrorOptions } from '../../core/dom/mirror.js';
import { EMULATION_SHEETS, PSEUDO_MARKS } from '../../core/dom/pseudo.js';
import { checkFrame, FORWARDED } from '../../core/protocol/index.js';
import type { PatchContent as PatchFrame, SnapshotContent as SnapshotFrame } from '../../core/protocol/index.js';

/**
 * An iframe holding `html` as its own document, ready to be recorded. `written` writes the page
 * with document.open() instead of srcdoc (a srcdoc document is never in quirks mode, and its URL is
 * about:srcdoc); only tests that need that use it, because Chromium may then give some nodes wrappers from
 * another realm, which page-level hooks (attachShadow, CSSOM) cannot see.
 */
export async function sourceFrame(html: string, options: { written?: boolean } = {}): Promise<{ frame: HTMLIFrameElement; doc: Document }> {
  const frame = document.createElement('iframe');
  frame.style.cssText = 'width:800px;height:600px;border:0';
  if (options.written) {
    document.body.append(frame);
    const doc = frame.contentDocument!;
    doc.open();
    doc.write(html);
    doc.close();
    await new Promise((resolve) => setTimeout(resolve, 0));
    return { frame, doc };
  }
  const loaded = new Promise((resolve) => (frame.onload = resolve));
  frame.srcdoc = html;
  document.body.append(frame);
  await loaded;
  return { frame, doc: frame.contentDocument! };
}

/**
 * A mirror in a fresh iframe, and a sink that sends frames through JSON and validation first, as the wire would.
 * Its assets load directly (these tests are about what is recorded; test/core/mirror-assets.test.ts is about how it loads).
 */
export function mirrorFrame(options: MirrorOptions = { assets: 'direct' }): {
  mirror: Mirror;
  frames: Array<SnapshotFrame | PatchFrame>;
  sink(frame: SnapshotFrame | PatchFrame): void;
  bytes(): number;
} {
  const frame = document.createElement('iframe');
  frame.style.cssText = 'width:800px;height:600px;border:0';
  document.body.append(frame);
  const mirror = new Mirror(frame, options);
  const frames: Array<SnapshotFrame | PatchFrame> = [];
  let bytes = 0;
  return {
    mirror,
    frames,
    bytes: () => bytes,
    sink(sent) {
      const text = JSON.stringify(sent);
      bytes += text.length;
      // The Outbox numbers frames on the wire (s); the recorder's own frames carry none.
      const received = checkFrame({ s: frames.length + 1, ...JSON.parse(text) }, FORWARDED.customer) as SnapshotFrame | PatchFrame;
      frames.push(received);
      if (received.t === 'snapshot') mirror.applySnapshot(received);
      else if (!mirror.applyPatch(received)) throw new Error(`Mirror out of step at patch ${frames.length}: ${text.slice(0, 300)}`);
    },
  };
}

/** What a person would see of a tree, as text: tags, attributes, text, field state. Mirror-only additions are left out. */
export function canonical(node: Node, indent = ''): string {
  switch (node.nodeType) {
    case Node.DOCUMENT_NODE:
    case Node.DOCUMENT_FRAGMENT_NODE: {
      const owner = node as Document | ShadowRoot;
      const sheets = (owner.adoptedStyleSheets ?? []).filter((sheet) => !EMULATION_SHEETS.has(sheet));
      const adopted = sheets.length ? `${indent}{adopted ${sheets.map(rulesOf).join(' | ')}}\n` : '';
      return adopted + Array.from(node.childNodes, (c) => canonical(c, indent)).join('');
    }
    case Node.DOCUMENT_TYPE_NODE:
      return `${indent}<!doctype ${(node as DocumentType).name}>\n`;
    case Node.TEXT_NODE:
      return `${indent}"${(node as Text).data}"\n`;
    case Node.COMMENT_NODE:
      return `${indent}<!---->\n`;
    case Node.ELEMENT_NODE: {
      const el = node as Element;
      const attrs = Array.from(el.attributes)
        .filter((a) => !(a.name === 'autocomplete' && a.value === 'off') && !PSEUDO_MARKS.includes(a.name))
        .map((a) => `${a.name}="${a.value}"`)
        .sort()
        .join(' ');
      let state = '';
      if (el.localName === 'input') state = ` {value=${(el as HTMLInputElement).value} checked=${(el as HTMLInputElement).checked}}`;
      if (el.localName === 'textarea') state = ` {value=${(el as HTMLTextAreaElement).value}}`;
      if (el.localName === 'option') state = ` {selected=${(el as HTMLOptionElement).selected}}`;
      const ns = el.namespaceURI === 'http://www.w3.org/1999/xhtml' ? '' : ` ns=${el.namespaceURI}`;
      // A <style> is compared by the rules it applies: CSSOM edits change those, not its text.
      if (el.localName === 'style') return `${indent}<style ${attrs}> {css ${rulesOf((el as HTMLStyleElement).sheet)}}\n`;
      const children = el.localName === 'template' ? (el as HTMLTemplateElement).content : el;
      const shadow = el.shadowRoot ? `${indent}  #shadow-root\n${canonical(el.shadowRoot, indent + '    ')}` : '';
      const frameDoc = el.localName === 'iframe' ? (el as HTMLIFrameElement).contentDocument : null;
      const framed = frameDoc ? `${indent}  #document\n${canonical(frameDoc, indent + '    ')}` : '';
      return (
        `${indent}<${el.localName}${ns} ${attrs}>${state}\n` +
        shadow +
        framed +
        Array.from(children.childNodes, (c) => canonical(c, indent + '  ')).join('')
      );
    }
    default:
      return '';
  }
}

/** A sheet's rules; the mirror's rewrite of :hover & co. to also match its markers is undone. */
function rulesOf(sheet: CSSStyleSheet | null): string {
  const css = sheet ? Array.from(sheet.cssRules, (r) => r.cssText).join(' ') : '';
  return css.replace(/:is\(:([\w-]+), \[data-cobrowse-\1\]\)/g, ':$1');
}

/** Throws with the first differing line of two trees and a little context, instead of two whole trees. */
export function assertSameTree(actual: string, expected: string, message: string): void {
  if (actual === expected) return;
  const a = actual.split('\n');
  const e = expected.split('\n');
  let line = 0;
  while (line < a.length && a[line] === e[line]) line++;
  const context = (lines: string[]) => lines.slice(Math.max(0, line - 3), line + 3).join('\n');
  throw new Error(`${message}: trees differ at line ${line + 1}\n--- mirror ---\n${context(a)}\n--- source ---\n${context(e)}`);
}

/** Resolves after the recorder's microtask and animation-frame flushes. */
export const settle = (win: Window = window): Promise<void> =>
  new Promise((resolve) => win.requestAnimationFrame(() => setTimeout(resolve, 0)));

export { random } from './random.js';

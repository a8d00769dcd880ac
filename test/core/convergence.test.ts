/**
 * Property test: random DOM operations in random batches; after every batch the mirror
 * must equal the source. A failure names its seed: rerun with `?seed=N` in the test URL
 * or COBROWSE_SEED.
 */
import { expect } from '@open-wc/testing';
import { record } from '../../core/dom/recorder.js';
import { Op } from '../../core/protocol/index.js';
import { assertSameTree, canonical, mirrorFrame, random, sourceFrame } from '../helpers/dom.js';

const OPERATIONS = 10_000;
const TAGS = ['div', 'span', 'p', 'ul', 'li', 'b', 'section', 'input', 'textarea', 'x-widget'];
const ATTRIBUTES = ['class', 'title', 'data-x', 'style', 'aria-label'];

/** True when `node` is `target` or holds it, through shadow roots too (an insert there would be a cycle). */
function shadowIncludingAncestor(node: Node, target: Node): boolean {
  for (let n: Node | null = target; n; n = n.parentNode ?? (n as ShadowRoot).host ?? null) if (n === node) return true;
  return false;
}

describe('convergence under random mutations', () => {
  it(`converges after ${OPERATIONS.toLocaleString('en')} random operations in random batches`, async function () {
    this.timeout(120_000);
    const seed = Number(new URLSearchParams(location.search).get('seed')) || 20261128;
    const rand = random(seed);
    const pick = <T>(items: ArrayLike<T>): T => items[Math.floor(rand() * items.length)]!;
    const { doc } = await sourceFrame(
      '<!doctype html><html><head><style id="sheet">.a { color: red; }</style></head>' +
        '<body><div id="root" style="height:300px;overflow:auto"></div></body></html>',
    );
    const win = doc.defaultView as Window & typeof globalThis;
    const { mirror, sink, frames } = mirrorFrame();
    const rec = record({ emit: sink, doc });
    const root = doc.getElementById('root')!;
    const sheet = (doc.getElementById('sheet') as HTMLStyleElement).sheet!;
    const shared = new win.CSSStyleSheet();
    shared.replaceSync('b { font-weight: 700; }');

    /** Every container we may touch: the root, its elements, and the open shadow roots under them. */
    const containers = (): Array<Element | ShadowRoot> => {
      const out: Array<Element | ShadowRoot> = [];
      const visit = (scope: Element | ShadowRoot) => {
        out.push(scope);
        for (const el of Array.from(scope.querySelectorAll('*'))) {
          if (!/^(input|textarea)$/.test(el.localName)) out.push(el);
          if (el.shadowRoot) visit(el.shadowRoot);
        }
      };
      visit(root);
      return out;
    };
    const nodesIn = (scopes: Array<Element | ShadowRoot>): Node[] => scopes.flatMap((s) => Array.from(s.childNodes));
    const elements = (scopes: Array<Element | ShadowRoot>) => scopes.filter((s): s is Element => s.nodeType === 1);

    let done = 0;
    let lastSeen = 0;
    for (let batch = 0; done < OPERATIONS; batch++) {
      const size = 1 + Math.floor(rand() * 16);
      for (let i = 0; i < size; i++, done++) {
        const scopes = containers();
        const roll = rand();
        if (roll < 0.26) {
          const node = rand() < 0.75 ? doc.createElement(pick(TAGS)) : doc.createTextNode(`t${done}`);
          const parent = pick(scopes);
          const kids = parent.childNodes;
          parent.insertBefore(node, kids.length && rand() < 0.6 ? pick(kids) : null);
        } else if (roll < 0.38) {
          const nodes = nodesIn(scopes);
          if (nodes.length) (pick(nodes) as ChildNode).remove();
        } else if (roll < 0.5) {
          // Move: between parents, before a sibling, into or out of shadow roots.
          const nodes = nodesIn(scopes);
          const parent = pick(scopes);
          if (nodes.length) {
            const node = pick(nodes);
            if (!shadowIncludingAncestor(node, parent)) parent.insertBefore(node, parent.firstChild);
          }
        } else if (roll < 0.62) {
          const el = pick(elements(scopes));
          const name = pick(ATTRIBUTES);
          if (rand() < 0.8) el.setAttribute(name, name === 'style' ? `margin-left:${done % 7}px` : `v${done}`);
          else el.removeAttribute(name);
        } else if (roll < 0.72) {
          const texts = nodesIn(scopes).filter((n) => n.nodeType === 3) as Text[];
          if (texts.length) pick(texts).data = `edit${done}`;
        } else if (roll < 0.78) {
          const hosts = elements(scopes).filter((e) => /^(div|span|section|p|x-widget)$/.test(e.localName) && !e.shadowRoot);
          if (hosts.length) {
            const shadow = pick(hosts).attachShadow({ mode: 'open' });
            shadow.innerHTML = `<b>shadow ${done}</b><slot></slot>`;
            if (rand() < 0.5) shadow.adoptedStyleSheets = [shared];
          }
        } else if (roll < 0.84) {
          if (rand() < 0.6 || sheet.cssRules.length < 2)
            sheet.insertRule(`.c${done % 9} { padding: ${done % 5}px; }`, sheet.cssRules.length);
          else sheet.deleteRule(Math.floor(rand() * sheet.cssRules.length));
          if (rand() < 0.2) shared.replaceSync(`b { font-weight: ${rand() < 0.5 ? 400 : 700}; }`);
        } else if (roll < 0.94) {
          const fields = containers().flatMap((s) => Array.from(s.querySelectorAll('input,textarea'))) as HTMLInputElement[];
          if (fields.length) {
            const field = pick(fields);
            field.value = `typed${done}`;
            field.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
          }
        } else {
          root.append(Object.assign(doc.createElement('div'), { style: 'height:400px' }));
          root.scrollTop = Math.floor(rand() * 200);
          root.dispatchEvent(new Event('scroll'));
        }
      }
      // The customer's pointer and focus move too: the mirror marks what they touch, invisibly to the comparison.
      if (rand() < 0.3) {
        const targets = elements(containers());
        pick(targets).dispatchEvent(new MouseEvent(rand() < 0.8 ? 'mouseover' : 'mousedown', { bubbles: true, composed: true }));
        const fields = containers().flatMap((s) => Array.from(s.querySelectorAll('input,textarea'))) as HTMLElement[];
        if (fields.length && rand() < 0.3) pick(fields).focus();
      }
      // Half the batches end in the observer's own microtask, half in an explicit flush.
      if (rand() < 0.5) await Promise.resolve();
      await Promise.resolve();
      rec.flush();
      const seen = frames.length;
      try {
        assertSameTree(canonical(mirror.document), canonical(doc), `seed ${seed}, batch ${batch}, after ${done} operations`);
      } catch (error) {
        console.log('last frames', JSON.stringify(frames.slice(Math.max(0, lastSeen - 1))).slice(0, 6000));
        throw error;
      }
      lastSeen = seen;
      if (root.scrollTop !== (mirror.document.getElementById('root') as HTMLElement).scrollTop) {
        expect.fail(
          `seed ${seed}, batch ${batch}: scroll ${root.scrollTop} mirrored as ${(mirror.document.getElementById('root') as HTMLElement).scrollTop}`,
        );
      }
    }
    const pseudo = frames.flatMap((f) => ('ops' in f ? f.ops : [])).filter((op) => op[0] === Op.Pseudo);
    expect(pseudo.length, 'hover, focus and active ops were sent').to.be.greaterThan(50);
    rec.stop();
  });
});

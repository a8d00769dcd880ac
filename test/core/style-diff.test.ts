import { expect } from '@open-wc/testing';
import { record } from '../../core/dom/recorder.js';
import { declarations, styleDiff } from '../../core/dom/style-diff.js';
import { Op, type PatchOp } from '../../core/protocol/index.js';
import { assertSameTree, canonical, mirrorFrame, random, settle, sourceFrame } from '../helpers/dom.js';
import { IN_FIREFOX } from '../helpers/browser.js';

/**
 * A copy of `doc`'s tree whose style attributes list what they declare (longhand, value, priority), sorted.
 * Gecko serializes shorthands from the order of a block's declarations, which the mirror's setProperty
 * sequence does not always rebuild after a priority change: the same declarations may then read
 * `border-right: 2px solid red !important` on the page and `border-right-color: red !important` (after
 * `border-width: 2px !important`) in the mirror. Firefox compares what styles declare; Chromium, their text.
 */
function declared(doc: Document): Node {
  const copy = doc.documentElement.cloneNode(true) as Element;
  const copies = [copy, ...copy.querySelectorAll('*')];
  [doc.documentElement, ...doc.documentElement.querySelectorAll('*')].forEach((el, i) => {
    const style = (el as HTMLElement).style;
    if (!el.hasAttribute('style') || !style) return;
    const longhands = Array.from(
      style,
      (name) => `${name}: ${style.getPropertyValue(name)}${style.getPropertyPriority(name) ? ' !important' : ''};`,
    );
    copies[i]!.setAttribute('style', longhands.sort().join(' '));
  });
  return copy;
}
const inlineStyles = (doc: Document): string => canonical(IN_FIREFOX ? declared(doc) : doc);

const opsOf = (frames: Array<{ t: string; ops?: PatchOp[] }>, code: number): PatchOp[] =>
  frames.flatMap((f) => f.ops ?? []).filter((op) => op[0] === code);

describe("style diff: parsing and diffing the CSSOM's serialization", () => {
  it('splits declarations, keeping strings, url()s and priorities whole', () => {
    expect(declarations('left: 1px; top: 2px;')).to.deep.equal(['left', '1px', 'top', '2px']);
    expect(declarations('content: "a; b"; background: url("x;y.png") !important; --v: { a };')).to.deep.equal([
      'content',
      '"a; b"',
      'background',
      'url("x;y.png") !important',
      '--v',
      '{ a }',
    ]);
    expect(declarations('')).to.deep.equal([]);
    for (const text of ['left:1px', 'left: 1px', 'left: 1px; ', '--v: { a; b };', 'left: 1px;top: 2px;', 'left: ;', '1x: 2;'])
      expect(declarations(text), text).to.equal(null);
  });

  it('sends changed, added and removed declarations; refuses what would not rebuild the same text', () => {
    expect(styleDiff('left: 1px; top: 2px;', 'left: 3px; top: 2px;')).to.deep.equal(['left', '3px']);
    expect(styleDiff('left: 1px; top: 2px;', 'top: 2px; color: red;')).to.deep.equal(['left', null, 'color', 'red']);
    expect(styleDiff('left: 1px;', 'left: 1px;')).to.deep.equal([]);
    expect(styleDiff('left: 1px; top: 2px;', 'top: 2px; left: 1px;'), 'moved').to.equal(null);
    expect(styleDiff('left: 1px;', 'left:2px'), 'not the CSSOM form').to.equal(null);
    expect(styleDiff('left: 1px;', 'left: 2px; left: 3px;'), 'a name twice').to.equal(null);
  });
});

describe('style diff: recorder → mirror', () => {
  it('sends a CSSOM style change as the changed declarations only', async () => {
    const { doc } = await sourceFrame(
      '<!doctype html><body><div id="d" style="position: absolute; left: 1px; top: 2px; width: 10px; height: 10px; background: red;"></div></body>',
    );
    const { mirror, sink, frames } = mirrorFrame();
    const rec = record({ emit: sink, doc });
    const d = doc.getElementById('d')!;
    for (let i = 0; i < 3; i++) {
      d.style.left = `${10 + i}px`;
      d.style.top = `${20 + i}px`;
      await settle(doc.defaultView!);
      expect(canonical(mirror.document)).to.equal(canonical(doc));
    }
    // The first change sends the whole attribute (the recorder did not know the mirror's), then only diffs.
    expect(opsOf(frames, Op.Attr)).to.have.length(1);
    expect(opsOf(frames, Op.StyleDiff).map((op) => op.slice(2))).to.deep.equal([
      [
        ['left', 'top'],
        ['11px', '21px'],
      ],
      [
        ['left', 'top'],
        ['12px', '22px'],
      ],
    ]);
    d.style.setProperty('color', 'blue', 'important');
    d.style.removeProperty('background');
    await settle(doc.defaultView!);
    expect(canonical(mirror.document)).to.equal(canonical(doc));
    expect(opsOf(frames, Op.StyleDiff).at(-1)!.slice(2)).to.deep.equal([
      ['background', 'color'],
      [null, 'blue !important'],
    ]);
    rec.stop();
  });

  it('sends many elements changing the same properties as one op: one row each, or one row for all', async () => {
    const dots = Array.from({ length: 4 }, (_, i) => `<i style="left: ${i}px; top: 0px; color: red; width: 10px;"></i>`).join('');
    const { doc } = await sourceFrame(`<!doctype html><body>${dots}</body>`);
    const { mirror, sink, frames } = mirrorFrame();
    const rec = record({ emit: sink, doc });
    const all = Array.from(doc.querySelectorAll('i'));
    for (const step of [1, 2, 3]) {
      all.forEach((dot, i) => (dot.style.left = `${i * 10 + step}px`));
      await settle(doc.defaultView!);
    }
    all.forEach((dot) => (dot.style.top = '5px'));
    await settle(doc.defaultView!);
    expect(canonical(mirror.document)).to.equal(canonical(doc));
    const diffs = opsOf(frames, Op.StyleDiff);
    expect(diffs).to.have.length(3);
    expect(diffs[0]![2]).to.deep.equal(['left']);
    expect(diffs[0]![3]).to.deep.equal(['2px', '12px', '22px', '32px']);
    expect(diffs[2]!.slice(2)).to.deep.equal([['top'], ['5px']]);
    rec.stop();
  });

  it('converges under random CSSOM and attribute edits of inline styles', async function () {
    this.timeout(60_000);
    const { doc } = await sourceFrame('<!doctype html><body><div id="root"></div></body>');
    const { mirror, sink, frames } = mirrorFrame();
    const rec = record({ emit: sink, doc });
    const root = doc.getElementById('root')!;
    for (let i = 0; i < 6; i++) root.append(doc.createElement(i % 2 ? 'span' : 'div'));
    await settle(doc.defaultView!);
    const rand = random(77);
    const pick = <T>(items: ArrayLike<T>): T => items[Math.floor(rand() * items.length)]!;
    const PROPS: Array<[string, () => string]> = [
      ['left', () => `${Math.floor(rand() * 500)}px`],
      ['top', () => `${Math.floor(rand() * 500)}px`],
      ['margin', () => `${Math.floor(rand() * 9)}px ${Math.floor(rand() * 9)}px`],
      ['margin-top', () => `${Math.floor(rand() * 9)}px`],
      ['border', () => `${1 + Math.floor(rand() * 3)}px solid red`],
      ['border-top-color', () => pick(['blue', 'green'])],
      ['background', () => pick(['red', 'url("data:image/gif;base64,R0lGODlhAQABAAAAACw=") no-repeat', 'linear-gradient(red, blue)'])],
      ['background-color', () => pick(['white', 'black'])],
      ['transform', () => `translate(${Math.floor(rand() * 99)}px, 3px) rotate(${Math.floor(rand() * 90)}deg)`],
      ['--accent', () => pick(['#fff', ' 3px ', 'a b'])],
      ['opacity', () => String(Math.round(rand() * 10) / 10)],
      ['font-family', () => pick(['"Open Sans", serif', 'monospace'])],
    ];
    for (let batch = 0; batch < 300; batch++) {
      const edits = 1 + Math.floor(rand() * 5);
      for (let i = 0; i < edits; i++) {
        const el = pick(root.children) as HTMLElement;
        const roll = rand();
        const [prop, value] = pick(PROPS);
        if (roll < 0.65) el.style.setProperty(prop, value(), rand() < 0.1 ? 'important' : '');
        else if (roll < 0.85) el.style.removeProperty(prop);
        else if (roll < 0.9) el.setAttribute('style', `${prop}:${value()}`);
        else if (roll < 0.93) {
          // Hand-written text that looks like the CSSOM's: overlapping shorthands, upper case.
          const [other, otherValue] = pick(PROPS);
          const v = value();
          // (URLs are made absolute, which writes the scheme in lower case: not what is tested here.)
          el.setAttribute(
            'style',
            `${el.style.cssText} ${prop}: ${v.includes('url(') ? v : v.toUpperCase()}; ${other}: ${otherValue()};`.trim(),
          );
        } else if (roll < 0.96) el.removeAttribute('style');
        else root.insertBefore(el, root.firstChild);
      }
      await Promise.resolve();
      rec.flush();
      assertSameTree(inlineStyles(mirror.document), inlineStyles(doc), `batch ${batch}`);
    }
    expect(opsOf(frames, Op.StyleDiff).length).to.be.greaterThan(100);
    rec.stop();
  });
});

describe('style diff: validation', () => {
  it('refuses malformed style-diff ops', async () => {
    const { checkFrame, FORWARDED } = await import('../../core/protocol/index.js');
    const patch = (op: unknown) => () => checkFrame({ t: 'patch', s: 1, ops: [op] }, FORWARDED.customer);
    expect(patch([Op.StyleDiff, 3, ['left', 'top'], ['1px', null]])).not.to.throw();
    expect(patch([Op.StyleDiff, [3, 4], ['left'], ['1px']])).not.to.throw();
    expect(patch([Op.StyleDiff, [3, 4], ['left'], ['1px', '2px']])).not.to.throw();
    for (const bad of [
      [Op.StyleDiff, 3, [], []],
      [Op.StyleDiff, 3, ['left'], []],
      [Op.StyleDiff, 3, [''], ['1px']],
      [Op.StyleDiff, 3, [1], ['1px']],
      [Op.StyleDiff, 'x', ['left'], ['1px']],
      [Op.StyleDiff, [], ['left'], ['1px']],
      [Op.StyleDiff, 3, ['left'], '1px'],
      [Op.StyleDiff, [3, 4], ['left'], ['1px', '2px', '3px']],
      [Op.StyleDiff, 3, ['left'], [1]],
    ]) {
      expect(patch(bad), JSON.stringify(bad)).to.throw();
    }
  });
});

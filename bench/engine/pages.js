/**
 * Pages the benchmark serves: generated "shop" pages of a given node count, the attribute
 * storm page, the heap page, the iframe page and the mirror page. Deterministic: the same
 * size always gives the same page, byte for byte.
 */

/** rrweb's six mutation benchmarks (bench/fixtures/mutation-bench/), by short name. */
export const WORKLOADS = [
  ['1000x10 nodes', 'benchmark-dom-mutation.html'],
  ['add-and-remove', 'benchmark-dom-mutation-add-and-remove.html'],
  ['multiple-descendant-add', 'benchmark-dom-mutation-multiple-descendant-add.html'],
  ['add-and-move', 'benchmark-dom-mutation-add-and-move.html'],
  ['attributes', 'benchmark-dom-mutation-attributes.html'],
  ['deep-nested', 'benchmark-dom-mutation-deep-nested.html'],
];

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
const VOID = new Set(['img', 'input', 'br', 'meta', 'link']);

/** A tiny builder that counts the DOM nodes its HTML will parse into. */
function el(tag, attrs, ...children) {
  let html = `<${tag}`;
  for (const [name, value] of Object.entries(attrs ?? {}))
    if (value !== undefined && value !== false) html += value === true ? ` ${name}` : ` ${name}="${esc(value)}"`;
  html += '>';
  let nodes = 1;
  if (VOID.has(tag)) return { html, nodes };
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    if (typeof child === 'string') {
      html += esc(child);
      nodes += 1;
    } else {
      html += child.html;
      nodes += child.nodes;
    }
  }
  return { html: `${html}</${tag}>`, nodes };
}

const WORDS =
  'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua'.split(' ');
const words = (i, n) => Array.from({ length: n }, (_, k) => WORDS[(i * 7 + k * 3) % WORDS.length]).join(' ');
const COLORS = ['red', 'green', 'blue', 'black', 'white', 'teal', 'orange'];

/** One product card: divs, text, a link, an image, a form with inputs, a table, a list; classes and inline styles. */
function card(i) {
  const kids = [
    el('h3', { class: 'title' }, `Product ${i}`),
    el(
      'p',
      { class: 'desc' },
      `${words(i, 8)} `,
      el('a', { href: `/product/${i}?ref=list`, class: 'link' }, 'details'),
      ` ${words(i + 1, 5)}.`,
    ),
    el('img', { src: `/img/${i % 16}.png`, alt: `Product ${i}`, width: 32, height: 32, loading: 'lazy', class: 'thumb' }),
    // Fields in a div, not a <form>: Chromium's autofill scans every form on load, and thousands
    // of forms make a 100k-node page take 20 s to load (and the mirrors as long to settle).
    el(
      'div',
      { class: 'row', role: 'group' },
      el('label', { for: `q${i}` }, 'Qty'),
      el('input', { id: `q${i}`, name: 'qty', type: 'number', value: (i % 9) + 1 }),
      el('input', { type: 'text', name: 'note', placeholder: 'Gift note', value: i % 3 ? '' : `note ${i}` }),
      i % 10 === 0 ? el('input', { type: 'password', name: 'pin', value: 'hunter2' }) : null,
      i % 4 === 0
        ? el(
            'select',
            { name: 'size' },
            el('option', { value: 's' }, 'Small'),
            el('option', { value: 'm', selected: true }, 'Medium'),
            el('option', { value: 'l' }, 'Large'),
          )
        : null,
      el('button', { type: 'button', class: `btn ${i % 2 ? 'primary' : 'secondary'}` }, 'Add to cart'),
    ),
    el(
      'table',
      { class: 'specs' },
      el(
        'tbody',
        {},
        el('tr', {}, el('th', {}, 'Weight'), el('td', {}, `${(i % 50) + 1} kg`)),
        el('tr', {}, el('th', {}, 'Colour'), el('td', {}, COLORS[i % COLORS.length])),
      ),
    ),
    el('ul', { class: 'tags' }, el('li', {}, words(i, 1)), el('li', {}, words(i + 2, 1)), el('li', {}, words(i + 4, 1))),
  ];
  return el(
    'div',
    {
      class: `card card-${i % 7}${i % 5 === 0 ? ' featured' : ''}`,
      id: `card-${i}`,
      style: i % 3 === 0 ? `margin:${i % 5}px;padding:8px;border:1px solid #ddd` : undefined,
      'data-sku': `SKU-${100000 + i}`,
    },
    kids,
  );
}

const STYLE = `
body{font:14px/1.4 sans-serif;margin:0}
.card{display:inline-block;vertical-align:top;width:220px;margin:4px;padding:6px;border:1px solid #eee}
.card.featured{border-color:gold}
.title{font-size:15px;margin:0 0 4px}
.desc{color:#444;margin:0 0 4px}
.link{color:#06c}
.thumb{float:right}
.row input{width:60px}
.btn{padding:2px 6px}.btn.primary{background:#06c;color:#fff}
.specs{font-size:12px;border-collapse:collapse}.specs th{text-align:left;padding-right:6px}
.tags{margin:0;padding-left:16px;font-size:12px}
.dot{position:absolute;width:16px;height:16px;border-radius:8px}
`;

/** CSS served as /style.css (rrweb inlines linked stylesheets; we keep the link). */
export const STYLESHEET =
  '.card-0{background:#fafafa}.card-1{background:#f5f5ff}.card-2{background:#fff5f5}.card-3{background:#f5fff5}header nav a{margin-right:8px}\n';

function head(title, script) {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style><link rel="stylesheet" href="/style.css">${script}</head>`;
}

const header = el(
  'header',
  { class: 'top' },
  el('nav', {}, ...['Home', 'Shop', 'Deals', 'Help'].map((w) => el('a', { href: `/${w.toLowerCase()}` }, w))),
  el(
    'form',
    { action: '/search', class: 'search' },
    el('input', { type: 'search', name: 'q', placeholder: 'Search' }),
    el('button', { type: 'submit' }, 'Go'),
  ),
);

/** Cards until the body holds about `target` nodes (elements, text, whitespace). */
function cards(target) {
  let html = header.html + '\n';
  let nodes = 2 + header.nodes; // body, the newline after the header
  for (let i = 0; nodes < target; i++) {
    const c = card(i);
    html += c.html + '\n';
    nodes += c.nodes + 1;
  }
  return { html, nodes };
}

const cache = new Map();
/** A generated page of about `target` nodes. */
export function generatedPage(target, script) {
  if (!cache.has(target)) cache.set(target, cards(target).html);
  return `${head(`Generated ${target}`, script)}<body>\n${cache.get(target)}</body></html>`;
}

/** 200 absolutely positioned dots over a small page; harness.storm() moves them. */
export function stormPage(script, dots = 200) {
  let html = '';
  for (let i = 0; i < dots; i++) {
    html += `<div class="dot" style="left:${(i * 37) % 900}px;top:${(i * 53) % 600}px;background-color:hsl(${(i * 47) % 360},70%,50%)"></div>`;
  }
  return `${head('Attribute storm', script)}<body>\n${cards(1000).html}<div id="stage">${html}</div></body></html>`;
}

/** A 1,000-node page with 50 empty boxes that harness.mutations() fills and empties. */
export function heapPage(script) {
  let boxes = '';
  for (let i = 0; i < 50; i++) boxes += `<div class="box" id="box-${i}"></div>`;
  return `${head('Heap', script)}<body>\n${cards(1000).html}<div id="heap-root">${boxes}</div></body></html>`;
}

/** The same-origin document mounted and unmounted by harness.iframes(). */
export function framePage() {
  return `${head('Frame', '')}<body>${card(1).html}${card(2).html}</body></html>`;
}

export function mirrorPage(script) {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Mirror</title>${script}</head><body></body></html>`;
}

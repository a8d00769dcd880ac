/**
 * Highlight marks, drawn the same way on both sides: anchored to an element, positioned
 * from its box every frame, so they follow scrolling and reflow.
 */
import { svg, nothing, type TemplateResult } from 'lit';
import type { HighlightKind } from '../../core/protocol/index.js';

export interface Mark {
  id: number;
  kind: HighlightKind;
  /** (x, y) pairs from the anchor element's top-left corner, in CSS px of the customer's page. */
  points: number[];
  /** When it disappears (ms since the epoch). */
  expires: number;
}

/** Radius of a spotlight, in CSS px of the customer's page. */
const SPOT_RADIUS = 70;

/**
 * The marks as one SVG layer. `place` returns an anchor's top-left in the layer's coordinates
 * (or null while the anchor is not on the page); `scale` maps page px to layer px.
 */
export function renderMarks(marks: Mark[], place: (mark: Mark) => [number, number] | null, scale: number): TemplateResult | typeof nothing {
  const placed = marks.map((mark) => [mark, place(mark)] as const).filter(([, at]) => at !== null) as Array<
    readonly [Mark, [number, number]]
  >;
  if (!placed.length) return nothing;
  const point = ([x, y]: [number, number], mark: Mark, i: number) => [x + mark.points[i]! * scale, y + mark.points[i + 1]! * scale];
  const spots = placed.filter(([mark]) => mark.kind === 'spot');
  return svg`<svg class="marks" part="highlights" aria-hidden="true" width="100%" height="100%">
    ${
      spots.length
        ? svg`<mask id="spots"><rect width="100%" height="100%" fill="white"></rect>
          ${spots.map(([mark, at]) => {
            const [cx, cy] = point(at, mark, 0);
            return svg`<circle cx=${cx} cy=${cy} r=${SPOT_RADIUS * scale} fill="black"></circle>`;
          })}
        </mask><rect width="100%" height="100%" fill="rgb(0 0 0 / 0.45)" mask="url(#spots)"></rect>`
        : nothing
    }
    ${placed.map(([mark, at]) => {
      if (mark.kind === 'rect') {
        const [x1, y1] = point(at, mark, 0);
        const [x2, y2] = point(at, mark, 2);
        return svg`<rect class="mark" x=${Math.min(x1!, x2!)} y=${Math.min(y1!, y2!)} width=${Math.abs(x2! - x1!)} height=${Math.abs(y2! - y1!)} rx="4"></rect>`;
      }
      if (mark.kind === 'pen') {
        const pts: string[] = [];
        for (let i = 0; i < mark.points.length; i += 2) pts.push(point(at, mark, i).join(','));
        return svg`<polyline class="mark" points=${pts.join(' ')}></polyline>`;
      }
      return nothing;
    })}
  </svg>`;
}

/** Styles for the layer; the color is `--cobrowse-highlight`. */
export const marksCss = `
  .marks { position: absolute; inset: 0; pointer-events: none; overflow: visible; }
  .mark { fill: none; stroke: var(--cobrowse-highlight, #f59e0b); stroke-width: 3; stroke-linecap: round; stroke-linejoin: round; }
`;

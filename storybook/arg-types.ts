/**
 * The Controls and docs tables of an element, from custom-elements.json. Storybook's own reader keys
 * every row by its bare name, so `<cobrowse-toolbar>`'s `mode` part replaced its `mode` attribute;
 * here parts are `::part(name)`, slots `slot:name` and methods `name()`, and private members are left out.
 */
import type { ArgTypes } from '@storybook/web-components-vite';
import type { InputType } from 'storybook/internal/types';

interface Item {
  name: string;
  description?: string;
  summary?: string;
  type?: { text: string };
  default?: string;
  kind?: string;
  privacy?: string;
  static?: boolean;
  readonly?: boolean;
  attribute?: string;
  fieldName?: string;
  parameters?: { name: string; type?: { text: string } }[];
  return?: { type?: { text: string } };
}

interface Declaration extends Item {
  tagName?: string;
  customElement?: boolean;
  members?: Item[];
  attributes?: Item[];
  events?: Item[];
  slots?: Item[];
  cssParts?: Item[];
  cssProperties?: Item[];
}

export interface Manifest {
  modules: { declarations?: Declaration[] }[];
}

/** The manifest entry of a custom element, by tag name. */
export function elementOf(manifest: Manifest, tagName: string): Declaration | undefined {
  return manifest.modules.flatMap((m) => m.declarations ?? []).find((d) => d.customElement && d.tagName === tagName);
}

const row = (item: Item, category: string, type = item.type?.text): InputType => ({
  name: item.name,
  description: item.description ?? item.summary ?? '',
  table: {
    category,
    ...(type && { type: { summary: type } }),
    ...(item.default !== undefined && { defaultValue: { summary: item.default } }),
  },
});

/** One table row per attribute, property, method, event, slot, part and CSS custom property. */
export function argTypesOf(manifest: Manifest, tagName: string): ArgTypes {
  const element = elementOf(manifest, tagName);
  if (!element) return {};
  const rows: [string, InputType][] = [];
  const attributeFields = new Set((element.attributes ?? []).map((a) => a.fieldName));
  const isPublic = (m: Item) => m.privacy !== 'private' && m.privacy !== 'protected' && !m.static;

  // Attributes are keyed by their property's name, so a story's args (properties) fill them.
  for (const a of element.attributes ?? []) rows.push([a.fieldName ?? a.name, { ...row(a, 'attributes'), name: a.name }]);
  for (const m of (element.members ?? []).filter(isPublic)) {
    if (m.kind === 'field' && !attributeFields.has(m.name)) {
      rows.push([m.name, { ...row(m, 'properties'), ...(m.readonly && { control: false }) }]);
    } else if (m.kind === 'method') {
      const signature = `(${(m.parameters ?? []).map((p) => `${p.name}: ${p.type?.text ?? 'unknown'}`).join(', ')}) => ${m.return?.type?.text ?? 'void'}`;
      rows.push([`${m.name}()`, { ...row(m, 'methods', signature), name: `${m.name}()`, control: false }]);
    }
  }
  for (const e of element.events ?? []) rows.push([e.name, { ...row(e, 'events'), control: false }]);
  for (const s of element.slots ?? [])
    rows.push([`slot:${s.name || 'default'}`, { ...row(s, 'slots'), name: s.name || '(default)', control: false }]);
  for (const p of element.cssParts ?? [])
    rows.push([`::part(${p.name})`, { ...row(p, 'css shadow parts'), name: `::part(${p.name})`, control: false }]);
  for (const p of element.cssProperties ?? []) rows.push([p.name, { ...row(p, 'css custom properties'), control: false }]);
  return Object.fromEntries(rows);
}

/** The two themes the stories switch between, as the `--cobrowse-*` custom properties a site would set. */
export const Theme = { Light: 'light', Dark: 'dark' } as const;
export type Theme = (typeof Theme)[keyof typeof Theme];

export interface ThemeTokens {
  /** The page around the elements (not an element property). */
  page: string;
  pageText: string;
  properties: Record<`--cobrowse-${string}`, string>;
}

export const THEMES: Record<Theme, ThemeTokens> = {
  // The elements' own defaults, spelled out so the docs show what a site can override.
  [Theme.Light]: {
    page: '#ffffff',
    pageText: '#14213d',
    properties: {
      '--cobrowse-accent': '#0b5fff',
      '--cobrowse-surface': '#ffffff',
      '--cobrowse-text': '#14213d',
      '--cobrowse-muted': '#5b6474',
      '--cobrowse-radius': '12px',
      '--cobrowse-shared-color': '#e5484d',
      '--cobrowse-toolbar-background': '#f3f5f9',
      '--cobrowse-toolbar-text': '#14213d',
      '--cobrowse-stage-background': '#dfe3ea',
    },
  },
  [Theme.Dark]: {
    page: '#0f1420',
    pageText: '#e6eaf2',
    properties: {
      '--cobrowse-accent': '#5b9dff',
      '--cobrowse-surface': '#1b2230',
      '--cobrowse-text': '#e6eaf2',
      '--cobrowse-muted': '#a3adbf',
      '--cobrowse-radius': '12px',
      '--cobrowse-shared-color': '#ff6b6b',
      '--cobrowse-toolbar-background': '#161c28',
      '--cobrowse-toolbar-text': '#e6eaf2',
      '--cobrowse-stage-background': '#0b1018',
    },
  },
};

/** The agent bundle: the viewer and its toolbar. */
export { CobrowseViewer } from './viewer/cobrowse-viewer.js';
export { CobrowseToolbar } from './toolbar/cobrowse-toolbar.js';
export { viewerStrings, registerViewerStrings, type ViewerStrings } from './viewer/strings.js';
export type * from './events.js';

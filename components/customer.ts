/** The customer bundle: only what a customer's page needs. */
export { CobrowseLauncher } from './launcher/cobrowse-launcher.js';
export { launcherStrings, registerLauncherStrings, type LauncherStrings } from './launcher/strings.js';
export type * from './events.js';

/**
 * The customer's session survives a reload: its ID and resume token live in IndexedDB.
 * The store is a lazy default parameter, so tests can hand in their own.
 */
import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import type { Mode } from './protocol/index.js';

export interface StoredSession {
  code: string;
  token: string;
  mode: Mode;
  relay: string;
  /** True while the customer has paused sharing. */
  paused: boolean;
}

const KEY = 'session';
let defaultStore: UseStore | undefined;
const store = (): UseStore => (defaultStore ??= createStore('cobrowse', 'session'));

export async function loadSession(useStore: UseStore = store()): Promise<StoredSession | undefined> {
  try {
    return await get<StoredSession>(KEY, useStore);
  } catch {
    return undefined; // private mode or blocked storage: start afresh
  }
}

export async function saveSession(session: StoredSession, useStore: UseStore = store()): Promise<void> {
  await set(KEY, session, useStore).catch(() => undefined);
}

export async function clearSession(useStore: UseStore = store()): Promise<void> {
  await del(KEY, useStore).catch(() => undefined);
}

/** The engine, for teams building their own UI: protocol, recorder, mirror, sessions. */
export * from './protocol/index.js';
export { Masker, MASK, OWN_UI, watchPasswords, type MaskOptions } from './dom/mask.js';
export { NodeIds, serializeNode, snapshotDocument } from './dom/serializer.js';
export { record, type RecordOptions, type Recording } from './dom/recorder.js';
export { Mirror, MIRROR_SANDBOX, isUnsafeAttribute, type MirrorOptions } from './dom/mirror.js';
export {
  Transport,
  SUBPROTOCOL,
  bearerProtocol,
  webSocketConnection,
  type Connection,
  type ConnectionFactory,
  type TransportEvents,
  type TransportOptions,
} from './transport.js';
export { CustomerSession, CustomerState, type Consent, type CustomerEvents, type CustomerSessionOptions } from './customer-session.js';
export {
  AgentSession,
  AgentState,
  type AgentEvents,
  type AgentSessionOptions,
  type Command,
  type CommandResult,
  type LinkStatus,
} from './agent-session.js';
export { collectPlatform } from './platform.js';
export { describePlatform, type PlatformDescription } from './platform-description.js';
export { Pacer, pageTimers, type Timers } from './pacer.js';
export { loadSession, saveSession, clearSession, type StoredSession } from './persistence.js';

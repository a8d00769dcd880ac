/**
 * The customer's session as a state machine: its states, what moves it, and where to. Whether
 * sharing is paused is kept beside the state (a paused session may be starting or reconnecting
 * too), so the session picks the trigger that says so: `share` or `share-with-agent`, say.
 */
import type { Transitions } from './state-machine.js';

export const CustomerState = {
  Idle: 'idle',
  Starting: 'starting',
  /** The session exists; no agent has joined (or the agent left). */
  Waiting: 'waiting',
  /** An agent is viewing the page. */
  Connected: 'connected',
  /** The customer stopped sharing; the session (and its ID) lives on. */
  Paused: 'paused',
  /** The connection dropped; resuming. */
  Reconnecting: 'reconnecting',
  Ended: 'ended',
  Error: 'error',
} as const;
export type CustomerState = (typeof CustomerState)[keyof typeof CustomerState];

/**
 * What moves a customer's session. Its connection: start() or resume() connects (again, after
 * dispose(), an end or an error); it drops (or is replaced) and is resumed; another tab of the
 * site takes the session over; a party ends it (or it expires); the relay refuses it.
 */
type ConnectionTrigger = 'connect' | 'dropped' | 'moved' | 'ended' | 'failed';
/** The relay's answer to a connection: a new session, or the old one resumed (paused, or sharing with no agent there). */
type AnswerTrigger = 'created' | 'resumed-paused' | 'resumed-alone';
/** An agent is viewing (joined, came back, or was there when the session resumed), or it went; not while paused. */
type ViewerTrigger = 'agent-joined' | 'agent-left';
/** stopSharing(), and startSharing() with no agent there or with one. */
type SharingTrigger = 'stop-sharing' | 'share' | 'share-with-agent';
export type CustomerTrigger = ConnectionTrigger | AnswerTrigger | ViewerTrigger | SharingTrigger;

/** With no connection: a new one starts the session, and end() ends it. */
const AT_REST = { connect: 'starting', ended: 'ended' } as const;
/** With a connection, whatever else: it can fail or drop. */
const ONLINE = { ...AT_REST, failed: 'error', dropped: 'reconnecting' } as const;
/** Waiting for the relay's answer to a connection: a new or resumed session, with the customer sharing or not meanwhile. */
const OPENING = {
  ...ONLINE,
  created: 'waiting',
  'resumed-paused': 'paused',
  'resumed-alone': 'waiting',
  'agent-joined': 'connected',
  'agent-left': 'waiting',
  'stop-sharing': 'paused',
  share: 'waiting',
  'share-with-agent': 'connected',
} as const;

/**
 * Every move the customer's session makes. Some rows cover races: the relay's answer to a connection
 * may find the customer has paused or shared again meanwhile, and another tab may take over a session
 * (`moved`) while it is being resumed.
 */
export const CUSTOMER_TRANSITIONS: Transitions<CustomerState, CustomerTrigger> = {
  idle: AT_REST,
  starting: OPENING,
  waiting: {
    ...ONLINE,
    moved: 'idle',
    'agent-joined': 'connected',
    'stop-sharing': 'paused',
    // Paused before the relay created the session, it shows waiting: the agent sees it paused.
    'share-with-agent': 'connected',
  },
  connected: { ...ONLINE, moved: 'idle', 'resumed-alone': 'waiting', 'agent-left': 'waiting', 'stop-sharing': 'paused' },
  paused: { ...ONLINE, moved: 'idle', created: 'waiting', share: 'waiting', 'share-with-agent': 'connected' },
  reconnecting: { ...OPENING, moved: 'idle' },
  ended: AT_REST,
  error: AT_REST,
};

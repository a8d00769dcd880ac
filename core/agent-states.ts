/**
 * The agent's session as a state machine: its states, what moves it, and where to. The session
 * picks the trigger from what it knows: `customer-returned` when its mirror already shows a page, say.
 */
import type { Transitions } from './state-machine.js';

export const AgentState = {
  Idle: 'idle',
  Joining: 'joining',
  /** Joined; the customer's page is on its way. */
  Waiting: 'waiting',
  /** The mirror shows the customer's page live. */
  Live: 'live',
  /** Joined, but the customer's connection is gone for now. */
  CustomerAway: 'customer-away',
  /** The customer stopped sharing; the session lives on. */
  Paused: 'paused',
  /** The customer went to a site outside the session's domains: sharing is paused until they come back. */
  Left: 'left',
  Reconnecting: 'reconnecting',
  Ended: 'ended',
  Error: 'error',
} as const;
export type AgentState = (typeof AgentState)[keyof typeof AgentState];

/** What moves an agent's session. Its connection: join(), a drop (then a rejoin), the end, a refusal or a lost link. */
type ConnectionTrigger = 'join' | 'dropped' | 'ended' | 'failed';
/** The relay let the agent in, with the customer online or not. */
type JoinedTrigger = 'joined' | 'joined-alone';
/**
 * The customer: online again (`customer-returned` when the mirror already shows its page), gone,
 * sharing again (a fresh snapshot follows), paused, or gone to a site outside the session's domains.
 */
type CustomerTrigger =
  'customer-online' | 'customer-returned' | 'customer-offline' | 'sharing-resumed' | 'sharing-paused' | 'customer-left';
/** The mirror: a snapshot reached it, a patch continued its page (a replay after a reconnect), or it is out of step. */
type MirrorTrigger = 'snapshot' | 'patch-continued' | 'out-of-step';
export type AgentTrigger = ConnectionTrigger | JoinedTrigger | CustomerTrigger | MirrorTrigger;

/** With no connection: join() starts, and end() ends. */
const AT_REST = { join: 'joining', ended: 'ended' } as const;
/** Joined, whatever else: the customer comes and goes, pauses and leaves, and the mirror falls out of step. */
const JOINED = {
  ...AT_REST,
  failed: 'error',
  dropped: 'reconnecting',
  'customer-online': 'waiting',
  'customer-returned': 'live',
  'customer-offline': 'customer-away',
  'sharing-resumed': 'waiting',
  'sharing-paused': 'paused',
  'customer-left': 'left',
  snapshot: 'live',
  'out-of-step': 'waiting',
} as const;

/** Every move the agent's session makes. */
export const AGENT_TRANSITIONS: Transitions<AgentState, AgentTrigger> = {
  idle: AT_REST,
  joining: { ...AT_REST, failed: 'error', dropped: 'reconnecting', joined: 'waiting', 'joined-alone': 'customer-away' },
  // A snapshot asked for while reconnecting may still be waited for when the relay lets the agent back in.
  waiting: { ...JOINED, 'joined-alone': 'customer-away', 'patch-continued': 'live' },
  // The mirror shows a page: a customer coming back to it is `customer-returned`.
  live: { ...JOINED, 'customer-online': undefined },
  'customer-away': JOINED,
  paused: JOINED,
  // A customer who left the site goes offline with its page: "left" says more than "offline".
  left: { ...JOINED, 'customer-offline': undefined },
  reconnecting: { ...AT_REST, failed: 'error', joined: 'waiting', 'joined-alone': 'customer-away', 'out-of-step': 'waiting' },
  ended: AT_REST,
  error: AT_REST,
};

/**
 * What a client is told when the directory refuses its handshake: the words the relay and
 * Storybook's loopback relay share.
 */
import { CloseCode, ErrorCode } from '../../core/protocol/index.js';
import type { Locked, Refusal } from './directory.js';

/** A wait, as a person reads it: seconds under a minute and a half, else minutes. */
export function duration(ms: number): string {
  if (ms < 90_000) return `${Math.ceil(ms / 1000)} s`;
  return `${Math.ceil(ms / 60_000)} min`;
}

const TOLD: Record<Exclude<Refusal, 'stale'>, readonly [ErrorCode, string, CloseCode]> = {
  'not-found': [ErrorCode.NotFound, 'No session with this ID, or the resume token is wrong', CloseCode.SessionNotFound],
  'handoff-spent': [ErrorCode.NotFound, 'This hand-off link has expired or was already used', CloseCode.SessionNotFound],
  taken: [ErrorCode.Taken, 'Another agent is already in this session', CloseCode.SessionTaken],
  'too-many-sessions': [ErrorCode.RateLimited, 'Too many live sessions from this address', CloseCode.RateLimited],
  unavailable: [ErrorCode.Unavailable, 'The relay cannot reach its session store (Redis); try again shortly', CloseCode.TryAgainLater],
};

/**
 * The error, message and close code for a refusal (a stale handshake is closed as replaced, without
 * a word); `joining`: the handshake was an agent's join.
 */
export function replyTo(outcome: Exclude<Refusal, 'stale'> | Locked, joining: boolean): readonly [ErrorCode, string, CloseCode] {
  if (typeof outcome !== 'string') {
    return [
      ErrorCode.RateLimited,
      `Too many failed attempts to join; try again in ${duration(outcome.retryAfterMs)}`,
      CloseCode.RateLimited,
    ];
  }
  const [error, message, close] = TOLD[outcome];
  return [error, joining && outcome === 'not-found' ? 'No session with this ID' : message, close];
}

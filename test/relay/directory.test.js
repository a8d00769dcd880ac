// The session rules on the in-memory directory (the one a single relay and Storybook's loopback use).
import { MemoryDirectory } from '../../dist/relay/directory/memory.js';
import { FailureLimiter, IpCounter } from '../../dist/relay/limits.js';
import { systemClock } from '../../dist/relay/clock.js';
import { directoryContract } from '../helpers/directory-contract.js';

directoryContract(
  'in memory',
  (rules, events) =>
    new MemoryDirectory(
      {
        clock: systemClock,
        unjoinedTtlMs: rules.unjoinedTtlMs,
        graceMs: rules.graceMs,
        sessionsPerIp: new IpCounter(rules.sessionsPerIp, Infinity),
        joinFailures: new FailureLimiter(rules.joinFailures, rules.joinFailureWindowMs),
      },
      events,
    ),
);

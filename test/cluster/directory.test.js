// The session rules on Redis: the same contract as the in-memory directory, run by the Lua scripts.
// Each test gets a key prefix of its own, so nothing one leaves in Redis counts in the next.
import { after, before } from 'node:test';
import { RedisDirectory } from '../../dist/relay/directory/redis.js';
import { systemClock } from '../../dist/relay/clock.js';
import { directoryContract } from '../helpers/directory-contract.js';
import { startRedis } from '../helpers/redis.js';
import { TEST_CLUSTER_SECRET } from './helpers.js';

let redis;
before(async () => {
  redis = await startRedis();
});
after(() => redis?.stop());

let prefixes = 0;
directoryContract('on Redis', async (rules, events) => {
  const directory = new RedisDirectory(
    {
      redis: { url: redis.url, prefix: `contract${++prefixes}:`, secret: TEST_CLUSTER_SECRET },
      clock: systemClock,
      log: () => {},
      unjoinedTtlMs: rules.unjoinedTtlMs,
      graceMs: rules.graceMs,
      idleMs: 60_000,
      sessionsPerIp: rules.sessionsPerIp,
      joinFailures: rules.joinFailures,
      joinFailureWindowMs: rules.joinFailureWindowMs,
      touchMs: 60_000,
    },
    events,
  );
  if (!(await directory.ready(5_000))) throw new Error('Redis did not answer');
  return directory;
});

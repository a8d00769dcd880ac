/** No engine: the baseline for heap figures (what the page alone keeps). */
import { install } from './harness.js';

install({
  name: 'none',
  start() {
    return { resnapshot() {}, stop() {} };
  },
  createApplier() {
    throw new Error('no mirror without an engine');
  },
});

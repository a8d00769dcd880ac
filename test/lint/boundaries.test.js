// The import boundaries are rules, not hopes: each rule of eslint.boundaries.js refuses an import that
// crosses its boundary, and lets through the imports the layers are meant to use.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import boundaries from '../../eslint.boundaries.js';
import { linterOf } from './lint-as.js';

const lint = linterOf(boundaries);

/** The no-restricted-imports messages for `source` as if it were the file at `path`. */
async function refusals(path, source) {
  return (await lint(path, source)).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const CASES = [
  // [file, import, refused?]
  ['core/protocol/frames.ts', './assets.js', false],
  ['core/protocol/frames.ts', '../dom/mirror.js', true],
  ['core/protocol/frames.ts', 'mitt', true],
  ['core/dom/mirror.ts', '../protocol/index.js', false],
  ['core/dom/mirror.ts', '../../components/viewer/cobrowse-viewer.js', true],
  ['components/viewer/cobrowse-viewer.ts', '../../core/index.js', false],
  ['components/viewer/cobrowse-viewer.ts', '../../core/protocol/index.js', false],
  ['components/viewer/cobrowse-viewer.ts', '../../core/dom/mirror.js', true],
  ['components/viewer/cobrowse-viewer.ts', '../../relay/index.js', true],
  ['components/customer.ts', '../core/dom/mask.js', true],
  ['relay/relay.ts', '../core/protocol/index.js', false],
  ['relay/relay.ts', '../core/dom/serializer.js', true],
  ['relay/relay.ts', '../core/origins.js', true],
  ['relay/relay.ts', '../components/agent.js', true],
];

describe('import boundaries (npm run lint)', () => {
  for (const [file, specifier, refused] of CASES) {
    it(`${file}: import from '${specifier}' is ${refused ? 'refused' : 'allowed'}`, async () => {
      const messages = await refusals(file, `import { x } from '${specifier}';\nexport const y = x;\n`);
      assert.equal(messages.length, refused ? 1 : 0, messages.join('\n') || 'no refusal');
    });
  }

  it('type-only imports cross no boundary either', async () => {
    assert.equal(
      (await refusals('relay/relay.ts', "import type { Mirror } from '../core/dom/mirror.js';\nexport type M = Mirror;\n")).length,
      1,
    );
  });
});

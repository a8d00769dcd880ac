// The size limits are rules, not hopes: eslint.sizes.js refuses a function past its line limit in shipped
// code, and the recorder's entry file past its own, while leaving tests and smaller code alone.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sizes, { MAX_ENTRY_FILE_LINES, MAX_FUNCTION_LINES } from '../../eslint.sizes.js';
import { linterOf } from './lint-as.js';

const lint = linterOf(sizes);

/** The rules `source` breaks as if it were the file at `path`. */
async function broken(path, source) {
  return (await lint(path, source)).map((m) => m.ruleId);
}

/** A function of `lines` lines in all. */
const functionOf = (lines) => `export function f(): number {\n${'  void 0;\n'.repeat(lines - 3)}  return 1;\n}\n`;
const statements = (lines) => 'export const x = 1;\n'.repeat(lines);

describe('size limits (npm run lint)', () => {
  for (const file of ['core/dom/batch.ts', 'components/viewer/cobrowse-viewer.ts']) {
    it(`${file}: a function of ${MAX_FUNCTION_LINES + 1} lines is refused, one of ${MAX_FUNCTION_LINES} is not`, async () => {
      assert.deepEqual(await broken(file, functionOf(MAX_FUNCTION_LINES + 1)), ['max-lines-per-function']);
      assert.deepEqual(await broken(file, functionOf(MAX_FUNCTION_LINES)), []);
    });
  }

  it('tests may have long functions (a describe block is one)', async () => {
    assert.deepEqual(await broken('test/core/recorder.test.ts', functionOf(MAX_FUNCTION_LINES * 2)), []);
  });

  for (const file of ['core/dom/recorder.ts']) {
    it(`${file}: more than ${MAX_ENTRY_FILE_LINES} lines is refused`, async () => {
      assert.deepEqual(await broken(file, statements(MAX_ENTRY_FILE_LINES + 1)), ['max-lines']);
      assert.deepEqual(await broken(file, statements(MAX_ENTRY_FILE_LINES)), []);
    });
  }
});

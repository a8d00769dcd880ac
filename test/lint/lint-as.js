// The lint tests' one way to ask ESLint: these config blocks only, TypeScript parsed, files named as if in the repo.
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

/** A function that lints `source` as if it were the file at `path`, under `configs` alone; it returns the messages. */
export function linterOf(configs) {
  const eslint = new ESLint({
    cwd: new URL('../..', import.meta.url).pathname,
    overrideConfigFile: true,
    overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...configs],
  });
  return async (path, source) => (await eslint.lintText(source, { filePath: path }))[0].messages;
}

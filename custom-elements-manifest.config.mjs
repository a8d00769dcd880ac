// custom-elements.json for editors, Storybook docs and `customElements` in package.json.
// Run by `npm run analyze` (cem analyze --litelement --globs "components/**/*.ts"); the manifest
// is generated, not committed: the class JSDoc is its only source.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** The public API only: private state, render helpers and `static styles` are not part of it. */
function publicMembersOnly() {
  return {
    name: 'cobrowse-public-members-only',
    packageLinkPhase({ customElementsManifest }) {
      for (const declaration of classes(customElementsManifest)) {
        declaration.members = declaration.members?.filter(
          (m) => m.privacy !== 'private' && m.privacy !== 'protected' && !m.static && !m.name.startsWith('#'),
        );
      }
    },
  };
}

/**
 * Spells out what the source names: `Mode` becomes `'full-control' | 'partial-control' | 'no-control'`,
 * `Mode.Full` becomes `'full-control'`, events get their `CustomEvent<…>` type from components/events.ts.
 * The analyzer reads one file at a time and cannot follow an import; the type checker can.
 */
function resolvedTypes() {
  return {
    name: 'cobrowse-resolved-types',
    packageLinkPhase({ customElementsManifest }) {
      const files = customElementsManifest.modules.map((m) => path.resolve(m.path));
      const { config } = ts.readConfigFile('tsconfig.json', ts.sys.readFile);
      const { options } = ts.parseJsonConfigFileContent(config, ts.sys, process.cwd());
      const program = ts.createProgram(files, { ...options, noEmit: true });
      const checker = program.getTypeChecker();
      const eventTypes = readEventMap(program);

      for (const mod of customElementsManifest.modules) {
        const source = program.getSourceFile(path.resolve(mod.path));
        for (const declaration of mod.declarations ?? []) {
          if (declaration.kind !== 'class' || !source) continue;
          const node = source.statements.find((s) => ts.isClassDeclaration(s) && s.name?.text === declaration.name);
          if (!node) continue;
          for (const member of node.members) {
            const name = member.name && ts.isIdentifier(member.name) ? member.name.text : undefined;
            const doc = declaration.members?.find((m) => m.name === name && m.kind === 'field');
            if (!doc) continue;
            const literal = literalUnion(checker, checker.getTypeAtLocation(member));
            if (literal) doc.type = { text: literal };
            const initializer = ts.isPropertyDeclaration(member) ? member.initializer : undefined;
            const initial = initializer && doc.default === undefined && literalUnion(checker, checker.getTypeAtLocation(initializer));
            if (initial) doc.default = initial;
          }
          for (const attribute of declaration.attributes ?? []) {
            const field = declaration.members?.find((m) => m.name === attribute.fieldName);
            if (field?.type) attribute.type = field.type;
            if (field?.default !== undefined) attribute.default = field.default;
          }
          for (const event of declaration.events ?? []) {
            if (eventTypes.has(event.name)) event.type = { text: eventTypes.get(event.name) };
          }
        }
      }
    },
  };
}

/** `'a' | 'b'` for a union of string or number literals (or a single one); undefined otherwise. */
function literalUnion(checker, type) {
  const parts = type.isUnion() ? type.types : [type];
  if (!parts.every((t) => t.isStringLiteral() || t.isNumberLiteral())) return undefined;
  const values = parts.map((t) => t.value);
  // Declaration order (idle, joining, waiting, …) reads better than the checker's.
  const order = declaredOrder(checker, type);
  if (order) values.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  return values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(' | ');
}

/** For `type Mode = (typeof Mode)[keyof typeof Mode]`, the values of `const Mode = {…} as const` in order. */
function declaredOrder(checker, type) {
  const declaration = type.aliasSymbol?.valueDeclaration; // the alias and the const share one symbol
  if (!declaration) return undefined;
  return checker
    .getTypeAtLocation(declaration)
    .getProperties()
    .map((p) => checker.getTypeOfSymbolAtLocation(p, declaration).value);
}

/** Event name → `CustomEvent<Detail>`, from the typed registry in `GlobalEventHandlersEventMap`. */
function readEventMap(program) {
  const map = new Map();
  const source = program.getSourceFile(path.resolve('components/events.ts'));
  const visit = (node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === 'GlobalEventHandlersEventMap') {
      for (const member of node.members) {
        if (ts.isPropertySignature(member) && member.type && ts.isStringLiteral(member.name)) {
          map.set(member.name.text, member.type.getText(source));
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  if (source) visit(source);
  return map;
}

/**
 * VS Code HTML custom data (https://github.com/microsoft/vscode-custom-data), so the editor completes
 * our tags, attributes and attribute values; `.vscode/settings.json` points `html.customData` at it.
 */
function vscodeCustomData(outFile) {
  return {
    name: 'cobrowse-vscode-custom-data',
    packageLinkPhase({ customElementsManifest }) {
      const tags = classes(customElementsManifest)
        .filter((d) => d.customElement && d.tagName)
        .map((d) => ({
          name: d.tagName,
          description: [d.summary, d.description].filter(Boolean).join('\n\n'),
          attributes: (d.attributes ?? []).map((a) => ({
            name: a.name,
            description: a.description,
            ...(valuesOf(a.type?.text) && { values: valuesOf(a.type.text).map((name) => ({ name })) }),
          })),
        }));
      fs.mkdirSync(path.dirname(outFile), { recursive: true });
      fs.writeFileSync(outFile, `${JSON.stringify({ version: 1.1, tags }, null, 2)}\n`);
    },
  };
}

/** The values of a literal union type text, e.g. `"a" | "b"` → ['a', 'b']; undefined for other types. */
function valuesOf(text) {
  const parts = text?.split('|').map((p) => p.trim());
  if (!parts?.every((p) => /^(['"]).*\1$/.test(p))) return undefined;
  const values = parts.map((p) => p.slice(1, -1)).filter(Boolean);
  return values.length ? values : undefined;
}

function classes(manifest) {
  return manifest.modules.flatMap((m) => m.declarations ?? []).filter((d) => d.kind === 'class');
}

export default {
  // package.json's `customElements` is set once (npm pkg set); the analyzer must not rewrite package.json.
  packagejson: false,
  plugins: [publicMembersOnly(), resolvedTypes(), vscodeCustomData('.vscode/html-custom-data.json')],
};

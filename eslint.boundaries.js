// The layers' boundaries, as ESLint rules that `npm run lint` applies: the protocol is
// plain data, core knows no component, components reach core through its public entries, the relay knows
// only the protocol. test/lint/boundaries.test.js shows each rule refusing a crossing.
export default [
  {
    files: ['core/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!\\./)', message: 'core/protocol is plain data: it imports nothing outside its folder.' }] },
      ],
    },
  },
  {
    files: ['core/**/*.ts'],
    ignores: ['core/protocol/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '(^|/)components/', message: 'core imports no component.' }] }],
    },
  },
  {
    files: ['components/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)core/(?!index\\.js$|protocol/index\\.js$)',
              message: 'Components use core through its public entries: core/index.js (or core/protocol/index.js).',
            },
            { regex: '(^|/)relay/', message: 'Components run in the browser: they import nothing of the relay.' },
          ],
        },
      ],
    },
  },
  {
    files: ['relay/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)core/(?!protocol/index\\.js$)',
              message: 'The relay imports only core/protocol (through core/protocol/index.js).',
            },
            { regex: '(^|/)components/', message: 'The relay imports no component.' },
          ],
        },
      ],
    },
  },
];

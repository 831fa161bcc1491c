import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules',
      'dist',
      'out',
      '.vscode-test',
      'artifacts',
      'tmp',
      'examples',
      'test/fixtures',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // The engine knows nothing of VS Code or the DOM.
    files: ['src/core/**/*.ts', 'src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['vscode'], patterns: ['**/extension/**', '**/webview-ui/**'] },
      ],
    },
  },
  {
    // The extension's pure logic and its analysis child import no VS Code API: the logic is
    // unit-tested in Node, and the child is a plain Node process.
    files: ['src/extension/logic/**/*.ts', 'src/extension/child/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'Only src/extension/host/ may use the VS Code API.' }],
          patterns: [
            { regex: '(^|/)host/', message: 'Logic and the child must not import host code.' },
          ],
        },
      ],
    },
  },
  {
    // The webview and the shared protocol run in the browser: no VS Code API, no engine code;
    // only the report schema's types may come from the core.
    files: ['webview-ui/**/*.ts', 'src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['vscode'],
          patterns: [
            {
              regex: '(^|/)core/(?!report/(schema|csv)$)',
              message: 'Only the report schema and its CSV form may be imported from the core.',
            },
            { regex: '(^|/)extension/', message: 'Webview code must not import extension code.' },
          ],
        },
      ],
    },
  },
);

// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const platformDirs = ['sandbox', 'feishu', 'dingtalk'];

export default tseslint.config(
  { ignores: ['node_modules/', 'src/generated/', 'data/', 'tmp/', 'coverage/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['error', 'warn'] }],
    },
  },
  // The import rules of DESIGN.md: features are platform-free, platforms know
  // no feature, and only main.ts wires concrete adapters.
  {
    files: ['src/features/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: platformDirs.map((p) => ({
            group: [`**/platforms/${p}/**`, `**/platforms/${p}`],
            message: 'features/* must not import a platform; use the seam in platforms/types.ts',
          })),
        },
      ],
    },
  },
  {
    files: ['src/platforms/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/features/**'], message: 'platforms/* must not import features/*' },
            { group: ['**/bot/**'], message: 'platforms/* talk to the bot only through the seam (EventSink)' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/main.ts', 'src/platforms/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...platformDirs.map((p) => ({
              group: [`**/platforms/${p}/**`, `**/platforms/${p}`],
              message: 'only src/main.ts wires concrete platform adapters',
            })),
          ],
        },
      ],
    },
  },
  {
    files: ['scripts/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);

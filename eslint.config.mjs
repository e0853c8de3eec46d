// Lints every TypeScript and JavaScript file of the repository but the generated and downloaded ones.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: ['build/', 'dist/', 'docs/', 'coverage/', '.cache/', '.cdk8s/', 'validation/data/'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // tsconfig.json's lib (ES2020) has no Error `cause` option; such errors put the caught error's text in their message.
      'preserve-caught-error': 'off',
    },
  },
  {
    files: ['**/*.js'],
    // package.json has no "type": "module": .js files are CommonJS.
    languageOptions: { sourceType: 'commonjs' },
  },
  {
    files: ['test/**', 'validation/**'],
    rules: {
      // The tests and the validation plugin read manifests, parsed YAML and JSON, schemas and ajv's
      // errors as untyped objects.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);

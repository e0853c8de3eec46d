import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/**
 * Jest's global setup: the validation plugin's data in `validation/data/` (ignored by git), which
 * the tests of the plugin's sources read as the built plugin reads `build/validation/data/`. It is
 * written by the same generator as `npm run build` writes the package's, and written again only
 * when the generator's inputs changed: the generator, the Kubernetes versions, lib/ (the kinds it
 * creates), the reference data, ajv. A hash of them is kept in `validation/data/inputs.sha256`.
 */

const REPO = path.resolve(__dirname, '..', '..');
const DATA_DIR = path.join(REPO, 'validation', 'data');
const HASH_FILE = path.join(DATA_DIR, 'inputs.sha256');

/** Every file under `dir` whose name passes `keep`, sorted. */
function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const file = path.join(dir, entry.name);
      return entry.isDirectory() ? filesUnder(file, keep) : keep(entry.name) ? [file] : [];
    })
    .sort();
}

/** The hash of the generator's inputs, by path and content. */
function inputsHash(): string {
  const shared = path.resolve(REPO, '..', 'shared');
  const inputs = [
    path.join(REPO, 'validation', 'generate.ts'),
    path.join(REPO, 'validation', 'kubernetes.ts'),
    path.join(REPO, 'node_modules', 'ajv', 'package.json'),
    ...filesUnder(path.join(REPO, 'lib'), (name) => name.endsWith('.ts')),
    ...filesUnder(path.join(REPO, 'reference'), (name) => name.endsWith('.json')),
    ...filesUnder(path.join(shared, 'vitess-reference'), (name) => name.endsWith('.json')),
    ...filesUnder(path.join(shared, 'kubernetes-schemas'), (name) => name === '_definitions.json'),
  ];
  const hash = createHash('sha256');
  for (const file of inputs) {
    hash.update(`${path.relative(REPO, file)}\n`);
    hash.update(fs.readFileSync(file));
  }
  return hash.digest('hex');
}

export default function globalSetup(): void {
  const hash = inputsHash();
  if (fs.existsSync(HASH_FILE) && fs.readFileSync(HASH_FILE, 'utf8') === hash) {
    return;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { writeData } = require('../../validation/generate') as typeof import('../../validation/generate');
  writeData(DATA_DIR);
  fs.writeFileSync(HASH_FILE, hash);
}

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { filesUnder } from './util/files';

/**
 * The API reference in docs/: typedoc with the repository's typedoc.json, run into a temporary
 * directory, must reproduce the committed docs/ byte for byte, so that docs/ never lags the TSDoc
 * of the public API (lib/index.ts). typedoc.json treats warnings as errors, so an unresolved
 * `{@link}` or a public type that references an unexported one fails here too.
 */

const REPO = path.resolve(__dirname, '..');
const DOCS = path.join(REPO, 'docs');
const REGENERATE = 'Run `npm run docs` (typedoc) and commit docs/.';

/** typedoc's command line, from the version this repository pins. */
const TYPEDOC_BIN = path.join(path.dirname(require.resolve('typedoc/package.json')), 'bin', 'typedoc');

/** Runs typedoc with typedoc.json into `out`; on failure the error carries typedoc's output. */
function runTypedoc(out: string): void {
  try {
    execFileSync(process.execPath, [TYPEDOC_BIN, '--options', path.join(REPO, 'typedoc.json'), '--out', out], {
      cwd: REPO,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      encoding: 'utf8',
      stdio: 'pipe',
    });
  } catch (err: any) {
    throw new Error(`typedoc failed (warnings are errors in typedoc.json):\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

describe('the API reference in docs/', () => {
  let outDir: string;
  let generatedFiles: Map<string, Buffer>;
  let generated: string[];

  beforeAll(() => {
    // GIVEN typedoc run with the committed typedoc.json into a temporary directory
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-vitess-docs-'));
    runTypedoc(outDir);
    generatedFiles = filesUnder(outDir);
    generated = [...generatedFiles.keys()];
  }, 60_000);

  afterAll(() => {
    if (outDir) {
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });

  test('the committed docs/ is byte-identical to a fresh typedoc run', () => {
    // GIVEN the committed reference
    if (!fs.existsSync(DOCS)) {
      throw new Error(`docs/ is missing. ${REGENERATE}`);
    }
    const committedFiles = filesUnder(DOCS);
    const committed = [...committedFiles.keys()];

    // WHEN both trees are compared file by file
    const missing = generated.filter((f) => !committedFiles.has(f));
    const extra = committed.filter((f) => !generatedFiles.has(f));
    const changed = generated.filter((f) => committedFiles.has(f) && !generatedFiles.get(f)!.equals(committedFiles.get(f)!));

    // THEN there is no difference
    const problems = [
      ...missing.map((f) => `missing from docs/: ${f}`),
      ...extra.map((f) => `in docs/ but no longer generated: ${f}`),
      ...changed.map((f) => `out of date: docs/${f}`),
    ];
    if (problems.length > 0) {
      throw new Error(`docs/ does not match the TSDoc of lib/. ${REGENERATE}\n  ${problems.join('\n  ')}`);
    }
    expect(committed).toEqual(generated);
  });

  test.each(['EtcdCell', 'Vtctld', 'TabletShard', 'Vtgate', 'VtworkerJob', 'KeyRange', 'VitessRelease'])(
    'the reference has a page for the class %s',
    (name) => {
      // GIVEN the page typedoc names after the class
      const page = `classes/${name}.html`;

      // THEN it is generated and committed, titled with the class
      expect(generated).toContain(page);
      expect(fs.existsSync(path.join(DOCS, page))).toBe(true);
      const html = fs.readFileSync(path.join(outDir, page), 'utf8');
      expect(html).toContain(`<title>${name} | cdk8s-vitess API reference</title>`);
      expect(html).toContain(`<h1>Class ${name}</h1>`);
    },
  );
});

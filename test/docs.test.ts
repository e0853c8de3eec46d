import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

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

/** Every file under a directory, as sorted paths relative to it with `/` separators. */
function listFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(full);
      } else {
        files.push(path.relative(root, full).split(path.sep).join('/'));
      }
    }
  };
  walk(root);
  return files.sort();
}

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
  let generated: string[];

  beforeAll(() => {
    // GIVEN typedoc run with the committed typedoc.json into a temporary directory
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-vitess-docs-'));
    runTypedoc(outDir);
    generated = listFiles(outDir);
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
    const committed = listFiles(DOCS);

    // WHEN both trees are compared file by file
    const missing = generated.filter((f) => !committed.includes(f));
    const extra = committed.filter((f) => !generated.includes(f));
    const changed = generated.filter(
      (f) => committed.includes(f) && !fs.readFileSync(path.join(outDir, f)).equals(fs.readFileSync(path.join(DOCS, f))),
    );

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

/**
 * `npm run docs:check`: the API reference in docs/ must be what typedoc generates now from the TSDoc
 * of the public API (lib/index.ts). typedoc runs with the repository's typedoc.json into a temporary
 * directory, and the two trees are compared byte for byte; typedoc.json treats warnings as errors,
 * so an unresolved `{@link}` or a public type that references an unexported one fails here too.
 * Each construct of the README's table must have its page.
 *
 * It is a step of `npm test` of its own, after Jest, so that nothing else runs beside typedoc.
 * Exits with 1 and lists every difference when docs/ is out of date; `npm run docs` regenerates it.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { filesUnder } from '../test/util/files';

const REPO = path.resolve(__dirname, '..');
const DOCS = path.join(REPO, 'docs');
const REGENERATE = 'Run `npm run docs` (typedoc) and commit docs/.';
/** The classes whose pages the README points to. */
const CLASSES = ['EtcdCell', 'Vtctld', 'TabletShard', 'Vtgate', 'VtworkerJob', 'KeyRange', 'VitessRelease'];

/** typedoc's command line, from the version this repository pins. */
const TYPEDOC_BIN = path.join(path.dirname(require.resolve('typedoc/package.json')), 'bin', 'typedoc');

/** The problems of docs/ against a typedoc run into `out`, one line each; empty when it is up to date. */
function docsProblems(out: string): string[] {
  try {
    execFileSync(process.execPath, [TYPEDOC_BIN, '--options', path.join(REPO, 'typedoc.json'), '--out', out], {
      cwd: REPO,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      encoding: 'utf8',
      stdio: 'pipe',
    });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    return [`typedoc failed (warnings are errors in typedoc.json):\n${stdout ?? ''}\n${stderr ?? ''}`];
  }
  if (!fs.existsSync(DOCS)) {
    return ['docs/ is missing'];
  }
  const generated = filesUnder(out);
  const committed = filesUnder(DOCS);
  const problems = [
    ...[...generated.keys()].filter((f) => !committed.has(f)).map((f) => `missing from docs/: ${f}`),
    ...[...committed.keys()].filter((f) => !generated.has(f)).map((f) => `in docs/ but no longer generated: ${f}`),
    ...[...generated.keys()]
      .filter((f) => committed.has(f) && !generated.get(f)!.equals(committed.get(f)!))
      .map((f) => `out of date: docs/${f}`),
  ];
  for (const name of CLASSES) {
    const page = generated.get(`classes/${name}.html`)?.toString('utf8');
    if (page === undefined) {
      problems.push(`no page classes/${name}.html for the class ${name}`);
    } else if (!page.includes(`<title>${name} | cdk8s-vitess API reference</title>`) || !page.includes(`<h1>Class ${name}</h1>`)) {
      problems.push(`classes/${name}.html is not titled with the class ${name}`);
    }
  }
  return problems;
}

function main(): void {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-vitess-docs-'));
  try {
    const problems = docsProblems(out);
    if (problems.length > 0) {
      console.error(`docs:check: docs/ does not match the TSDoc of lib/. ${REGENERATE}\n  ${problems.join('\n  ')}`);
      process.exitCode = 1;
      return;
    }
    console.log(`docs:check: docs/ is what typedoc generates now (${filesUnder(DOCS).size} files; pages of ${CLASSES.join(', ')})`);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

main();

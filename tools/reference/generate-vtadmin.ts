/**
 * Writes reference/vtadmin-flags.json: the flag names of Vitess's `vtadmin` (the VTAdmin API
 * server) of release v22.0.4 and v24.0.4, for the tests' reference check and the validation plugin.
 *
 * Vitess has no go/flags/endtoend/vtadmin.txt at either tag (its flags_test does not cover
 * vtadmin), so the names are read from the `--help` output of a vtadmin built from the Go module
 * vitess.io/vitess at v0.22.4 and v0.24.4 (`tools/build.sh vtadmin` builds both into
 * .cache/tools/vitess-<module version>/bin/vtadmin), checked to be that release
 * (`vtadmin --version`, and the module's go/vt/servenv/version.go). The flags that a release's
 * go/cmd/vtadmin/main.go registers but hides from help with `MarkDeprecated` (v24's glog flags) are
 * listed apart, as `hiddenDeprecatedFlags`, which the tests do not accept.
 *
 * v22.0.4 stands for v22.0.3 too (the library's V22_0, whose module the Go module proxy refuses):
 * go/cmd/vtadmin/main.go and the packages whose flags it registers (go/trace, go/vt/servenv/mysql.go,
 * go/vt/log, go/internal/flag) are the same files at v0.22.1 and v0.22.4, so at v22.0.3 between them.
 *
 * Usage (from the repository root; needs Go and the Go module proxy, or the modules in the cache):
 *
 *   bash tools/build.sh vtadmin
 *   npx ts-node tools/reference/generate-vtadmin.ts [--check]
 *
 * `--check` writes nothing and fails when the file is not what this script writes now.
 */
import * as childProcess from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const MODULE = 'vitess.io/vitess';
const REPO_DIR = path.resolve(__dirname, '../..');
const OUTPUT = path.join(REPO_DIR, 'reference', 'vtadmin-flags.json');

/** The releases whose vtadmin flags are recorded, and the library releases each stands for. */
const RELEASES: ReadonlyArray<{ release: string; moduleVersion: string; alsoFor: string[] }> = [
  { release: 'v22.0.4', moduleVersion: 'v0.22.4', alsoFor: ['v22.0.3'] },
  { release: 'v24.0.4', moduleVersion: 'v0.24.4', alsoFor: [] },
];

function fail(message: string): never {
  process.stderr.write(`generate-vtadmin: ${message}\n`);
  process.exit(1);
}

function run(file: string, args: string[], options: childProcess.SpawnSyncOptions = {}): string {
  const result = childProcess.spawnSync(file, args, { maxBuffer: 16 * 1024 * 1024, ...options, encoding: 'utf8' });
  if (result.error) fail(`${file} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) fail(`${file} ${args.join(' ')} exited with ${result.status}: ${result.stderr}`);
  return result.stdout;
}

/** The module's directory, its h1 hashes and the proxy's .info record, through `go mod download -json`. */
function moduleInfo(version: string): { dir: string; sum: string; goModSum: string; info: { Version: string; Time: string } } {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vtadmin-ref-'));
  try {
    const download = JSON.parse(run('go', ['mod', 'download', '-json', `${MODULE}@${version}`], { cwd: tmp, env: { ...process.env, GOFLAGS: '-mod=mod' } }));
    if (download.Error) fail(`go mod download ${MODULE}@${version}: ${download.Error}`);
    return { dir: download.Dir, sum: download.Sum, goModSum: download.GoModSum, info: JSON.parse(fs.readFileSync(download.Info, 'utf8')) };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The flags (`--name`) and shorthands (`-x` to `--name`) of the `Flags:` section of cobra's help. */
function helpFlags(text: string): { flags: string[]; shorthands: Record<string, string> } {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line === 'Flags:');
  if (start < 0) fail('no Flags: section in vtadmin --help');
  const flags: string[] = [];
  const shorthands: Record<string, string> = {};
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break;
    const match = /^(?: {2}-([A-Za-z0-9]), | {6})--([A-Za-z0-9][A-Za-z0-9_.-]*)(?: |$)/.exec(line);
    if (match) {
      flags.push(`--${match[2]}`);
      if (match[1]) shorthands[`-${match[1]}`] = `--${match[2]}`;
    }
  }
  if (flags.length === 0) fail('no flags in vtadmin --help');
  if (new Set(flags).size !== flags.length) fail('a flag is listed twice in vtadmin --help');
  return { flags: [...flags].sort(), shorthands };
}

/** The flags that go/cmd/vtadmin/main.go hides with `MarkDeprecated("<name>", ...)`, with their lines. */
function markedDeprecated(moduleDir: string): { flags: string[]; source: string } {
  const rel = 'go/cmd/vtadmin/main.go';
  const found: Array<{ flag: string; line: number }> = [];
  fs.readFileSync(path.join(moduleDir, rel), 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const match = /MarkDeprecated\("([^"]+)"/.exec(line);
      if (match) found.push({ flag: `--${match[1]}`, line: i + 1 });
    });
  return { flags: found.map((f) => f.flag), source: found.length > 0 ? `${rel} lines ${found.map((f) => f.line).join(', ')}` : `${rel}: none` };
}

/** JSON with objects indented and lists of names on one line, as validation/generate.js writes. */
function formatJson(value: unknown, indent = ''): string {
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
    return JSON.stringify(value);
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    const inner = `${indent}  `;
    return `{\n${entries.map(([key, item]) => `${inner}${JSON.stringify(key)}: ${formatJson(item, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

function main(): void {
  const check = process.argv.slice(2).includes('--check');
  const releases: Record<string, unknown> = {};
  for (const { release, moduleVersion, alsoFor } of RELEASES) {
    const mod = moduleInfo(moduleVersion);
    const version = /const versionName = "([^"]+)"/.exec(fs.readFileSync(path.join(mod.dir, 'go/vt/servenv/version.go'), 'utf8'));
    if (!version || `v${version[1]}` !== release) fail(`go/vt/servenv/version.go of ${MODULE}@${moduleVersion} says ${version && version[1]}, expected ${release}`);
    if (fs.existsSync(path.join(mod.dir, 'go/flags/endtoend/vtadmin.txt'))) {
      fail(`${MODULE}@${moduleVersion} has go/flags/endtoend/vtadmin.txt now: read the flags from it, as generate-vitess-v24.ts does`);
    }
    const vtadmin = path.join(REPO_DIR, '.cache', 'tools', `vitess-${moduleVersion}`, 'bin', 'vtadmin');
    if (!fs.existsSync(vtadmin)) fail(`no vtadmin at ${vtadmin} (bash tools/build.sh vtadmin)`);
    const binaryVersion = run(vtadmin, ['--version']);
    if (!binaryVersion.includes(`Version: ${release.slice(1)} `)) fail(`${vtadmin} is not ${release}: ${binaryVersion.trim()}`);
    const { flags, shorthands } = helpFlags(run(vtadmin, ['--help'], { cwd: os.tmpdir() }));
    const deprecated = markedDeprecated(mod.dir);
    releases[release] = {
      alsoFor,
      module: { path: MODULE, version: moduleVersion, sum: mod.sum, goModSum: mod.goModSum, proxyTime: mod.info.Time },
      flags,
      shorthands,
      hiddenDeprecatedFlags: deprecated.flags,
      hiddenDeprecatedFlagsSource: deprecated.source,
    };
  }
  const reference = {
    binary: 'vtadmin',
    source:
      `The Flags section of \`vtadmin --help\` of vtadmin built from ${MODULE} at ${RELEASES.map((r) => r.moduleVersion).join(' and ')} ` +
      '(`tools/build.sh vtadmin`; Vitess has no go/flags/endtoend/vtadmin.txt at these tags); generated by tools/reference/generate-vtadmin.ts.',
    exactness:
      'exact: every flag that `vtadmin --help` prints at the release. Flags hidden from help (MarkDeprecated in go/cmd/vtadmin/main.go: ' +
      'hiddenDeprecatedFlags) are accepted by the binary but not listed in flags, and the tests do not accept them.',
    alsoForNote:
      'v22.0.4 stands for v22.0.3 too: go/cmd/vtadmin/main.go and the packages whose flags it registers (go/trace, go/vt/servenv/mysql.go, ' +
      'go/vt/log, go/internal/flag) are the same at v0.22.1 and v0.22.4, so at v22.0.3 between them (whose module the Go module proxy refuses).',
    releases,
  };
  const content = `${formatJson(reference)}\n`;
  if (check) {
    const actual = fs.existsSync(OUTPUT) ? fs.readFileSync(OUTPUT, 'utf8') : '';
    if (actual !== content) fail(`${path.relative(REPO_DIR, OUTPUT)} is not what this script writes now`);
    process.stdout.write(`${path.relative(REPO_DIR, OUTPUT)} is up to date\n`);
    return;
  }
  fs.writeFileSync(OUTPUT, content);
  process.stdout.write(`wrote ${path.relative(REPO_DIR, OUTPUT)} (${content.length} bytes)\n`);
}

main();

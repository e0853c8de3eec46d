/**
 * Writes reference/vitess-v24.0.4.json: the flag and command names of Vitess v24.0.4, in the shape
 * of shared/vitess-reference/modern.json (and modern-v23.json's `flagNameNormalization` and
 * `deprecatedUnderscoreAliases`), read from the Go module vitess.io/vitess@v0.24.4 itself:
 *
 * - `binaries`, `extraBinaries`, `binaryShorthands`: the `Flags:` section of
 *   go/flags/endtoend/<binary>.txt (the binaries' `--help` output, which Vitess's own flags_test
 *   checks);
 * - `vtctldclient.globalFlags`, `globalShorthands`, `commandNames`: go/flags/endtoend/vtctldclient.txt;
 * - `vtctldclient.commands`, `commandShorthands`, `commandAliases`: the `--help` output of a
 *   vtctldclient built from that module, for every command and subcommand
 *   (`vtctldclient <Command> [<sub>] --help`), checked against vtctldclient.txt;
 * - `vtctldclient.hiddenOrDeprecatedCommands`: the commands of go/cmd/vtctldclient/command/*.go
 *   with `Hidden: true` or `Deprecated:`;
 * - `hiddenDeprecatedFlags`: the flags that go/vt/servenv/servenv.go and go/vt/vtctld/vtctld.go
 *   mark deprecated (accepted, hidden from help, no effect);
 * - `deprecatedUnderscoreAliases`: computed from `binaries` with the rule of
 *   go/vt/utils/flags.go NormalizeUnderscoresToDashes.
 *
 * Usage (from the repository root; needs Go and the Go module proxy, or the module in the cache):
 *
 *   npx ts-node tools/reference/generate-vitess-v24.ts [--vtctldclient <path>] [--check]
 *
 * `--vtctldclient` defaults to .cache/tools/vitess-v0.24.4/bin/vtctldclient; build one with
 * `GOFLAGS=-mod=mod go build -o <path> vitess.io/vitess/go/cmd/vtctldclient` in a module that
 * requires vitess.io/vitess v0.24.4. `--check` writes nothing and fails when the file differs.
 */
import * as childProcess from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const MODULE = 'vitess.io/vitess';
const MODULE_VERSION = 'v0.24.4';
const RELEASE = 'v24.0.4';
const REPO_DIR = path.resolve(__dirname, '../..');
const OUTPUT = path.join(REPO_DIR, 'reference', `vitess-${RELEASE}.json`);
const DEFAULT_VTCTLDCLIENT = path.join(REPO_DIR, '.cache', 'tools', `vitess-${MODULE_VERSION}`, 'bin', 'vtctldclient');

const BINARIES = ['vtctld', 'vttablet', 'vtgate', 'vtorc', 'vtbackup', 'mysqlctld'];
const EXTRA_BINARIES = ['mysqlctl', 'vtctlclient', 'vtcombo'];
/** The glog flags that NormalizeUnderscoresToDashes keeps as they are (go/vt/utils/flags.go). */
const NORMALIZATION_EXCEPTIONS = ['log_dir', 'log_link', 'log_backtrace_at'];
/** cobra's own commands, which have no flags of Vitess. */
const COBRA_COMMANDS = ['completion', 'help'];

function fail(message: string): never {
  process.stderr.write(`generate-vitess-v24: ${message}\n`);
  process.exit(1);
}

function run(file: string, args: string[], options: childProcess.SpawnSyncOptions = {}): string {
  const result = childProcess.spawnSync(file, args, { maxBuffer: 64 * 1024 * 1024, ...options, encoding: 'utf8' });
  if (result.error) fail(`${file} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) fail(`${file} ${args.join(' ')} exited with ${result.status}: ${result.stderr}`);
  return result.stdout;
}

/** The module's directory, its h1 hash and the proxy's .info record, through `go mod download -json`. */
interface ModuleInfo {
  readonly dir: string;
  readonly sum: string;
  readonly goModSum: string;
  readonly info: { Version: string; Time: string; Origin?: { Hash?: string } };
}

function moduleInfo(): ModuleInfo {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vitess-ref-'));
  try {
    const download = JSON.parse(run('go', ['mod', 'download', '-json', `${MODULE}@${MODULE_VERSION}`], { cwd: tmp, env: { ...process.env, GOFLAGS: '-mod=mod' } }));
    if (download.Error) fail(`go mod download: ${download.Error}`);
    const info = JSON.parse(fs.readFileSync(download.Info, 'utf8'));
    return { dir: download.Dir, sum: download.Sum, goModSum: download.GoModSum, info };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The text of the cobra/pflag help sections: `{ '<Header>': [lines] }` for every `Header:` line. */
function sections(text: string): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const header = /^([A-Z][A-Za-z ]*|Usage of [a-z]+):$/.exec(line);
    if (header) {
      current = header[1].startsWith('Usage of ') ? 'Flags' : header[1];
      result[current] = result[current] ?? [];
    } else if (current) {
      result[current].push(line);
    }
  }
  return result;
}

/**
 * The flags of pflag's FlagUsages lines: `  -x, --name type   usage` or `      --name type   usage`
 * (continuation lines of a usage are indented further and are not flags).
 */
interface Flags {
  readonly flags: string[];
  readonly shorthands: Record<string, string>;
}

function flagLines(lines: string[] | undefined): Flags {
  const flags: string[] = [];
  const shorthands: Record<string, string> = {};
  for (const line of lines ?? []) {
    const match = /^(?: {2}-([A-Za-z0-9]), | {6})--([A-Za-z0-9][A-Za-z0-9_.-]*)(?: |$)/.exec(line);
    if (match) {
      flags.push(`--${match[2]}`);
      if (match[1]) shorthands[`-${match[1]}`] = `--${match[2]}`;
    }
  }
  return { flags, shorthands };
}

/** The names of cobra's `Available Commands:` lines. */
function commandLines(lines: string[] | undefined): string[] {
  return (lines ?? []).flatMap((line) => {
    const match = /^ {2}(\S+)/.exec(line);
    return match ? [match[1]] : [];
  });
}

/** The aliases of cobra's `Aliases:` section (`  Name, alias1, alias2`), without the name. */
function aliasLines(lines: string[] | undefined, name: string): string[] {
  const text = (lines ?? []).map((l) => l.trim()).filter(Boolean).join(' ');
  return text === '' ? [] : text.split(/,\s*/).filter((alias) => alias !== name);
}

/** The help text of a binary from go/flags/endtoend/<binary>.txt. */
function endtoendHelp(moduleDir: string, binary: string): string {
  return fs.readFileSync(path.join(moduleDir, 'go', 'flags', 'endtoend', `${binary}.txt`), 'utf8');
}

/** Flags and shorthands of a binary's help, sorted, each once. */
function binaryFlags(text: string, binary: string): Flags {
  const { flags, shorthands } = flagLines(sections(text).Flags);
  if (flags.length === 0) fail(`no flags found in go/flags/endtoend/${binary}.txt`);
  if (new Set(flags).size !== flags.length) fail(`a flag is listed twice in go/flags/endtoend/${binary}.txt`);
  return { flags: [...flags].sort(), shorthands };
}

/** The all-underscore spellings that NormalizeUnderscoresToDashes turns into the dashed `flags`. */
function underscoreAliases(flags: string[]): string[] {
  return flags
    .map((flag) => flag.slice(2))
    .filter((name) => name.includes('-') && !name.includes('_'))
    .map((name) => `--${name.replace(/-/g, '_')}`)
    .filter((alias) => !NORMALIZATION_EXCEPTIONS.includes(alias.slice(2)))
    .sort();
}

/** The top-level commands of go/cmd/vtctldclient/command that are `Hidden` or `Deprecated`. */
function hiddenCommands(moduleDir: string): Record<string, string> {
  const dir = path.join(moduleDir, 'go', 'cmd', 'vtctldclient', 'command');
  const found: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const file = path.join(d, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.go') && !entry.name.endsWith('_test.go')) {
        const source = fs.readFileSync(file, 'utf8');
        for (const block of source.matchAll(/&cobra\.Command\{([\s\S]*?)\n\t+\}/g)) {
          const use = /\bUse:\s*"([A-Za-z]+)/.exec(block[1]);
          const deprecated = /\bDeprecated:\s*"([^"]*)"/.exec(block[1]);
          const hidden = /\bHidden:\s*true\b/.test(block[1]);
          if (use && (deprecated || hidden)) {
            const rel = path.relative(moduleDir, file);
            found[use[1]] = deprecated
              ? `registered but not shown in \`vtctldclient --help\`: Deprecated ("${deprecated[1]}", ${rel})`
              : `registered but not shown in \`vtctldclient --help\`: Hidden (${rel})`;
          }
        }
      }
    }
  };
  walk(dir);
  return Object.fromEntries(Object.entries(found).sort(([a], [b]) => a.localeCompare(b)));
}

/** The flags that a Go file marks deprecated with `fs.MarkDeprecated("<name>", ...)`, with their lines. */
function markedDeprecated(moduleDir: string, rel: string): Array<{ flag: string; line: number }> {
  const lines = fs.readFileSync(path.join(moduleDir, rel), 'utf8').split('\n');
  const found: Array<{ flag: string; line: number }> = [];
  lines.forEach((line, i) => {
    const match = /MarkDeprecated\("([^"]+)"/.exec(line);
    if (match) found.push({ flag: `--${match[1]}`, line: i + 1 });
  });
  if (found.length === 0) fail(`no MarkDeprecated in ${rel}`);
  return found;
}

/** One vtctldclient command's help, parsed. */
interface CommandHelp {
  readonly flags: Flags;
  readonly inherited: string[];
  readonly subcommands: string[];
  readonly aliases: string[];
}

function commandHelp(vtctldclient: string, words: string[]): CommandHelp {
  const text = run(vtctldclient, [...words, '--help']);
  const s = sections(text);
  return {
    flags: flagLines(s.Flags),
    inherited: flagLines(s['Global Flags']).flags,
    subcommands: commandLines(s['Available Commands']),
    aliases: aliasLines(s.Aliases, words[words.length - 1]),
  };
}

/** The flag lists of vtctldclient's commands, from the binary's help of each command and subcommand. */
function vtctldclientCommands(vtctldclient: string, globalFlags: string[], names: string[]) {
  const commands: Record<string, unknown> = {};
  const commandShorthands: Record<string, Record<string, string>> = {};
  const commandAliases: Record<string, string[]> = {};
  const local = (help: CommandHelp): string[] => help.flags.flags.filter((f) => f !== '--help');
  const addShorthands = (key: string, help: CommandHelp): void => {
    const own = Object.fromEntries(Object.entries(help.flags.shorthands).filter(([s]) => s !== '-h'));
    if (Object.keys(own).length > 0) commandShorthands[key] = own;
  };
  for (const name of names) {
    const help = commandHelp(vtctldclient, [name]);
    for (const flag of help.inherited) {
      if (!globalFlags.includes(flag)) fail(`${name}: inherited flag ${flag} is not a global flag`);
    }
    addShorthands(name, help);
    if (help.subcommands.length === 0) {
      commands[name] = local(help);
      if (help.aliases.length > 0) commandAliases[name] = help.aliases;
      continue;
    }
    const subcommands: Record<string, string[]> = {};
    const subAliases: Record<string, string[]> = {};
    const persistent = new Set<string>();
    for (const sub of help.subcommands) {
      const subHelp = commandHelp(vtctldclient, [name, sub]);
      if (subHelp.subcommands.length > 0) fail(`${name} ${sub} has subcommands of its own, which this shape cannot hold`);
      const inheritedFromParent = subHelp.inherited.filter((f) => !globalFlags.includes(f));
      inheritedFromParent.forEach((f) => persistent.add(f));
      subcommands[sub] = [...local(subHelp), ...inheritedFromParent];
      if (subHelp.aliases.length > 0) subAliases[sub] = subHelp.aliases;
      addShorthands(`${name} ${sub}`, subHelp);
    }
    commands[name] = {
      flags: local(help).filter((f) => !persistent.has(f)),
      persistentFlags: local(help).filter((f) => persistent.has(f)),
      subcommands,
      aliases: { command: help.aliases, subcommands: subAliases },
    };
  }
  return { commands, commandShorthands, commandAliases };
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
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
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const at = args.indexOf('--vtctldclient');
  const vtctldclient = path.resolve(at >= 0 ? args[at + 1] : DEFAULT_VTCTLDCLIENT);
  if (!fs.existsSync(vtctldclient)) fail(`no vtctldclient at ${vtctldclient} (--vtctldclient <path>)`);

  const mod = moduleInfo();
  const version = /const versionName = "([^"]+)"/.exec(fs.readFileSync(path.join(mod.dir, 'go/vt/servenv/version.go'), 'utf8'));
  if (!version || `v${version[1]}` !== RELEASE) fail(`go/vt/servenv/version.go of ${MODULE}@${MODULE_VERSION} says ${version && version[1]}, expected ${RELEASE}`);
  const binaryVersion = run(vtctldclient, ['--version']);
  if (!binaryVersion.includes(`Version: ${RELEASE.slice(1)}`)) fail(`${vtctldclient} is not ${RELEASE}: ${binaryVersion.trim()}`);

  const binaries: Record<string, string[]> = {};
  const extraBinaries: Record<string, string[]> = {};
  const binaryShorthands: Record<string, Record<string, string>> = {};
  const deprecatedUnderscoreAliases: Record<string, string[]> = {};
  const underscoredInHelp: Record<string, string[]> = {};
  for (const binary of [...BINARIES, ...EXTRA_BINARIES]) {
    const { flags, shorthands } = binaryFlags(endtoendHelp(mod.dir, binary), binary);
    (BINARIES.includes(binary) ? binaries : extraBinaries)[binary] = flags;
    binaryShorthands[binary] = shorthands;
    deprecatedUnderscoreAliases[binary] = underscoreAliases(flags);
    underscoredInHelp[binary] = flags.filter((f) => f.includes('_'));
  }

  const clientText = endtoendHelp(mod.dir, 'vtctldclient');
  const clientSections = sections(clientText);
  const global = flagLines(clientSections.Flags);
  const fromBinary = flagLines(sections(run(vtctldclient, ['--help'])).Flags);
  if (!sameSet(global.flags, fromBinary.flags)) fail(`${vtctldclient} --help and go/flags/endtoend/vtctldclient.txt list different flags`);
  const commandNames = commandLines(clientSections['Available Commands']);
  const hidden = hiddenCommands(mod.dir);
  const { commands, commandShorthands, commandAliases } = vtctldclientCommands(vtctldclient, global.flags, [
    ...commandNames.filter((c) => !COBRA_COMMANDS.includes(c)),
    ...Object.keys(hidden),
  ]);

  const servenv = 'go/vt/servenv/servenv.go';
  const vtctldFile = 'go/vt/vtctld/vtctld.go';
  const servenvDeprecated = markedDeprecated(mod.dir, servenv);
  const vtctldDeprecated = markedDeprecated(mod.dir, vtctldFile);
  const hiddenDeprecatedFlags = {
    note:
      `Accepted by the binaries but hidden from --help (pflag MarkDeprecated): a deprecation warning, and no effect. ${servenv} ` +
      'marks the glog flags of every cobra binary that moves its servenv flags (all binaries here but vtctlclient): with the default ' +
      '--log-structured=true they do nothing (go/vt/log/flags.go Init warns). ' +
      `${vtctldFile}: vtctld's flags of the removed /api HTTP API.`,
    allCobraBinaries: servenvDeprecated.map((d) => d.flag),
    allCobraBinariesSource: `${servenv} lines ${servenvDeprecated.map((d) => d.line).join(', ')}`,
    vtctld: vtctldDeprecated.map((d) => d.flag),
    vtctldSource: `${vtctldFile} lines ${vtctldDeprecated.map((d) => d.line).join(', ')}`,
  };

  const reference = {
    release: RELEASE,
    releaseCommit: mod.info.Origin && mod.info.Origin.Hash ? mod.info.Origin.Hash : null,
    releaseDate: mod.info.Time.slice(0, 10),
    module: {
      path: MODULE,
      version: MODULE_VERSION,
      sum: mod.sum,
      goModSum: mod.goModSum,
      proxyInfo: mod.info,
      origin: mod.info.Origin ? mod.info.Origin : 'none: the Go module proxy\'s .info record of this version has no Origin (no VCS commit)',
    },
    source:
      `${MODULE}@${MODULE_VERSION} (module zip ${mod.sum}; go/vt/servenv/version.go versionName = "${RELEASE.slice(1)}"): ` +
      `go/flags/endtoend/{${[...BINARIES, 'vtctldclient', ...EXTRA_BINARIES].join(',')}}.txt; vtctldclient per-command flags from the ` +
      '`vtctldclient <Command> [<subcommand>] --help` output of a vtctldclient built from the same module; generated by ' +
      'tools/reference/generate-vitess-v24.ts.',
    exactness: {
      binaries: 'exact: every flag printed by `<binary> --help` at this release (go/flags/endtoend, which Vitess checks in its own flags_test). Flags hidden from help (pflag MarkHidden/MarkDeprecated, see hiddenDeprecatedFlags) are not listed even though the binary still accepts them.',
      'vtctldclient.globalFlags': 'exact: `vtctldclient --help` Flags section (root persistent flags, accepted before or after the command name); the same in go/flags/endtoend/vtctldclient.txt and the built binary.',
      'vtctldclient.commands': 'exact: the Flags and Global Flags sections of `vtctldclient <Command> [<subcommand>] --help` of the built binary, for every command (none without flag data).',
    },
    flagNameNormalization: {
      enabled: true,
      rule: "Every binary (and vtctldclient incl. all subcommands) installs utils.NormalizeUnderscoresToDashes (go/vt/utils/flags.go): a flag name that contains '_' and no '-' is rewritten by replacing every '_' with '-', and a deprecation warning ('Flag --x_y has been deprecated, use --x-y instead') is printed to stderr. Names containing any '-' are not rewritten. Exceptions kept as-is: log_dir, log_link, log_backtrace_at (glog).",
      consequence: 'Canonical names are the dashed ones listed in `binaries`. The all-underscore spelling of a dashed flag (listed in `deprecatedUnderscoreAliases`) is accepted with a warning. Mixed spellings and dashed spellings of the glog exceptions (--log-dir) are rejected.',
      underscoredInHelp,
    },
    binaries,
    extraBinaries,
    binaryShorthands,
    deprecatedUnderscoreAliases,
    hiddenDeprecatedFlags,
    vtctldclient: {
      globalFlags: [...global.flags].sort(),
      globalShorthands: global.shorthands,
      commandNames,
      commands,
      commandShorthands,
      commandAliases,
      hiddenOrDeprecatedCommands: hidden,
      commandsWithoutFlagData: [],
      notes: [
        'A leaf command maps to the list of flags it accepts besides globalFlags (and --help/-h, which every cobra command accepts).',
        'A command with subcommands maps to {flags: its own local flags, persistentFlags: flags it passes down, subcommands: {name: accepted flags incl. inherited persistentFlags}, aliases}.',
        'commandAliases: the aliases of leaf commands (cobra Aliases).',
        `completion and help are cobra's own commands and have no entry in commands.`,
      ],
      deprecatedUnderscoreAliasesNote: 'Normalization is installed on the root command and all subcommands (command.Root.SetGlobalNormalizationFunc in go/cmd/vtctldclient/main.go), so e.g. --target_keyspace is accepted as --target-keyspace (with a warning). Apply the same rule as for the binaries.',
    },
  };
  const content = `${formatJson(reference)}\n`;
  if (check) {
    const actual = fs.existsSync(OUTPUT) ? fs.readFileSync(OUTPUT, 'utf8') : '';
    if (actual !== content) fail(`${path.relative(REPO_DIR, OUTPUT)} is not what this script writes now`);
    process.stdout.write(`${path.relative(REPO_DIR, OUTPUT)} is up to date\n`);
    return;
  }
  fs.mkdirSync(path.dirname(OUTPUT), { recursive: true });
  fs.writeFileSync(OUTPUT, content);
  process.stdout.write(`wrote ${path.relative(REPO_DIR, OUTPUT)} (${content.length} bytes)\n`);
}

main();

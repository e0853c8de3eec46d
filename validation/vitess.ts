/**
 * Checks the Vitess command lines of a Kubernetes object against the flag and command names of the
 * Vitess release its container image holds (data/vitess.json, see generate.js): every flag of a
 * Vitess binary, every vtctlclient/vtctldclient/vtworker command and command flag, whether run
 * directly (command, args, lifecycle hooks, exec probes) or from a `bash -c` script.
 *
 * The same rules as test/util/vitess-reference.ts, which checks against shared/vitess-reference.
 */
import * as fs from 'fs';
import * as path from 'path';
import { closest } from './closest';
import type { Finding } from './kubernetes';
import { simpleCommands } from './shell-words';

/** The reference data of the releases, by release (`v22.0.3`), as generate.ts writes it. */
type Releases = Record<string, any>;

const releasesByDir = new Map<string, Releases>();

/** The release data of a data folder, read on first use. */
function vitessReleases(dataDir: string): Releases {
  let releases = releasesByDir.get(dataDir);
  if (!releases) {
    releases = JSON.parse(fs.readFileSync(path.join(dataDir, 'vitess.json'), 'utf8')) as Releases;
    releasesByDir.set(dataDir, releases);
  }
  return releases;
}

const VITESS_BINARY = /^(?:\/vt\/bin\/)?(vtadmin|vtctld|vttablet|vtgate|vtorc|vtbackup|mysqlctld|mysqlctl|vtctlclient|vtctldclient|vtworker|vtctl|vtcombo)$/;
const SHELLS = ['/bin/bash', '/bin/sh', 'bash', 'sh'];
/** The words that may stand before a simple command's command word. */
const PREFIX_WORDS = ['if', 'then', 'elif', 'else', 'while', 'until', 'do', '!', '{', 'time', 'exec', 'command', 'env'];
const DATA_FILE = 'the plugin\'s data/vitess.json';
const REGENERATE = 'run npm run build';

/** A problem of one run of a Vitess binary: `argIndex` -1 is the binary itself. */
interface RunProblem {
  readonly argIndex: number;
  readonly rule: string;
  readonly recommendation: string;
  readonly fix: string;
}

/** One word of a command line and the JSON pointer of the string it is in. */
interface Word {
  readonly value: string;
  readonly pointer: string;
}

/** One run of a Vitess binary. */
interface VitessRun {
  readonly binary: string;
  readonly binaryAt: Word;
  readonly args: Word[];
  /** The script line of the run, 0 when it is not in a script. */
  readonly line: number;
}

/**
 * The Vitess release of an image: `{ version }` for a Vitess image (repository `vitess/<name>`,
 * tag `v<major>.<minor>.<patch>` with an optional `-<variant>`) whose release the data covers,
 * `{ unknown: reason }` for a Vitess image it does not cover, undefined for any other image.
 */
export function vitessImage(releases: Releases, image: unknown): { version: string } | { unknown: string } | undefined {
  if (typeof image !== 'string') return undefined;
  const nameAndTag = image.split('@')[0];
  const colon = nameAndTag.lastIndexOf(':');
  const hasTag = colon > nameAndTag.lastIndexOf('/');
  const repository = hasTag ? nameAndTag.slice(0, colon) : nameAndTag;
  if (!/(^|\/)vitess\/[^/]+$/.test(repository)) return undefined;
  const tag = hasTag ? nameAndTag.slice(colon + 1) : '';
  const match = /^(v\d+\.\d+\.\d+)(-[0-9A-Za-z.-]+)?$/.exec(tag);
  if (!match) {
    return { unknown: tag ? `The tag '${tag}' is not a release (v<major>.<minor>.<patch>).` : 'The image has no release tag.' };
  }
  if (!Object.prototype.hasOwnProperty.call(releases, match[1])) {
    return { unknown: `There is no data for Vitess ${match[1]}.` };
  }
  return { version: match[1] };
}

/** The flag name of an argument (`-name=value`, `--name`), or undefined for a positional one. */
function flagName(arg: string): string | undefined {
  const match = /^--?([A-Za-z0-9][A-Za-z0-9_.-]*)(=.*)?$/s.exec(arg);
  return match ? match[1] : undefined;
}

/** The flag as written, without its value: `--port=15000` gives `--port`. */
function flagAsWritten(arg: string): string {
  return arg.split('=')[0];
}

/** The end of the flags from `from` on (Go's flag package stops at the first non-flag or `--`). */
function leadingFlagsEnd(args: string[], from: number): number {
  let i = from;
  while (i < args.length && args[i] !== '--' && flagName(args[i]) !== undefined) i++;
  return i;
}

/** "closest: a, b" or a pointer to the full list. */
function closestText(name: string, names: string[], what: string): string {
  const near = closest(name, names);
  return near.length > 0
    ? `the closest ${what}: ${near.join(', ')} (all ${names.length} are in ${DATA_FILE})`
    : `none is close; all ${names.length} ${what} are in ${DATA_FILE}`;
}

/**
 * The problems of one run of a Vitess binary in a release.
 * @param releases the release data
 * @param binary the binary's base name, e.g. `vttablet`
 * @param args the arguments after the binary
 * @param version the release, e.g. `v22.0.3`
 */
export function checkRun(releases: Releases, binary: string, args: string[], version: string): RunProblem[] {
  const release = releases[version];
  const problems: RunProblem[] = [];
  const at = `(Vitess ${version})`;
  const pflag = release.flagSyntax === 'pflag';
  const has = (map: object, key: string | undefined): boolean => key !== undefined && Object.prototype.hasOwnProperty.call(map, key);

  /** Checks the flag args[i] against `known`, the flags of `what`. */
  const checkFlag = (i: number, known: string[], what: string): void => {
    const arg = args[i];
    const written = flagAsWritten(arg);
    if (pflag && !arg.startsWith('--')) {
      problems.push({
        argIndex: i,
        rule: `flag ${written} for ${what} must be written -${written} ${at}`,
        recommendation: `Vitess ${version} parses flags with pflag: a single '-' starts shorthand flags, so ${written} is not the flag -${written}.`,
        fix: `Write the flag as -${arg}.`,
      });
    } else if (!known.includes(`--${flagName(arg)}`)) {
      problems.push({
        argIndex: i,
        rule: `unknown flag ${written} for ${what} ${at}`,
        recommendation: `${what} of Vitess ${version} has no flag --${flagName(arg)}; ${closestText(`--${flagName(arg)}`, known, 'flags')}.`,
        fix: 'Correct the flag name or remove the flag; a flag that only another release has must be rendered only for that release.',
      });
    }
  };
  /** Reports args[index] (or its absence) as not one of `names`, commands of `what`. */
  const unknownCommand = (index: number, names: string[], what: string): void => {
    const command = args[index];
    problems.push({
      argIndex: command === undefined ? -1 : index,
      rule:
        command === undefined
          ? `${binary} run without a command ${at}`
          : `unknown ${what} command '${command}'${what === binary ? '' : ` for ${binary}`} ${at}`,
      recommendation:
        command === undefined
          ? `${binary} runs a command; the ${what} commands of Vitess ${version} are in ${DATA_FILE}.`
          : `Vitess ${version} has no ${what} command '${command}'; ${closestText(command, names, 'commands')}.`,
      fix: 'Correct the command name; a command that only another release has must be rendered only for that release.',
    });
  };

  if ((binary === 'vtctlclient' && release.vtctlCommands) || (binary === 'vtworker' && release.vtworkerCommands)) {
    // <binary> [flags] <Command> [command flags] <args>; Go's flag package stops at the first non-flag.
    const commands = binary === 'vtctlclient' ? release.vtctlCommands : release.vtworkerCommands;
    const what = binary === 'vtctlclient' ? 'vtctl' : 'vtworker';
    const flagsEnd = leadingFlagsEnd(args, 0);
    for (let i = 0; i < flagsEnd; i++) checkFlag(i, release.binaries[binary] || [], binary);
    const commandIndex = args[flagsEnd] === '--' ? flagsEnd + 1 : flagsEnd;
    const command = args[commandIndex];
    if (!has(commands, command)) {
      unknownCommand(commandIndex, Object.keys(commands).sort(), what);
    } else {
      const end = leadingFlagsEnd(args, commandIndex + 1);
      for (let i = commandIndex + 1; i < end; i++) checkFlag(i, commands[command], `${what} ${command}`);
    }
  } else if (binary === 'vtctldclient' && release.vtctldclient) {
    // [global flags] <Command> [<subcommand>] [flags] <args>, flags anywhere (cobra). A flag's
    // value may be the next argument (`--workflow wf`), so the command is the first positional
    // argument that names one, and the subcommand the first after it that names one of its
    // subcommands; without one, the first positional argument is reported.
    const data = release.vtctldclient;
    const positional = args.map((_, i) => i).filter((i) => flagName(args[i]) === undefined || !args[i].startsWith('--'));
    const commandIndex = positional.find((i) => data.commandNames.includes(args[i])) ?? (positional.length > 0 ? positional[0] : args.length);
    const command = args[commandIndex];
    if (command === undefined || !data.commandNames.includes(command)) {
      unknownCommand(commandIndex, data.commandNames, 'vtctldclient');
      return problems;
    }
    let known = data.globalFlags;
    let what = `vtctldclient ${command}`;
    const spec = data.commands[command];
    if (spec === undefined) {
      // The reference lists the command without its flags (v22.0.3's workflow commands
      // LookupVindex, Materialize, Migrate, Mount, MoveTables and Workflow): only its name is checked.
      return problems;
    }
    if (spec.subcommands) {
      const subcommandOf = (word: string): string | undefined =>
        has(spec.subcommands, word) ? word : Object.keys(spec.subcommandAliases).find((name) => spec.subcommandAliases[name].includes(word));
      const after = positional.filter((i) => i > commandIndex);
      const subIndex = after.find((i) => subcommandOf(args[i]) !== undefined) ?? after[0];
      const written = subIndex === undefined ? undefined : args[subIndex];
      const sub = written === undefined ? undefined : subcommandOf(written);
      if (sub === undefined) {
        problems.push({
          argIndex: subIndex === undefined ? commandIndex : subIndex,
          rule:
            written === undefined
              ? `vtctldclient ${command} run without a subcommand ${at}`
              : `unknown vtctldclient ${command} subcommand '${written}' ${at}`,
          recommendation: `The ${command} subcommands of Vitess ${version}: ${Object.keys(spec.subcommands).sort().join(', ')}.`,
          fix: 'Correct the subcommand.',
        });
        return problems;
      }
      known = known.concat(spec.subcommands[sub]);
      what = `${what} ${sub}`;
    } else {
      known = known.concat(spec);
    }
    args.forEach((arg, i) => {
      if (/^-[^-]/.test(arg)) {
        problems.push({
          argIndex: i,
          rule: `argument '${arg}' for vtctldclient starts with a single '-' ${at}`,
          recommendation: "vtctldclient (cobra) reads '-x...' as shorthand flags, not as a long flag or a value.",
          fix: 'Write long flags as --name=value.',
        });
      } else if (arg.startsWith('--') && flagName(arg) !== undefined && flagName(arg) !== 'help') {
        checkFlag(i, known, what);
      }
    });
  } else if (release.binaries[binary]) {
    // A server: flags only.
    args.forEach((arg, i) => {
      if (flagName(arg) === undefined) {
        problems.push({
          argIndex: i,
          rule: `unexpected argument '${arg}' for ${binary} ${at}`,
          recommendation: `${binary} takes flags only (${pflag ? '--name=value' : '-name=value'}).`,
          fix: 'Remove the argument, or join it to its flag with =.',
        });
      } else {
        checkFlag(i, release.binaries[binary], binary);
      }
    });
  } else {
    const covered = [...Object.keys(release.binaries), ...(release.vtctldclient ? ['vtctldclient'] : [])].sort();
    problems.push({
      argIndex: -1,
      rule: `no reference data for ${binary} in Vitess ${version}`,
      recommendation: `The plugin has the flags of ${covered.join(', ')} for Vitess ${version}.`,
      fix: `Run a binary the plugin covers, or add ${binary} to VITESS_BINARIES in validation/generate.js and ${REGENERATE}.`,
    });
  }
  return problems;
}

/** The pod spec of an object and its JSON pointer, if it has one. */
function podSpecOf(obj: any): { spec: any; pointer: string } | undefined {
  if (obj.spec && obj.spec.template && obj.spec.template.spec) {
    return { spec: obj.spec.template.spec, pointer: '/spec/template/spec' };
  }
  const job = obj.spec && obj.spec.jobTemplate && obj.spec.jobTemplate.spec;
  if (job && job.template && job.template.spec) {
    return { spec: job.template.spec, pointer: '/spec/jobTemplate/spec/template/spec' };
  }
  if (obj.kind === 'Pod' && obj.spec) {
    return { spec: obj.spec, pointer: '/spec' };
  }
  return undefined;
}

/**
 * Every exec-style command of a container, each element with its JSON pointer: command + args,
 * lifecycle hooks and exec probes.
 */
function execCommands(container: any, pointer: string): Word[][] {
  const found: Word[][] = [];
  const list = (value: unknown, at: string): Word[] => (Array.isArray(value) ? value.map((item, i) => ({ value: String(item), pointer: `${at}/${i}` })) : []);
  const main = [...list(container.command, `${pointer}/command`), ...list(container.args, `${pointer}/args`)];
  if (main.length > 0) found.push(main);
  for (const hook of ['postStart', 'preStop']) {
    const exec = container.lifecycle && container.lifecycle[hook] && container.lifecycle[hook].exec;
    if (exec && exec.command) found.push(list(exec.command, `${pointer}/lifecycle/${hook}/exec/command`));
  }
  for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
    const exec = container[probe] && container[probe].exec;
    if (exec && exec.command) found.push(list(exec.command, `${pointer}/${probe}/exec/command`));
  }
  return found.filter((argv) => argv.length > 0);
}

/**
 * The Vitess problems of one object: each container with a Vitess image that runs a Vitess binary
 * must be of a release the data covers, and every Vitess command line it runs must use that
 * release's flags and commands. Containers of other images are not checked: an exporter sidecar's
 * flags are not Vitess flags.
 * @param dataDir the folder of the generated data
 * @param obj a Kubernetes object
 */
export function vitessFindings(dataDir: string, obj: any): Finding[] {
  const releases = vitessReleases(dataDir);
  const pod = podSpecOf(obj);
  if (!pod) return [];
  const findings: Finding[] = [];
  for (const group of ['initContainers', 'containers']) {
    const containers = Array.isArray(pod.spec[group]) ? pod.spec[group] : [];
    containers.forEach((container: any, c: number) => {
      const pointer = `${pod.pointer}/${group}/${c}`;
      const image = vitessImage(releases, container && container.image);
      if (!image) return;
      // A container of an image under a `vitess/` path that runs no Vitess binary (an exporter
      // sidecar mirrored to `<registry>/vitess/mysqld-exporter`, say) has no Vitess command line
      // to check, whatever its tag.
      if ('unknown' in image && !execCommands(container, pointer).some(runsVitess)) return;
      if ('unknown' in image) {
        findings.push({
          location: `${pointer}/image`,
          rule: `no reference data for Vitess image ${container.image}`,
          recommendation: `${image.unknown} The plugin has the flags and commands of Vitess ${Object.keys(releases).join(', ')}.`,
          fix: `Use an image of one of these releases, or add the release to VITESS_RELEASES in validation/generate.ts and ${REGENERATE}.`,
        });
        return;
      }
      for (const argv of execCommands(container, pointer)) {
        let runs: VitessRun[];
        try {
          runs = vitessRuns(argv);
        } catch (error) {
          findings.push({
            location: argv[2].pointer,
            rule: 'a bash script that cannot be read for its Vitess commands',
            recommendation: `The script does not split into words: ${error instanceof Error ? error.message : error}.`,
            fix: 'Close the quote; render scripts with the shell quoting helpers of lib/internal/shell.ts.',
          });
          continue;
        }
        for (const run of runs) {
          for (const problem of checkRun(releases, run.binary, run.args.map((a) => a.value), image.version)) {
            const where = problem.argIndex < 0 ? run.binaryAt : run.args[problem.argIndex];
            findings.push({
              location: where.pointer + (run.line ? `, script line ${run.line}` : ''),
              rule: problem.rule,
              recommendation: problem.recommendation,
              fix: problem.fix,
            });
          }
        }
      }
    });
  }
  return findings;
}

/**
 * The index of the command word of a simple command: the first word after the shell's reserved
 * words that may precede a command (`if`, `then`, `!`, `do`, ...), variable assignments
 * (`NAME=value`) and the wrappers that run their arguments as the command (`exec`, `command`,
 * `env`, `timeout <duration>`), or -1 when the command has none.
 */
function commandWordIndex(words: string[]): number {
  let i = 0;
  while (i < words.length) {
    const word = words[i];
    if (PREFIX_WORDS.includes(word) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) {
      i += 1;
    } else if (word === 'timeout') {
      // timeout [-s SIGNAL | -k DURATION | --flag...] DURATION COMMAND
      i += 1;
      while (i < words.length && words[i].startsWith('-')) i += ['-s', '-k', '--signal', '--kill-after'].includes(words[i]) ? 2 : 1;
      i += 1;
    } else {
      return i;
    }
  }
  return -1;
}

/**
 * The runs of Vitess binaries in one argv: the argv itself when its command is a Vitess binary, or
 * each simple command of a `bash -c` script whose command word is one (an argument that names a
 * binary, as in `cp /vt/bin/mysqlctld /x`, is not a run); throws when the script does not split
 * into words (an unterminated quote).
 */
function vitessRuns(argv: Word[]): VitessRun[] {
  const direct = VITESS_BINARY.exec(argv[0].value);
  if (direct) {
    return [{ binary: direct[1], binaryAt: argv[0], args: argv.slice(1), line: 0 }];
  }
  if (SHELLS.includes(argv[0].value) && argv[1] && argv[1].value === '-c' && argv[2]) {
    const script = argv[2];
    const runs: VitessRun[] = [];
    for (const { words, line } of simpleCommands(script.value)) {
      const index = commandWordIndex(words);
      const binary = index >= 0 ? VITESS_BINARY.exec(words[index]) : null;
      if (binary) {
        runs.push({
          binary: binary[1],
          binaryAt: script,
          args: words.slice(index + 1).map((value) => ({ value, pointer: script.pointer })),
          line,
        });
      }
    }
    return runs;
  }
  return [];
}

/** Whether an argv runs a Vitess binary, itself or in its script; a script that does not split into words counts as one. */
function runsVitess(argv: Word[]): boolean {
  try {
    return vitessRuns(argv).length > 0;
  } catch {
    return true;
  }
}

/** The releases the data covers, e.g. `['v9.0.0', 'v22.0.3', 'v24.0.4']`. */
export function vitessVersions(dataDir: string): string[] {
  return Object.keys(vitessReleases(dataDir));
}



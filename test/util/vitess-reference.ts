import * as fs from 'fs';
import * as path from 'path';
import { simpleCommands } from './shell-words';

/**
 * The reference data of a Vitess release's flags and commands: `legacy` (v9.0.0) and `modern`
 * (v22.0.3) from ../shared/vitess-reference, `v24` (v24.0.4) from the repository's reference/
 * (tools/reference/generate-vitess-v24.ts writes it); vtadmin's flags of each release from
 * reference/vtadmin-flags.json (tools/reference/generate-vtadmin.ts).
 */
export type ReferenceName = 'legacy' | 'modern' | 'v24';

const SHARED_REFERENCE_DIR = path.resolve(__dirname, '../../../shared/vitess-reference');
const REPO_REFERENCE_DIR = path.resolve(__dirname, '../../reference');
const FILES: Record<ReferenceName, string> = {
  legacy: path.join(SHARED_REFERENCE_DIR, 'legacy.json'),
  modern: path.join(SHARED_REFERENCE_DIR, 'modern.json'),
  v24: path.join(REPO_REFERENCE_DIR, 'vitess-v24.0.4.json'),
};
const cache = new Map<ReferenceName, any>();
/** vtadmin's flags per release (tools/reference/generate-vtadmin.ts writes it). */
const VTADMIN_FILE = path.join(REPO_REFERENCE_DIR, 'vtadmin-flags.json');
let vtadminReference: any;

/**
 * The vtadmin flags of a reference's release (v9.0.0 has none), from reference/vtadmin-flags.json:
 * the entry of the release itself or the one that stands for it (`alsoFor`).
 */
export function vtadminFlags(name: ReferenceName): string[] | undefined {
  vtadminReference ??= JSON.parse(fs.readFileSync(VTADMIN_FILE, 'utf8'));
  const release = String(loadReference(name).release);
  const entry = Object.entries(vtadminReference.releases as Record<string, any>).find(
    ([version, data]) => release.startsWith(version) || (data.alsoFor as string[]).some((v) => release.startsWith(v)),
  );
  return entry ? entry[1].flags : undefined;
}

export function loadReference(name: ReferenceName): any {
  let data = cache.get(name);
  if (!data) {
    data = JSON.parse(fs.readFileSync(FILES[name], 'utf8'));
    cache.set(name, data);
  }
  return data;
}

/** Whether the release of a reference parses flags with pflag (`--name` only): every one after v9. */
function isPflag(name: ReferenceName): boolean {
  return name !== 'legacy';
}

/** One run of a Vitess binary found in a manifest. */
export interface Invocation {
  /** `<Kind>/<name>` of the object. */
  readonly object: string;
  /** The container (or `container/preStop`, ...). */
  readonly where: string;
  /** The binary's base name, e.g. `vttablet`. */
  readonly binary: string;
  /** The arguments after the binary. */
  readonly args: string[];
}

const VITESS_BINARY = /^(?:\/vt\/bin\/)?(vtadmin|vtctld|vttablet|vtgate|vtorc|vtbackup|mysqlctld|mysqlctl|vtctlclient|vtctldclient|vtworker|vtctl|vtcombo)$/;
const SHELLS = ['/bin/bash', '/bin/sh', 'bash', 'sh'];

function podSpecOf(obj: any): any | undefined {
  return obj?.spec?.template?.spec ?? obj?.spec?.jobTemplate?.spec?.template?.spec ?? (obj?.kind === 'Pod' ? obj.spec : undefined);
}

/** Every exec-style command of a container: its command + args, lifecycle hooks and exec probes. */
function execCommands(container: any): Array<{ where: string; argv: string[] }> {
  const found: Array<{ where: string; argv: string[] }> = [];
  const main = [...(container.command ?? []), ...(container.args ?? [])];
  if (main.length > 0) found.push({ where: container.name, argv: main });
  for (const hook of ['postStart', 'preStop']) {
    const cmd = container.lifecycle?.[hook]?.exec?.command;
    if (cmd) found.push({ where: `${container.name}/${hook}`, argv: cmd });
  }
  for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
    const cmd = container[probe]?.exec?.command;
    if (cmd) found.push({ where: `${container.name}/${probe}`, argv: cmd });
  }
  return found;
}

/** Finds every run of a Vitess binary in the manifests: direct commands and lines of shell scripts. */
export function vitessInvocations(manifests: any[]): Invocation[] {
  const result: Invocation[] = [];
  for (const obj of manifests) {
    const spec = podSpecOf(obj);
    if (!spec) continue;
    const object = `${obj.kind}/${obj.metadata?.name}`;
    for (const container of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      for (const { where, argv } of execCommands(container)) {
        const direct = VITESS_BINARY.exec(argv[0]);
        if (direct) {
          result.push({ object, where, binary: direct[1], args: argv.slice(1) });
        } else if (SHELLS.includes(argv[0]) && argv[1] === '-c') {
          for (const words of simpleCommands(argv[2])) {
            const index = words.findIndex((w) => VITESS_BINARY.test(w));
            if (index >= 0) {
              result.push({ object, where, binary: VITESS_BINARY.exec(words[index])![1], args: words.slice(index + 1) });
            }
          }
        }
      }
    }
  }
  return result;
}

/** The flag name of an argument (`-name=value`, `--name`), or undefined for a positional one. */
function flagName(arg: string): string | undefined {
  const match = /^--?([A-Za-z0-9][A-Za-z0-9_.-]*)(=.*)?$/s.exec(arg);
  return match ? match[1] : undefined;
}

/** Splits leading flags from the rest (Go's flag package stops at the first non-flag). */
function leadingFlags(args: string[]): { flags: string[]; rest: string[] } {
  let i = 0;
  while (i < args.length && args[i] !== '--' && flagName(args[i]) !== undefined) i++;
  return { flags: args.slice(0, i), rest: args[i] === '--' ? args.slice(i + 1) : args.slice(i) };
}

function binaryFlags(ref: any, binary: string, name: ReferenceName): string[] | undefined {
  return binary === 'vtadmin' ? vtadminFlags(name) : (ref.binaries?.[binary] ?? ref.extraBinaries?.[binary]);
}

/**
 * Checks every invocation against the reference: each flag is known to its binary, each vtctl,
 * vtctldclient and vtworker command exists, and each command flag is known to that command.
 * Returns one line per problem; empty when all is known.
 */
export function checkInvocations(invocations: Invocation[], name: ReferenceName): string[] {
  const ref = loadReference(name);
  const problems: string[] = [];
  const at = (inv: Invocation) => `${inv.object} ${inv.where}: ${inv.binary}`;
  const checkFlags = (inv: Invocation, flags: string[], known: string[], what: string) => {
    for (const flag of flags) {
      const flagKey = `--${flagName(flag)}`;
      if (isPflag(name) && !flag.startsWith('--')) {
        problems.push(`${at(inv)}: ${what} flag '${flag}' must be written with '--' (pflag)`);
      } else if (!known.includes(flagKey)) {
        problems.push(`${at(inv)}: unknown ${what} flag '${flag}'`);
      }
    }
  };

  for (const inv of invocations) {
    if (inv.binary === 'vtctlclient' && name === 'legacy') {
      const { flags, rest } = leadingFlags(inv.args);
      checkFlags(inv, flags, ref.extraBinaries.vtctlclient, 'vtctlclient');
      const [command, ...commandArgs] = rest;
      if (!command || !(command in ref.vtctl.commands)) {
        problems.push(`${at(inv)}: unknown vtctl command '${command}'`);
        continue;
      }
      checkFlags(inv, leadingFlags(commandArgs).flags, ref.vtctl.commands[command], `${command}`);
    } else if (inv.binary === 'vtworker' && name === 'legacy') {
      const { flags, rest } = leadingFlags(inv.args);
      checkFlags(inv, flags, ref.binaries.vtworker, 'vtworker');
      const [command, ...commandArgs] = rest;
      if (!command || !(command in ref.vtworker.commands)) {
        problems.push(`${at(inv)}: unknown vtworker command '${command}'`);
        continue;
      }
      checkFlags(inv, leadingFlags(commandArgs).flags, ref.vtworker.commands[command], `${command}`);
    } else if (inv.binary === 'vtctldclient' && isPflag(name)) {
      problems.push(...checkVtctldclient(inv, ref).map((p) => `${at(inv)}: ${p}`));
    } else {
      const known = binaryFlags(ref, inv.binary, name);
      if (!known) {
        problems.push(`${at(inv)}: binary '${inv.binary}' is not in Vitess ${ref.release}`);
        continue;
      }
      for (const arg of inv.args) {
        if (flagName(arg) === undefined) {
          problems.push(`${at(inv)}: unexpected positional argument '${arg}'`);
        }
      }
      checkFlags(inv, inv.args.filter((a) => flagName(a) !== undefined), known, inv.binary);
    }
  }
  return problems;
}

/** vtctldclient: `[global flags] <Command> [<subcommand>] [flags] <args>`, flags anywhere (cobra). */
function checkVtctldclient(inv: Invocation, ref: any): string[] {
  const problems: string[] = [];
  const data = ref.vtctldclient;
  const positional = inv.args.filter((a) => flagName(a) === undefined || !a.startsWith('--'));
  const flags = inv.args.filter((a) => a.startsWith('--') && flagName(a) !== undefined);
  const command = positional[0];
  const hidden = data.hiddenOrDeprecatedCommands ?? {};
  if (!command || !(data.commandNames.includes(command) || command in hidden)) {
    return [`unknown vtctldclient command '${command}'`];
  }
  let known: string[] = [...data.globalFlags];
  const spec = data.commands?.[command];
  if (spec?.subcommands) {
    // aliases: { subcommands: { <canonical>: [<alias>, ...] } }
    const aliasesOf: Record<string, string[]> = spec.aliases?.subcommands ?? {};
    const canonical = Object.entries(aliasesOf).find(([, names]) => names.includes(positional[1]))?.[0];
    const sub = canonical ?? positional[1];
    if (!sub || !(sub in spec.subcommands)) {
      return [`unknown ${command} subcommand '${positional[1]}'`];
    }
    known = known.concat(spec.subcommands[sub].flags ?? spec.subcommands[sub]);
  } else if (spec) {
    known = known.concat(spec.flags ?? spec);
  }
  for (const arg of inv.args) {
    if (/^-[^-]/.test(arg)) {
      problems.push(`argument '${arg}' starts with a single '-': cobra reads it as shorthand flags (write --flag=value)`);
    }
  }
  for (const flag of flags) {
    const key = `--${flagName(flag)}`;
    if (key !== '--help' && !known.includes(key)) {
      problems.push(`unknown ${command} flag '${flag}'`);
    }
  }
  return problems;
}

/**
 * Generates the data of the validation plugin from the reference data beside the repository
 * (`../shared/kubernetes-schemas`, `../shared/vitess-reference`) and in it (`reference/`: Vitess
 * v24.0.4, and vtadmin's flags of every release with VTAdmin), so that the plugin validates with nothing but the package and js-yaml:
 *
 * - `kubernetes-<version>.js`: ajv standalone validators, one export per `<apiVersion> <kind>`
 *   that `lib/` creates (found from its `k8s.Kube*` classes), built from the definitions those
 *   kinds reach, made strict (an object schema that lists `properties` rejects any other field)
 *   and titled with their definition's short name;
 * - `kubernetes-<version>-other.js`: the same for every other kind of the release that is an
 *   object with metadata (not a List), loaded only for an object of such a kind;
 * - `vitess.json`: per Vitess release, the flag names of the binaries the library runs and the
 *   command names (and their flags) of its command-line clients.
 *
 * `npm run build` runs it into `build/validation/data/` (shipped in the package, ignored by git);
 * the tests run it into `validation/data/` (ignored by git) when its inputs changed
 * (test/util/validation-data.ts). Usage: `node build/validation/generate.js <output folder>`.
 */
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import { KUBERNETES_VERSIONS } from './kubernetes';

/** The repository: the folder above this module's that holds lib/index.ts (from validation/ or build/validation/). */
function repoDir(): string {
  for (let dir = path.dirname(__dirname); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'lib', 'index.ts')) && fs.existsSync(path.join(dir, 'package.json'))) {
      return dir;
    }
  }
  throw new Error(`generate: no repository (a folder with lib/index.ts) above ${__dirname}`);
}
const REPO_DIR = repoDir();
/** shared/ sits beside the repository (locally and in CI). */
export const DEFAULT_SHARED_DIR = path.resolve(REPO_DIR, '../shared');

/** A Vitess release's reference file and flag syntax. */
interface VitessReleaseSource {
  readonly version: string;
  readonly file?: string;
  readonly repoFile?: string;
  readonly flagSyntax: 'go' | 'pflag';
}

/**
 * The Vitess releases the library supports, each with its reference file and how its binaries
 * parse flags: `go` (Go's flag package: `-name` or `--name`) or `pflag` (`--name` only). `file` is
 * in shared/vitess-reference; `repoFile` is in the repository (reference/, written by
 * tools/reference/generate-vitess-v24.ts).
 */
const VITESS_RELEASES: VitessReleaseSource[] = [
  { version: 'v9.0.0', file: 'legacy.json', flagSyntax: 'go' },
  { version: 'v22.0.3', file: 'modern.json', flagSyntax: 'pflag' },
  { version: 'v24.0.4', repoFile: 'reference/vitess-v24.0.4.json', flagSyntax: 'pflag' },
];

/**
 * The Vitess binaries the library runs whose flags are checked; a release has the ones its
 * reference lists (v9.0.0 has no vtorc). vtctldclient (modern) is described by its commands.
 */
const VITESS_BINARIES = ['mysqlctld', 'vtadmin', 'vtctlclient', 'vtctld', 'vtgate', 'vtorc', 'vttablet', 'vtworker'];

/**
 * vtadmin's flags per release, in the repository (reference/, written by
 * tools/reference/generate-vtadmin.ts): the releases' flag references have no vtadmin.
 */
const VTADMIN_REFERENCE = 'reference/vtadmin-flags.json';

/** The schema keywords that validation needs; descriptions, formats and `x-kubernetes-*` are dropped. */
const KEPT_KEYWORDS = ['$ref', 'type', 'enum', 'required', 'properties', 'additionalProperties', 'items', 'oneOf', 'anyOf', 'allOf'];

/** `<apiVersion> <kind>` of every `k8s.Kube*` class that a file under `lib/` names, sorted. */
export function libKinds(repoDir: string = REPO_DIR): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { k8s } = require('cdk8s-plus-27') as { k8s: Record<string, any> };
  const classes = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(file);
      } else if (entry.name.endsWith('.ts')) {
        for (const match of fs.readFileSync(file, 'utf8').matchAll(/\bk8s\.(Kube[A-Za-z0-9]+)\b/g)) {
          classes.add(match[1]);
        }
      }
    }
  };
  walk(path.join(repoDir, 'lib'));
  const kinds = [...classes].map((name) => {
    const gvk = k8s[name] && k8s[name].GVK;
    if (!gvk) {
      throw new Error(`generate: lib/ names k8s.${name}, which is not a cdk8s-plus-27 L1 class`);
    }
    return `${gvk.apiVersion} ${gvk.kind}`;
  });
  return [...new Set(kinds)].sort();
}

/** A copy of a definition with only {@link KEPT_KEYWORDS}, strict objects, recursively. */
function strictSchema(schema: any): any {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    return schema;
  }
  const copy: Record<string, any> = {};
  for (const keyword of KEPT_KEYWORDS) {
    const value = schema[keyword];
    if (value === undefined) continue;
    if (keyword === 'properties') {
      copy.properties = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([name, sub]) => [name, strictSchema(sub)]));
    } else if (keyword === 'items' || keyword === 'additionalProperties') {
      copy[keyword] = strictSchema(value);
    } else if (keyword === 'oneOf' || keyword === 'anyOf' || keyword === 'allOf') {
      copy[keyword] = value.map(strictSchema);
    } else {
      copy[keyword] = value;
    }
  }
  if (copy.properties && copy.additionalProperties === undefined) {
    copy.additionalProperties = false;
  }
  return copy;
}

/** The definitions of one Kubernetes release that the kinds reach, strict and titled, by name. */
function reachableDefinitions(definitions: Record<string, any>, rootNames: string[]): Record<string, any> {
  const reached = new Set<string>();
  const visit = (name: string): void => {
    if (reached.has(name)) return;
    if (!definitions[name]) {
      throw new Error(`generate: no definition ${name}`);
    }
    reached.add(name);
    JSON.stringify(definitions[name], (key: string, value: any) => {
      if (key === '$ref' && typeof value === 'string') visit(value.replace('#/definitions/', ''));
      return value;
    });
  };
  rootNames.forEach(visit);
  return Object.fromEntries(
    [...reached].sort().map((name) => [name, { title: name.split('.').pop(), ...strictSchema(definitions[name]) }]),
  );
}

/** The definitions of one Kubernetes release, by name. */
function kubernetesDefinitions(sharedDir: string, version: string): Record<string, any> {
  const file = path.join(sharedDir, 'kubernetes-schemas', version, '_definitions.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { definitions: Record<string, any> }).definitions;
}

/** The definition name of each `<apiVersion> <kind>` of a release. */
function definitionsByKind(definitions: Record<string, any>): Map<string, string> {
  const byKind = new Map<string, string>();
  for (const [name, definition] of Object.entries(definitions)) {
    for (const gvk of definition['x-kubernetes-group-version-kind'] || []) {
      byKind.set(`${gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version} ${gvk.kind}`, name);
    }
  }
  return byKind;
}

/**
 * The kinds of a release that users create as objects: those whose definition has `metadata`,
 * without the Lists and the API machinery's own (Status, DeleteOptions, WatchEvent, ...), sorted.
 */
function objectKinds(definitions: Record<string, any>): string[] {
  return [...definitionsByKind(definitions)]
    .filter(([kind, name]) => !kind.endsWith('List') && !name.startsWith('io.k8s.apimachinery.') && definitions[name].properties?.metadata)
    .map(([kind]) => kind)
    .sort();
}

/** The ajv standalone module that validates `kinds` against one Kubernetes release. */
function kubernetesModule(definitions: Record<string, any>, version: string, kinds: string[]): string {
  const byKind = definitionsByKind(definitions);
  const roots = kinds.map((kind) => {
    const name = byKind.get(kind);
    if (!name) {
      throw new Error(`generate: Kubernetes ${version} has no ${kind}`);
    }
    return name;
  });
  // Formats (int32, int-or-string, ...) are not checked, as the API server's OpenAPI validation
  // does not check them either. Verbose errors carry their schema (the allowed fields of an object);
  // one function per definition keeps the code small.
  const ajv = new Ajv({
    allErrors: true,
    strict: false,
    validateFormats: false,
    verbose: true,
    inlineRefs: false,
    code: { source: true, lines: true },
  });
  ajv.addSchema({ $id: 'k8s', definitions: reachableDefinitions(definitions, roots) });
  const code = standaloneCode(ajv, Object.fromEntries(kinds.map((kind, i) => [kind, `k8s#/definitions/${roots[i]}`])));
  if (/\brequire\(/.test(code)) {
    throw new Error('generate: the standalone validators require an ajv runtime module; they must be self-contained');
  }
  return (
    `// Generated by validation/generate.ts from shared/kubernetes-schemas/${version}/_definitions.json: do not edit.\n` +
    `// Strict validators (unknown fields rejected) of: ${kinds.join(', ')}.\n` +
    `${code}\n`
  );
}

/** JSON with objects indented and lists of names on one line, so that a diff shows what changed. */
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

/**
 * The vtadmin flags of a release from {@link VTADMIN_REFERENCE}: those of its own entry or of the
 * entry that stands for it (`alsoFor`), or undefined for a release without vtadmin (v9.0.0).
 */
function vtadminFlags(version: string): string[] | undefined {
  const reference = JSON.parse(fs.readFileSync(path.join(REPO_DIR, VTADMIN_REFERENCE), 'utf8'));
  const entry = Object.entries(reference.releases as Record<string, { alsoFor: string[]; flags: string[] }>).find(
    ([release, data]) => release === version || data.alsoFor.includes(version),
  );
  return entry ? entry[1].flags : undefined;
}

/**
 * The flags of each binary in {@link VITESS_BINARIES} that the reference of `version` lists (vtadmin's
 * from {@link VTADMIN_REFERENCE}), by binary.
 */
function binaryFlags(reference: any, version: string): Record<string, string[]> {
  const binaries: Record<string, string[]> = {};
  for (const binary of VITESS_BINARIES) {
    const flags =
      binary === 'vtadmin'
        ? vtadminFlags(version)
        : (reference.binaries && reference.binaries[binary]) || (reference.extraBinaries && reference.extraBinaries[binary]);
    if (flags) binaries[binary] = [...flags].sort();
  }
  return binaries;
}

/** The Vitess daemons that run in the library's pods, whose flags a user may add (extraFlags). */
const DAEMON_BINARIES = ['mysqlctld', 'vtadmin', 'vtctld', 'vtgate', 'vtorc', 'vttablet'];

/**
 * The content of `lib/data/vitess-daemon-flags.json`: per release, the flag syntax and the flag
 * names of each daemon the library runs, from the same reference data as the plugin's. The
 * library checks `extraFlags` against it at synth time; `npm run generate:flags` writes it and a
 * test requires it to be what this generates now.
 */
export function daemonFlagsJson(sharedDir: string = DEFAULT_SHARED_DIR): string {
  const releases = VITESS_RELEASES.map((release) => {
    const data = vitessRelease(sharedDir, release) as { source: string; flagSyntax: string; binaries: Record<string, string[]> };
    const binaries = Object.fromEntries(DAEMON_BINARIES.filter((b) => data.binaries[b]).map((b) => [b, data.binaries[b]]));
    return [release.version, { source: data.source, flagSyntax: data.flagSyntax, binaries }];
  });
  return `${formatJson(Object.fromEntries(releases))}\n`;
}

/** The reference data of one release, reduced to what the plugin checks. */
function vitessRelease(sharedDir: string, release: VitessReleaseSource): Record<string, unknown> {
  const file = release.repoFile ? path.join(REPO_DIR, release.repoFile) : path.join(sharedDir, 'vitess-reference', release.file ?? '');
  const reference = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!String(reference.release).startsWith(release.version)) {
    throw new Error(`generate: ${file} is release '${reference.release}', expected ${release.version}`);
  }
  const data: Record<string, unknown> = {
    source: release.repoFile ?? `shared/vitess-reference/${release.file}`,
    flagSyntax: release.flagSyntax,
    binaries: binaryFlags(reference, release.version),
  };
  if (reference.vtctl) {
    data.vtctlCommands = reference.vtctl.commands;
  }
  if (reference.vtworker) {
    data.vtworkerCommands = reference.vtworker.commands;
  }
  if (reference.vtctldclient) {
    const client = reference.vtctldclient;
    const commands: Record<string, unknown> = {};
    for (const [name, spec] of Object.entries(client.commands as Record<string, any>)) {
      // persistentFlags are already part of each subcommand's list.
      commands[name] = Array.isArray(spec)
        ? spec
        : { flags: spec.flags, subcommands: spec.subcommands, subcommandAliases: (spec.aliases && spec.aliases.subcommands) || {} };
    }
    data.vtctldclient = {
      globalFlags: client.globalFlags,
      commandNames: [...client.commandNames, ...Object.keys(client.hiddenOrDeprecatedCommands || {})].sort(),
      commands,
    };
  }
  return data;
}

/**
 * Every generated file, by name in the data folder, with its content.
 * @param sharedDir the reference data directory
 * @default sharedDir `../shared` beside the repository
 */
export function generatedFiles(sharedDir: string = DEFAULT_SHARED_DIR): Record<string, string> {
  const kinds = libKinds();
  const files: Record<string, string> = {};
  for (const version of KUBERNETES_VERSIONS) {
    const definitions = kubernetesDefinitions(sharedDir, version);
    files[`kubernetes-${version}.js`] = kubernetesModule(definitions, version, kinds);
    const others = objectKinds(definitions).filter((kind) => !kinds.includes(kind));
    files[`kubernetes-${version}-other.js`] = kubernetesModule(definitions, version, others);
  }
  const vitess = Object.fromEntries(VITESS_RELEASES.map((release) => [release.version, vitessRelease(sharedDir, release)]));
  files['vitess.json'] = `${formatJson(vitess)}\n`;
  return files;
}

/** Writes the generated files into `outDir`, removing any other file there. */
export function writeData(outDir: string, sharedDir: string = DEFAULT_SHARED_DIR): Record<string, string> {
  const files = generatedFiles(sharedDir);
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(outDir, name), content);
  }
  return files;
}

if (require.main === module && process.argv[2] === '--daemon-flags') {
  const file = path.join(REPO_DIR, 'lib', 'data', 'vitess-daemon-flags.json');
  fs.writeFileSync(file, daemonFlagsJson(process.argv[3] ? path.resolve(process.argv[3]) : DEFAULT_SHARED_DIR));
  console.log(`wrote ${file}`);
} else if (require.main === module) {
  const outDir = process.argv[2];
  if (!outDir) {
    console.error('usage: node build/validation/generate.js <output folder> [<shared folder>]');
    process.exit(2);
  }
  const files = writeData(path.resolve(outDir), process.argv[3] ? path.resolve(process.argv[3]) : DEFAULT_SHARED_DIR);
  for (const [name, content] of Object.entries(files)) {
    console.log(`wrote ${path.join(outDir, name)} (${content.length} bytes)`);
  }
}

'use strict';
/**
 * Generates the data of the validation plugin (`validation/data/`) from the reference data beside
 * the repository (`../shared/kubernetes-schemas`, `../shared/vitess-reference`) and in it
 * (`reference/`, Vitess v24.0.4), so that
 * `cdk8s synth` validates with nothing but the repository and `npm ci`:
 *
 * - `data/kubernetes-<version>.js`: ajv standalone validators, one export per `<apiVersion> <kind>`
 *   that `lib/` creates (found from its `k8s.Kube*` classes) plus {@link EXTRA_KINDS}, built from the
 *   definitions those kinds reach, made strict (an object schema that lists `properties` rejects
 *   any other field) and titled with their definition's short name;
 * - `data/vitess.json`: per Vitess release, the flag names of the binaries the library runs and the
 *   command names (and their flags) of its command-line clients.
 *
 * Run `node validation/generate.js` after `lib/` creates a new kind, after the reference data or
 * ajv changes, or after adding a release or binary below; test/validation.test.ts fails while the
 * files differ from what this script writes.
 */
const fs = require('fs');
const path = require('path');
const { KUBERNETES_VERSIONS } = require('./kubernetes');

const REPO_DIR = path.resolve(__dirname, '..');
/** Where the generated files go. */
const DATA_DIR = path.join(__dirname, 'data');
/** shared/ sits beside the repository (locally and in CI). */
const DEFAULT_SHARED_DIR = path.resolve(REPO_DIR, '../shared');

/** Kinds to validate besides those `lib/` creates, as `<apiVersion> <kind>` (e.g. `v1 Secret`). */
const EXTRA_KINDS = [];

/**
 * The Vitess releases the library supports, each with its reference file and how its binaries
 * parse flags: `go` (Go's flag package: `-name` or `--name`) or `pflag` (`--name` only). `file` is
 * in shared/vitess-reference; `repoFile` is in the repository (reference/, written by
 * tools/reference/generate-vitess-v24.ts).
 */
const VITESS_RELEASES = [
  { version: 'v9.0.0', file: 'legacy.json', flagSyntax: 'go' },
  { version: 'v22.0.3', file: 'modern.json', flagSyntax: 'pflag' },
  { version: 'v24.0.4', repoFile: 'reference/vitess-v24.0.4.json', flagSyntax: 'pflag' },
];

/**
 * The Vitess binaries the library runs whose flags are checked; a release has the ones its
 * reference lists (v9.0.0 has no vtorc). vtctldclient (modern) is described by its commands.
 */
const VITESS_BINARIES = ['mysqlctld', 'vtctlclient', 'vtctld', 'vtgate', 'vtorc', 'vttablet', 'vtworker'];

/** The schema keywords that validation needs; descriptions, formats and `x-kubernetes-*` are dropped. */
const KEPT_KEYWORDS = ['$ref', 'type', 'enum', 'required', 'properties', 'additionalProperties', 'items', 'oneOf', 'anyOf', 'allOf'];

/** `<apiVersion> <kind>` of every `k8s.Kube*` class that a file under `lib/` names, sorted. */
function libKinds(repoDir = REPO_DIR) {
  const { k8s } = require('cdk8s-plus-27');
  const classes = new Set();
  const walk = (dir) => {
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
function strictSchema(schema) {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    return schema;
  }
  const copy = {};
  for (const keyword of KEPT_KEYWORDS) {
    const value = schema[keyword];
    if (value === undefined) continue;
    if (keyword === 'properties') {
      copy.properties = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, strictSchema(sub)]));
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
function reachableDefinitions(definitions, rootNames) {
  const reached = new Set();
  const visit = (name) => {
    if (reached.has(name)) return;
    if (!definitions[name]) {
      throw new Error(`generate: no definition ${name}`);
    }
    reached.add(name);
    JSON.stringify(definitions[name], (key, value) => {
      if (key === '$ref') visit(value.replace('#/definitions/', ''));
      return value;
    });
  };
  rootNames.forEach(visit);
  return Object.fromEntries(
    [...reached].sort().map((name) => [name, { title: name.split('.').pop(), ...strictSchema(definitions[name]) }]),
  );
}

/** The ajv standalone module that validates `kinds` against one Kubernetes release. */
function kubernetesModule(sharedDir, version, kinds) {
  const Ajv = require('ajv').default;
  const standaloneCode = require('ajv/dist/standalone').default;
  const file = path.join(sharedDir, 'kubernetes-schemas', version, '_definitions.json');
  const { definitions } = JSON.parse(fs.readFileSync(file, 'utf8'));
  const definitionByKind = new Map();
  for (const [name, definition] of Object.entries(definitions)) {
    for (const gvk of definition['x-kubernetes-group-version-kind'] || []) {
      definitionByKind.set(`${gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version} ${gvk.kind}`, name);
    }
  }
  const roots = kinds.map((kind) => {
    const name = definitionByKind.get(kind);
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
    `// Generated by validation/generate.js from shared/kubernetes-schemas/${version}/_definitions.json: do not edit.\n` +
    `// Strict validators (unknown fields rejected) of: ${kinds.join(', ')}.\n` +
    `${code}\n`
  );
}

/** JSON with objects indented and lists of names on one line, so that a diff shows what changed. */
function formatJson(value, indent = '') {
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

/** The flags of each binary in {@link VITESS_BINARIES} that the reference lists, by binary. */
function binaryFlags(reference) {
  const binaries = {};
  for (const binary of VITESS_BINARIES) {
    const flags = (reference.binaries && reference.binaries[binary]) || (reference.extraBinaries && reference.extraBinaries[binary]);
    if (flags) binaries[binary] = [...flags].sort();
  }
  return binaries;
}

/** The reference data of one release, reduced to what the plugin checks. */
function vitessRelease(sharedDir, release) {
  const file = release.repoFile ? path.join(REPO_DIR, release.repoFile) : path.join(sharedDir, 'vitess-reference', release.file);
  const reference = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!String(reference.release).startsWith(release.version)) {
    throw new Error(`generate: ${file} is release '${reference.release}', expected ${release.version}`);
  }
  const data = {
    source: release.repoFile ?? `shared/vitess-reference/${release.file}`,
    flagSyntax: release.flagSyntax,
    binaries: binaryFlags(reference),
  };
  if (reference.vtctl) {
    data.vtctlCommands = reference.vtctl.commands;
  }
  if (reference.vtworker) {
    data.vtworkerCommands = reference.vtworker.commands;
  }
  if (reference.vtctldclient) {
    const client = reference.vtctldclient;
    const commands = {};
    for (const [name, spec] of Object.entries(client.commands)) {
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
 * Every generated file, by path relative to `validation/`, with its content.
 * @param {string} [sharedDir] the reference data directory; defaults to `../shared` beside the repository
 * @returns {Record<string, string>}
 */
function generatedFiles(sharedDir = DEFAULT_SHARED_DIR) {
  const kinds = [...new Set([...libKinds(), ...EXTRA_KINDS])].sort();
  /** @type {Record<string, string>} */
  const files = {};
  for (const version of KUBERNETES_VERSIONS) {
    files[`data/kubernetes-${version}.js`] = kubernetesModule(sharedDir, version, kinds);
  }
  const vitess = Object.fromEntries(VITESS_RELEASES.map((release) => [release.version, vitessRelease(sharedDir, release)]));
  files['data/vitess.json'] = `${formatJson(vitess)}\n`;
  return files;
}

/** Writes the generated files into `validation/data/`, removing any that are no longer generated. */
function main() {
  const files = generatedFiles(process.argv[2] ? path.resolve(process.argv[2]) : DEFAULT_SHARED_DIR);
  fs.mkdirSync(DATA_DIR, { recursive: true });
  for (const name of fs.readdirSync(DATA_DIR)) {
    if (!(`data/${name}` in files)) fs.rmSync(path.join(DATA_DIR, name));
  }
  for (const [name, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(__dirname, name), content);
    console.log(`wrote validation/${name} (${content.length} bytes)`);
  }
}

module.exports = { DATA_DIR, generatedFiles, libKinds };

if (require.main === module) {
  main();
}

/**
 * The cdk8s validation plugin of the package (`validations:` in a cdk8s.yaml, class
 * `ManifestValidation`): `cdk8s synth` fails with a report when a synthesized object is not valid
 * in the Kubernetes API schemas with unknown fields rejected (kubernetes.ts; custom resources are
 * not checked), or runs a Vitess binary with a flag or command that the release of its image does
 * not have (vitess.ts). It reads only the `data/` folder beside it, which `npm run build` generates
 * (generate.ts), and needs js-yaml only. After checking, it removes the `construct-metadata.json`
 * that cdk8s writes beside the manifests whenever validations are configured, so that the output
 * folder holds nothing but manifests.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import type { ValidationContext } from 'cdk8s-cli/lib/plugins/validation';
import { KUBERNETES_VERSIONS, kubernetesFindings } from './kubernetes';
import { readManifestYaml } from './manifest-yaml';
import { vitessFindings, vitessVersions } from './vitess';

/** The folder of the generated validators and release data, beside this module. */
export const DATA_DIR = path.join(__dirname, 'data');

/** The file cdk8s writes into the output folder when the CLI asks it to record construct metadata. */
const CONSTRUCT_METADATA_FILE = 'construct-metadata.json';

/** One problem of one object. */
export interface Problem {
  /** The object as `<kind>/<metadata.name>`. */
  readonly resource: string;
  /** The file the object is in. */
  readonly manifestPath: string;
  /** The JSON pointer of the offending value (and the script line of a Job script). */
  readonly location: string;
  /** What is wrong, e.g. `unknown flag --foo for vttablet (Vitess v22.0.3)`. */
  readonly rule: string;
  /** What is allowed. */
  readonly recommendation: string;
  /** How to fix it. */
  readonly fix: string;
}

/** What the plugin found of one object. */
export interface ObjectCheck {
  /** Its problems; empty when it is valid. */
  readonly problems: Problem[];
  /** Whether its kind has a Kubernetes schema (false for a custom resource, which is not checked). */
  readonly schemaChecked: boolean;
}

/** `<kind>/<metadata.name>` of an object. */
function resourceName(obj: any): string {
  const metadata = obj && typeof obj === 'object' ? obj.metadata || {} : {};
  return `${obj && obj.kind ? obj.kind : '(no kind)'}/${metadata.name || metadata.generateName || '(unnamed)'}`;
}

/**
 * The problems of one synthesized object: its strict schema errors in every Kubernetes version and
 * the flags and commands of its Vitess containers. Empty when it is valid.
 * @param obj the object, as parsed from the manifest
 * @param manifestPath the file it is in, for the report
 * @param dataDir the folder of the generated data
 * @default dataDir DATA_DIR
 */
export function checkObject(obj: unknown, manifestPath: string, dataDir: string = DATA_DIR): Problem[] {
  return inspectObject(obj, manifestPath, dataDir).problems;
}

/** {@link checkObject}, also telling whether the object's kind had a schema to check it against. */
function inspectObject(obj: unknown, manifestPath: string, dataDir: string): ObjectCheck {
  const resource = resourceName(obj);
  const o = obj as any;
  if (o === null || typeof o !== 'object' || Array.isArray(o) || typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') {
    return {
      problems: [
        {
          resource,
          manifestPath,
          location: '/',
          rule: 'not a Kubernetes object',
          recommendation: 'Every document of a manifest is an object with a string apiVersion and kind.',
          fix: 'Remove the document or give it apiVersion and kind.',
        },
      ],
      schemaChecked: false,
    };
  }
  const schemaFindings = kubernetesFindings(dataDir, o);
  return {
    problems: [...(schemaFindings ?? []), ...vitessFindings(dataDir, o)].map((finding) => ({ resource, manifestPath, ...finding })),
    schemaChecked: schemaFindings !== undefined,
  };
}

/** A report violation: one rule, recommendation and fix, with each object and its locations. */
export interface Violation {
  readonly ruleName: string;
  readonly recommendation: string;
  readonly fix: string;
  readonly violatingResources: Array<{ resourceName: string; manifestPath: string; locations: string[] }>;
}

/**
 * The problems as report violations: one per rule, recommendation and fix, listing each object
 * (with its file) and its locations; in the order the problems were found.
 */
export function toViolations(problems: readonly Problem[]): Violation[] {
  const violations = new Map<string, Violation>();
  for (const problem of problems) {
    const key = JSON.stringify([problem.rule, problem.recommendation, problem.fix]);
    let violation = violations.get(key);
    if (!violation) {
      violation = { ruleName: problem.rule, recommendation: problem.recommendation, fix: problem.fix, violatingResources: [] };
      violations.set(key, violation);
    }
    let resource = violation.violatingResources.find(
      (r) => r.resourceName === problem.resource && r.manifestPath === problem.manifestPath,
    );
    if (!resource) {
      resource = { resourceName: problem.resource, manifestPath: problem.manifestPath, locations: [] };
      violation.violatingResources.push(resource);
    }
    resource.locations.push(problem.location);
  }
  return [...violations.values()];
}

/** The YAML 1.1 values of plain scalars read so far (numbers, booleans, null and strings). */
const plainValues = new Map<string, unknown>();

/** The YAML 1.1 value of a plain scalar, as js-yaml reads it; undefined when it is not one scalar. */
function resolvePlain(text: string): unknown {
  if (plainValues.has(text)) return plainValues.get(text);
  let value: unknown;
  try {
    const documents = yaml.loadAll(text, { schema: yaml.YAML11_SCHEMA });
    value = documents.length === 1 ? documents[0] : undefined;
  } catch {
    value = undefined;
  }
  if (value === null || typeof value !== 'object') plainValues.set(text, value);
  return value;
}

/**
 * The documents of a manifest file, read as YAML 1.1: the version cdk8s writes and kubectl reads
 * (the CLI's `context.parseManifest` reads YAML 1.2, where an unquoted `0o10` is a number, not the
 * string cdk8s wrote). With manifest-yaml.ts, which reads what cdk8s writes, and with js-yaml
 * when a file holds more than that (js-yaml takes a fraction of the time of the `yaml` package the
 * CLI uses, and manifest-yaml.ts a fraction of js-yaml's); test/validation.test.ts checks that
 * all three read the example alike.
 */
export function parseManifest(manifestPath: string): unknown[] {
  const text = fs.readFileSync(manifestPath, 'utf8');
  return readManifestYaml(text, resolvePlain) ?? yaml.loadAll(text, { schema: yaml.YAML11_SCHEMA });
}

/**
 * The folders where cdk8s may have written `construct-metadata.json` for these manifests: the
 * innermost folder holding them all (the output folder, or a folder in it), and the folders above
 * it that are inside the working directory (the CLI's output folder is relative to it).
 */
function outputFolders(manifests: readonly string[]): string[] {
  if (manifests.length === 0) return [];
  let common = path.dirname(path.resolve(manifests[0]));
  for (const manifest of manifests) {
    const dir = path.dirname(path.resolve(manifest));
    while (dir !== common && !dir.startsWith(common + path.sep)) {
      common = path.dirname(common);
    }
  }
  const cwd = process.cwd();
  const folders = [common];
  for (let dir = path.dirname(common); dir.startsWith(cwd + path.sep); dir = path.dirname(dir)) {
    folders.push(dir);
  }
  return folders;
}

/**
 * Removes the construct metadata that cdk8s wrote beside the manifests (cdk8s-cli asks the app to
 * record it whenever validations are configured, and reads it before any plugin runs): a file
 * named `construct-metadata.json` holding cdk8s's metadata format (`version` and `resources`).
 */
function removeConstructMetadata(manifests: readonly string[]): void {
  for (const folder of outputFolders(manifests)) {
    const file = path.join(folder, CONSTRUCT_METADATA_FILE);
    if (!fs.existsSync(file)) continue;
    let contents: unknown;
    try {
      contents = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      continue;
    }
    if (contents !== null && typeof contents === 'object' && 'version' in contents && 'resources' in contents) {
      fs.rmSync(file);
    }
  }
}

/**
 * The plugin class that a cdk8s.yaml names, in an app that installed the package:
 *
 * ```yaml
 * validations:
 *   - package: ./node_modules/cdk8s-vitess/build/validation
 *     version: 0.1.0
 *     class: ManifestValidation
 * ```
 */
export class ManifestValidation {
  /**
   * @param properties the entry's `properties`; the plugin takes none
   * @default {}
   */
  public constructor(properties: Record<string, unknown> = {}) {
    const names = Object.keys(properties || {});
    if (names.length > 0) {
      throw new Error(`ManifestValidation: it takes no properties, got '${names.join("', '")}' in cdk8s.yaml`);
    }
  }

  /**
   * Checks every object of every manifest, reports each problem, submits `failure` when there is
   * any, and removes the construct metadata from the output folder.
   */
  public async validate(context: ValidationContext): Promise<void> {
    const problems: Problem[] = [];
    let objects = 0;
    let unchecked = 0;
    for (const manifestPath of context.manifests) {
      let documents: unknown[];
      try {
        documents = parseManifest(manifestPath);
      } catch (error) {
        problems.push({
          resource: '(file)',
          manifestPath,
          location: '/',
          rule: 'manifest is not valid YAML',
          recommendation: String(error instanceof Error ? error.message : error),
          fix: 'Write the manifest with the cdk8s App, or correct the YAML.',
        });
        continue;
      }
      for (const obj of documents) {
        if (obj === null || obj === undefined) continue;
        objects += 1;
        const check = inspectObject(obj, manifestPath, DATA_DIR);
        problems.push(...check.problems);
        if (!check.schemaChecked) unchecked += 1;
      }
    }
    for (const violation of toViolations(problems)) {
      context.report.addViolation(violation);
    }
    context.report.submit(problems.length === 0 ? 'success' : 'failure', {
      'Objects checked': String(objects),
      'Objects of kinds without a Kubernetes schema (custom resources, not checked against one)': String(unchecked),
      Problems: String(problems.length),
      'Kubernetes schemas (unknown fields rejected)': KUBERNETES_VERSIONS.join(', '),
      'Vitess flags and commands': vitessVersions(DATA_DIR).join(', '),
    });
    removeConstructMetadata(context.manifests);
  }
}

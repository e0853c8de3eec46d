/**
 * Checks Kubernetes objects against the API schemas of the Kubernetes releases (strict: like
 * `kubectl --validate=strict`, an unknown or misspelled field is an error), with the precompiled
 * validators that generate.ts writes into `data/`: per version one module of the kinds the
 * library creates (`kubernetes-<version>.js`, the only one a cluster of the library loads) and one
 * of every other kind the release serves (`kubernetes-<version>-other.js`, loaded on the first
 * object of such a kind: a HorizontalPodAutoscaler, a CronJob, an Ingress). A kind that no version
 * has a schema for (a custom resource) is not checked.
 *
 * The same check as test/util/k8s-schema.ts, which compiles shared/kubernetes-schemas at test time.
 */
import * as path from 'path';
import { closest } from './closest';

/** The Kubernetes releases every object must be valid in: the cdk8s-plus-27 level and a current one. */
export const KUBERNETES_VERSIONS = ['v1.27.0', 'v1.34.0'];

/** An ajv standalone validator. */
type Validator = ((data: unknown) => boolean) & { errors?: any[] | null };

/** The two modules of a version: the library's kinds, and every other kind. */
const MODULE_SUFFIXES = ['', '-other'];

const modules = new Map<string, Record<string, Validator>>();

/** The validators of one module, by `<apiVersion> <kind>`, loaded on first use. */
function moduleOf(dataDir: string, version: string, suffix: string): Record<string, Validator> {
  const file = path.join(dataDir, `kubernetes-${version}${suffix}.js`);
  let found = modules.get(file);
  if (!found) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    found = require(file) as Record<string, Validator>;
    modules.set(file, found);
  }
  return found;
}

/** The validator of a kind in a version, or undefined when the version has no schema for it. */
function validatorOf(dataDir: string, version: string, kind: string): Validator | undefined {
  for (const suffix of MODULE_SUFFIXES) {
    const validators = moduleOf(dataDir, version, suffix);
    if (Object.prototype.hasOwnProperty.call(validators, kind)) {
      return validators[kind];
    }
  }
  return undefined;
}

/** One JSON pointer segment. */
function pointerSegment(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The field a JSON pointer ends at, for a rule: `'replicas'`, `'args[3]'`, `the object`. */
function fieldAt(pointer: string): string {
  const segments = pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (segments.length === 0) return 'the object';
  const last = segments[segments.length - 1];
  if (/^\d+$/.test(last) && segments.length > 1) return `'${segments[segments.length - 2]}[${last}]'`;
  return `'${last}'`;
}

/** The JSON type of a value, as schemas name it. */
function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** What is wrong, where, and what is allowed. */
export interface Finding {
  /** The JSON pointer of the offending value. */
  readonly location: string;
  /** What is wrong. */
  readonly rule: string;
  /** What is allowed. */
  readonly recommendation: string;
  /** How to fix it. */
  readonly fix: string;
}

/** A schema finding of one version; for an unknown field, the fields allowed there. */
interface VersionFinding extends Finding {
  readonly unknownField?: { readonly field: string; readonly subject: string; readonly allowed: string[] };
}

/** `in Container` for a titled schema. */
function inTitle(schema: any): string {
  return schema && schema.title ? ` in ${schema.title}` : '';
}

/**
 * Ajv's errors of one object as findings (without the version), the branch errors of a oneOf
 * folded into it.
 */
function describeErrors(errors: any[]): VersionFinding[] {
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf');
  const branchOf = (e: any): any => oneOfs.find((o) => o !== e && o.instancePath === e.instancePath && e.schemaPath.startsWith(`${o.schemaPath}/`));
  const findings: VersionFinding[] = [];
  for (const e of errors) {
    const at = e.instancePath || '/';
    switch (e.keyword) {
      case 'additionalProperties': {
        // The recommendation (the allowed fields) is written once the versions are merged.
        const field = String(e.params.additionalProperty);
        findings.push({
          location: `${e.instancePath}/${pointerSegment(field)}`,
          rule: `unknown field '${field}'${inTitle(e.parentSchema)}`,
          recommendation: '',
          fix: `Remove '${field}' or correct its name.`,
          unknownField: {
            field,
            subject: (e.parentSchema && e.parentSchema.title) || 'The object',
            allowed: Object.keys((e.parentSchema && e.parentSchema.properties) || {}).sort(),
          },
        });
        break;
      }
      case 'required':
        findings.push({
          location: at,
          rule: `missing required field '${e.params.missingProperty}'${inTitle(e.parentSchema)}`,
          recommendation: `${(e.parentSchema && e.parentSchema.title) || 'The object'} requires: ${e.schema.join(', ')}.`,
          fix: `Set '${e.params.missingProperty}'.`,
        });
        break;
      case 'enum':
        findings.push({
          location: `${at} (is ${JSON.stringify(e.data)})`,
          rule: `${fieldAt(e.instancePath)} must be one of ${e.params.allowedValues.map((v: unknown) => JSON.stringify(v)).join(', ')}`,
          recommendation: `Allowed values: ${e.params.allowedValues.map((v: unknown) => JSON.stringify(v)).join(', ')}.`,
          fix: 'Use one of the allowed values.',
        });
        break;
      case 'oneOf': {
        // IntOrString and Quantity: "must be string or integer" rather than three messages.
        const types = errors.filter((b) => b.keyword === 'type' && branchOf(b) === e).map((b) => b.params.type);
        const expected = types.length > 0 ? types.join(' or ') : 'valid for exactly one of its schemas';
        findings.push({
          location: at,
          rule: `${fieldAt(e.instancePath)} must be ${expected}, is ${typeOf(e.data)}`,
          recommendation: `The value must be ${expected}.`,
          fix: 'Correct the value.',
        });
        break;
      }
      case 'type':
        if (!branchOf(e)) {
          findings.push({
            location: at,
            rule: `${fieldAt(e.instancePath)} must be ${e.params.type}, is ${typeOf(e.data)}`,
            recommendation: `The value must be ${/^[aeiou]/.test(e.params.type) ? 'an' : 'a'} ${e.params.type}.`,
            fix: 'Correct the value (in TypeScript, the L1 prop types catch this; JSON patches and escape hatches do not).',
          });
        }
        break;
      default:
        if (!branchOf(e)) {
          findings.push({ location: at, rule: `${fieldAt(e.instancePath)} ${e.message}`, recommendation: `The schema says: ${e.message}.`, fix: 'Correct the value.' });
        }
    }
  }
  return findings;
}

/**
 * The schema findings of one object in every version, merged: a finding of several versions
 * names them all, e.g. `unknown field 'foo' in Container (Kubernetes v1.27.0, v1.34.0)`.
 * Undefined when no version has a schema for the object's kind (a custom resource): it is not
 * checked. A kind that only some versions serve is an error in the others.
 * @param dataDir the folder of the generated validators
 * @param obj a Kubernetes object
 */
export function kubernetesFindings(dataDir: string, obj: { apiVersion: string; kind: string }): Finding[] | undefined {
  const merged = new Map<string, Array<{ version: string; finding: VersionFinding }>>();
  const add = (version: string, finding: VersionFinding): void => {
    const key = JSON.stringify([finding.location, finding.rule, finding.fix]);
    merged.set(key, [...(merged.get(key) || []), { version, finding }]);
  };
  const kind = `${obj.apiVersion} ${obj.kind}`;
  const validators = KUBERNETES_VERSIONS.map((version) => ({ version, validate: validatorOf(dataDir, version, kind) }));
  if (validators.every(({ validate }) => validate === undefined)) {
    return undefined;
  }
  for (const { version, validate } of validators) {
    if (validate === undefined) {
      add(version, {
        location: '/kind',
        rule: `Kubernetes ${version} does not serve ${kind}`,
        recommendation: `${kind} is in the schemas of Kubernetes ${validators.filter((v) => v.validate).map((v) => v.version).join(', ')} only.`,
        fix: 'Use an API version of the kind that every Kubernetes release checked serves.',
      });
    } else if (!validate(obj)) {
      for (const finding of describeErrors(validate.errors || [])) add(version, finding);
    }
  }
  return [...merged.values()].map((entries) => {
    const { location, rule, fix } = entries[0].finding;
    return {
      location,
      rule: `${rule} (Kubernetes ${entries.map((e) => e.version).join(', ')})`,
      recommendation: mergedRecommendation(entries),
      fix,
    };
  });
}

/**
 * The recommendation of one finding in several versions: the fields allowed in every version
 * (and those only some versions allow), or the versions' recommendations where they differ.
 */
function mergedRecommendation(entries: Array<{ version: string; finding: VersionFinding }>): string {
  const unknown = entries[0].finding.unknownField;
  if (unknown) {
    const allowedIn = entries.map((e) => ({ version: e.version, allowed: e.finding.unknownField!.allowed }));
    const common = allowedIn[0].allowed.filter((field) => allowedIn.every((v) => v.allowed.includes(field)));
    const extras = allowedIn
      .map(({ version, allowed }) => ({ version, only: allowed.filter((field) => !common.includes(field)) }))
      .filter(({ only }) => only.length > 0)
      .map(({ version, only }) => `; in Kubernetes ${version} also: ${only.join(', ')}`);
    const near = closest(unknown.field, [...new Set(allowedIn.flatMap((v) => v.allowed))]);
    const suggestion = near.length > 0 ? ` Did you mean ${near.map((n) => `'${n}'`).join(' or ')}?` : '';
    return `${unknown.subject} takes: ${common.join(', ')}${extras.join('')}.${suggestion}`;
  }
  const texts = [...new Set(entries.map((e) => e.finding.recommendation))];
  if (texts.length === 1) return texts[0];
  return texts
    .map((text) => `Kubernetes ${entries.filter((e) => e.finding.recommendation === text).map((e) => e.version).join(', ')}: ${text}`)
    .join(' ');
}



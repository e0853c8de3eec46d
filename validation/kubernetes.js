'use strict';
/**
 * Checks Kubernetes objects against the API schemas of the Kubernetes releases in
 * `data/kubernetes-<version>.js` (strict: like `kubectl --validate=strict`, an unknown or misspelled
 * field is an error), with the precompiled validators that generate.js writes. A version's module is
 * loaded on first use.
 *
 * The same check as test/util/k8s-schema.ts, which compiles shared/kubernetes-schemas at test time.
 */
const { closest } = require('./closest');

/** The Kubernetes releases every object must be valid in: the cdk8s-plus-27 level and a current one. */
const KUBERNETES_VERSIONS = ['v1.27.0', 'v1.34.0'];

/** @type {Map<string, Record<string, any>>} */
const modules = new Map();

/** The validators of a version, by `<apiVersion> <kind>`. */
function validators(version) {
  let found = modules.get(version);
  if (!found) {
    found = require(`./data/kubernetes-${version}.js`);
    modules.set(version, /** @type {Record<string, any>} */ (found));
  }
  return /** @type {Record<string, any>} */ (found);
}

/** One JSON pointer segment. */
function pointerSegment(name) {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The field a JSON pointer ends at, for a rule: `'replicas'`, `'args[3]'`, `the object`. */
function fieldAt(pointer) {
  const segments = pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (segments.length === 0) return 'the object';
  const last = segments[segments.length - 1];
  if (/^\d+$/.test(last) && segments.length > 1) return `'${segments[segments.length - 2]}[${last}]'`;
  return `'${last}'`;
}

/** The JSON type of a value, as schemas name it. */
function typeOf(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/**
 * A schema finding of one version.
 * @typedef {object} Finding
 * @property {string} location
 * @property {string} rule
 * @property {string} recommendation
 * @property {string} fix
 * @property {{ field: string, subject: string, allowed: string[] }} [unknownField] for an unknown field: the fields allowed there
 */

/** `in Container` for a titled schema. */
function inTitle(schema) {
  return schema && schema.title ? ` in ${schema.title}` : '';
}

/**
 * Ajv's errors of one object as findings (without the version), the branch errors of a oneOf
 * folded into it.
 * @param {any[]} errors
 * @returns {Finding[]}
 */
function describeErrors(errors) {
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf');
  const branchOf = (e) => oneOfs.find((o) => o !== e && o.instancePath === e.instancePath && e.schemaPath.startsWith(`${o.schemaPath}/`));
  const findings = [];
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
          rule: `${fieldAt(e.instancePath)} must be one of ${e.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`,
          recommendation: `Allowed values: ${e.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}.`,
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
 * @param {any} obj a Kubernetes object
 * @returns {Array<{ location: string, rule: string, recommendation: string, fix: string }>}
 */
function kubernetesFindings(obj) {
  /** @type {Map<string, Array<{ version: string, finding: Finding }>>} */
  const merged = new Map();
  const add = (version, finding) => {
    const key = JSON.stringify([finding.location, finding.rule, finding.fix]);
    merged.set(key, [...(merged.get(key) || []), { version, finding }]);
  };
  for (const version of KUBERNETES_VERSIONS) {
    const byKind = validators(version);
    const kind = `${obj.apiVersion} ${obj.kind}`;
    if (!Object.prototype.hasOwnProperty.call(byKind, kind)) {
      add(version, {
        location: '/kind',
        rule: `no schema for ${kind}`,
        recommendation: `The plugin has the schemas of ${Object.keys(byKind).join(', ')}.`,
        fix: 'Add the kind to EXTRA_KINDS in validation/generate.js and run node validation/generate.js.',
      });
      continue;
    }
    const validate = byKind[kind];
    if (!validate(obj)) {
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
 * @param {Array<{ version: string, finding: Finding }>} entries
 */
function mergedRecommendation(entries) {
  const unknown = entries[0].finding.unknownField;
  if (unknown) {
    const allowedIn = entries.map((e) => ({ version: e.version, allowed: /** @type {any} */ (e.finding.unknownField).allowed }));
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

module.exports = { KUBERNETES_VERSIONS, kubernetesFindings };

'use strict';
/**
 * The cdk8s validation plugin of this repository (`validations:` in cdk8s.yaml): `cdk8s synth` fails
 * with a report when a synthesized object is not valid in the Kubernetes API schemas with unknown
 * fields rejected (kubernetes.js), or runs a Vitess binary with a flag or command that the release
 * of its image does not have (vitess.js). It reads only `validation/data/` (see generate.js), so it
 * works on a fresh clone after `npm ci`.
 */
const fs = require('fs');
const yaml = require('js-yaml');
const { KUBERNETES_VERSIONS, kubernetesFindings } = require('./kubernetes');
const { vitessFindings, vitessVersions } = require('./vitess');

/**
 * One problem of one object.
 * @typedef {object} Problem
 * @property {string} resource the object as `<kind>/<metadata.name>`
 * @property {string} manifestPath the file the object is in
 * @property {string} location the JSON pointer of the offending value (and the script line of a Job script)
 * @property {string} rule what is wrong
 * @property {string} recommendation what is allowed
 * @property {string} fix how to fix it
 */

/** `<kind>/<metadata.name>` of an object. */
function resourceName(obj) {
  const metadata = obj && typeof obj === 'object' ? obj.metadata || {} : {};
  return `${obj && obj.kind ? obj.kind : '(no kind)'}/${metadata.name || metadata.generateName || '(unnamed)'}`;
}

/**
 * The problems of one synthesized object: its strict schema errors in every Kubernetes version and
 * the flags and commands of its Vitess containers. Empty when it is valid.
 * @param {unknown} obj the object, as parsed from the manifest
 * @param {string} manifestPath the file it is in, for the report
 * @returns {Problem[]}
 */
function checkObject(obj, manifestPath) {
  const resource = resourceName(obj);
  const o = /** @type {any} */ (obj);
  if (o === null || typeof o !== 'object' || Array.isArray(o) || typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') {
    return [
      {
        resource,
        manifestPath,
        location: '/',
        rule: 'not a Kubernetes object',
        recommendation: 'Every document of a manifest is an object with a string apiVersion and kind.',
        fix: 'Remove the document or give it apiVersion and kind.',
      },
    ];
  }
  return [...kubernetesFindings(o), ...vitessFindings(o)].map((finding) => ({ resource, manifestPath, ...finding }));
}

/**
 * The problems as report violations: one per rule, recommendation and fix, listing each object
 * (with its file) and its locations; in the order the problems were found.
 * @param {readonly Problem[]} problems
 * @returns {Array<{ ruleName: string, recommendation: string, fix: string, violatingResources: Array<{ resourceName: string, manifestPath: string, locations: string[] }> }>}
 */
function toViolations(problems) {
  const violations = new Map();
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

/**
 * The documents of a manifest file, read as YAML 1.1: the version cdk8s writes and kubectl reads
 * (the CLI's `context.parseManifest` reads YAML 1.2, where an unquoted `0o10` is a number, not the
 * string cdk8s wrote). With js-yaml, which takes a fraction of the time of the `yaml` package the
 * CLI uses; test/validation.test.ts checks that both read the example alike.
 * @param {string} manifestPath
 * @returns {unknown[]}
 */
function parseManifest(manifestPath) {
  return yaml.loadAll(fs.readFileSync(manifestPath, 'utf8'), { schema: yaml.YAML11_SCHEMA });
}

/**
 * The plugin class that cdk8s.yaml names:
 *
 * ```yaml
 * validations:
 *   - package: ./validation
 *     version: 0.0.0
 *     class: ManifestValidation
 * ```
 */
class ManifestValidation {
  /**
   * @param {Record<string, unknown>} [properties] the entry's `properties`; the plugin takes none
   * @default {}
   */
  constructor(properties = {}) {
    const names = Object.keys(properties || {});
    if (names.length > 0) {
      throw new Error(`ManifestValidation: it takes no properties, got '${names.join("', '")}' in cdk8s.yaml`);
    }
  }

  /**
   * Checks every object of every manifest, reports each problem and submits `failure` when there is any.
   * @param {import('cdk8s-cli/lib/plugins/validation').ValidationContext} context
   */
  async validate(context) {
    /** @type {Problem[]} */
    const problems = [];
    let objects = 0;
    for (const manifestPath of context.manifests) {
      let documents;
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
        problems.push(...checkObject(obj, manifestPath));
      }
    }
    for (const violation of toViolations(problems)) {
      context.report.addViolation(violation);
    }
    context.report.submit(problems.length === 0 ? 'success' : 'failure', {
      'Objects checked': String(objects),
      Problems: String(problems.length),
      'Kubernetes schemas (unknown fields rejected)': KUBERNETES_VERSIONS.join(', '),
      'Vitess flags and commands': vitessVersions().join(', '),
    });
  }
}

module.exports = { ManifestValidation, checkObject, parseManifest, toViolations };

import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';

/**
 * Validates Kubernetes objects against the vendored Kubernetes API schemas (the JSON schema
 * definitions cdk8s imports its classes from, see shared/kubernetes-schemas/README.md), in strict
 * mode: like `kubectl --validate=strict`, an unknown or misspelled field is an error.
 */

/** The Kubernetes releases whose API schemas every synthesized object must satisfy. */
export const KUBERNETES_VERSIONS = ['v1.27.0', 'v1.34.0'] as const;
export type KubernetesVersion = (typeof KUBERNETES_VERSIONS)[number];

/** shared/ sits beside the repository (locally and in CI), so keep this relative. */
const SCHEMA_DIR = path.resolve(__dirname, '../../../shared/kubernetes-schemas');

/** The id the definitions are registered under; they reference each other as `#/definitions/<name>`. */
const ROOT_ID = 'k8s';

interface VersionSchemas {
  readonly ajv: Ajv;
  /** `<apiVersion> <kind>` to definition name, from `x-kubernetes-group-version-kind`. */
  readonly definitionByKind: Map<string, string>;
  /** Compiled lazily, one per definition (kind) actually validated. */
  readonly validators: Map<string, ValidateFunction>;
}

const cache = new Map<KubernetesVersion, VersionSchemas>();

/** Keywords whose value is a schema, a list of schemas, or a map of name to schema. */
const SCHEMA_KEYWORDS = ['additionalProperties', 'items', 'not'];
const SCHEMA_LIST_KEYWORDS = ['oneOf', 'anyOf', 'allOf'];
const SCHEMA_MAP_KEYWORDS = ['properties', 'patternProperties', 'definitions'];

/**
 * A deep copy of a schema where every object schema that lists `properties` also has
 * `additionalProperties: false` (unless it sets `additionalProperties` itself), recursively through
 * nested inline schemas. Schemas without `properties` (maps such as `labels`, `IntOrString`,
 * `Quantity`, `RawExtension`) are left open.
 */
function strictCopy(schema: any): any {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    return schema;
  }
  const copy: any = { ...schema };
  for (const keyword of SCHEMA_KEYWORDS) {
    if (typeof schema[keyword] === 'object' && schema[keyword] !== null) {
      copy[keyword] = Array.isArray(schema[keyword]) ? schema[keyword].map(strictCopy) : strictCopy(schema[keyword]);
    }
  }
  for (const keyword of SCHEMA_LIST_KEYWORDS) {
    if (Array.isArray(schema[keyword])) {
      copy[keyword] = schema[keyword].map(strictCopy);
    }
  }
  for (const keyword of SCHEMA_MAP_KEYWORDS) {
    if (typeof schema[keyword] === 'object' && schema[keyword] !== null) {
      copy[keyword] = Object.fromEntries(Object.entries(schema[keyword]).map(([name, sub]) => [name, strictCopy(sub)]));
    }
  }
  if (schema.properties && schema.additionalProperties === undefined) {
    copy.additionalProperties = false;
  }
  return copy;
}

function load(version: KubernetesVersion): VersionSchemas {
  const found = cache.get(version);
  if (found) {
    return found;
  }
  const file = path.join(SCHEMA_DIR, version, '_definitions.json');
  const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  const definitionByKind = new Map<string, string>();
  for (const [name, definition] of Object.entries<any>(raw.definitions)) {
    for (const gvk of definition['x-kubernetes-group-version-kind'] ?? []) {
      const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
      definitionByKind.set(`${apiVersion} ${gvk.kind}`, name);
    }
  }
  // strict: false lets the x-kubernetes-* keywords through; formats (int32, int-or-string, ...) are
  // not checked, as the API server's OpenAPI validation does not check them either.
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  ajv.addSchema({ $id: ROOT_ID, definitions: strictCopy({ definitions: raw.definitions }).definitions });
  const schemas = { ajv, definitionByKind, validators: new Map<string, ValidateFunction>() };
  cache.set(version, schemas);
  return schemas;
}

function validatorFor(schemas: VersionSchemas, definition: string): ValidateFunction {
  let validate = schemas.validators.get(definition);
  if (!validate) {
    validate = schemas.ajv.compile({ $ref: `${ROOT_ID}#/definitions/${definition}` });
    schemas.validators.set(definition, validate);
  }
  return validate;
}

function pointerSegment(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Ajv's errors as `<path>: <message>`, the branch errors of a oneOf folded into it. */
function formatErrors(errors: ErrorObject[]): string[] {
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf');
  const branchOf = (e: ErrorObject) =>
    oneOfs.find((o) => o !== e && o.instancePath === e.instancePath && e.schemaPath.startsWith(`${o.schemaPath}/`));
  const messages: string[] = [];
  for (const e of errors) {
    const at = e.instancePath || '/';
    switch (e.keyword) {
      case 'additionalProperties': {
        const property = String((e.params as any).additionalProperty);
        messages.push(`${e.instancePath}/${pointerSegment(property)}: ${e.message} (${property})`);
        break;
      }
      case 'enum':
        messages.push(`${at}: ${e.message} (${(e.params as any).allowedValues.map((v: unknown) => JSON.stringify(v)).join(', ')})`);
        break;
      case 'oneOf': {
        // IntOrString and Quantity: "must be string or integer" rather than three messages.
        const types = errors.filter((b) => b.keyword === 'type' && branchOf(b) === e).map((b) => (b.params as any).type);
        messages.push(types.length > 0 ? `${at}: must be ${types.join(' or ')}` : `${at}: ${e.message}`);
        break;
      }
      default:
        if (!branchOf(e)) {
          messages.push(`${at}: ${e.message}`);
        }
    }
  }
  return [...new Set(messages)];
}

/**
 * The strict schema errors of one object in a Kubernetes version, each naming the object as
 * `<kind>/<metadata.name>`, e.g.
 * `StatefulSet/etcd-global: /spec/template/spec/containers/0/foo: must NOT have additional properties (foo)`.
 * Empty when the object is valid. An apiVersion and kind that the version does not serve is an error.
 */
export function validateManifest(obj: any, version: KubernetesVersion): string[] {
  const schemas = load(version);
  const id = `${obj?.kind}/${obj?.metadata?.name ?? obj?.metadata?.generateName ?? '(unnamed)'}`;
  const definition = schemas.definitionByKind.get(`${obj?.apiVersion} ${obj?.kind}`);
  if (!definition) {
    return [`${id}: no schema for ${obj?.apiVersion} ${obj?.kind} in Kubernetes ${version}`];
  }
  const validate = validatorFor(schemas, definition);
  if (validate(obj)) {
    return [];
  }
  return formatErrors(validate.errors ?? []).map((message) => `${id}: ${message}`);
}

/** The strict schema errors of many objects, in order; empty when all are valid. */
export function validateManifests(objs: any[], version: KubernetesVersion): string[] {
  return objs.flatMap((obj) => validateManifest(obj, version));
}

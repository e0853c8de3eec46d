import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ValidateFunction } from 'ajv';

/** The Kubernetes releases whose API schemas every synthesized object must satisfy. */
export const KUBERNETES_VERSIONS = ['v1.27.0', 'v1.34.0'] as const;
export type KubernetesVersion = (typeof KUBERNETES_VERSIONS)[number];

const SCHEMA_DIR = path.resolve(__dirname, '../../../shared/kubernetes-schemas');

interface Schemas {
  readonly ajv: Ajv;
  readonly byKind: Map<string, string>;
  readonly validators: Map<string, ValidateFunction>;
}
const loaded = new Map<KubernetesVersion, Schemas>();

/**
 * Adds `additionalProperties: false` to every object schema that lists `properties`, as strict
 * field validation (`kubectl --validate=strict`) does: a misspelled field becomes an error.
 */
function strict(schema: any): any {
  if (Array.isArray(schema)) return schema.map(strict);
  if (schema === null || typeof schema !== 'object') return schema;
  const copy: any = {};
  for (const [key, value] of Object.entries(schema)) {
    copy[key] = key === 'properties' ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, strict(v)])) : strict(value);
  }
  if (copy.properties && copy.additionalProperties === undefined) {
    copy.additionalProperties = false;
  }
  return copy;
}

function schemas(version: KubernetesVersion): Schemas {
  let s = loaded.get(version);
  if (!s) {
    const raw = JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, version, '_definitions.json'), 'utf8'));
    const definitions = strict(raw.definitions);
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
    ajv.addSchema({ $id: 'k8s', definitions });
    const byKind = new Map<string, string>();
    for (const [name, def] of Object.entries<any>(raw.definitions)) {
      for (const gvk of def['x-kubernetes-group-version-kind'] ?? []) {
        const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
        byKind.set(`${apiVersion}/${gvk.kind}`, name);
      }
    }
    s = { ajv, byKind, validators: new Map() };
    loaded.set(version, s);
  }
  return s;
}

/** The schema errors of one object, e.g. `Job/x: /spec/foo: must NOT have additional properties (foo)`. */
export function validateManifest(obj: any, version: KubernetesVersion): string[] {
  const s = schemas(version);
  const id = `${obj?.kind}/${obj?.metadata?.name}`;
  const definition = s.byKind.get(`${obj?.apiVersion}/${obj?.kind}`);
  if (!definition) {
    return [`${id}: no schema for ${obj?.apiVersion} ${obj?.kind} in Kubernetes ${version}`];
  }
  let validate = s.validators.get(definition);
  if (!validate) {
    validate = s.ajv.compile({ $ref: `k8s#/definitions/${definition}` });
    s.validators.set(definition, validate);
  }
  if (validate(obj)) {
    return [];
  }
  return (validate.errors ?? []).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` (${(e.params as any).additionalProperty})` : '';
    return `${id}: ${e.instancePath || '/'}: ${e.message}${extra}`;
  });
}

/** The schema errors of many objects. */
export function validateManifests(objs: any[], version: KubernetesVersion): string[] {
  return objs.flatMap((obj) => validateManifest(obj, version));
}

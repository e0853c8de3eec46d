import { KUBERNETES_VERSIONS, validateManifest } from './k8s-schema';

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'd' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { a: 'b' } },
    template: {
      metadata: { labels: { a: 'b' } },
      spec: { containers: [{ name: 'c', image: 'i:1', resources: { requests: { cpu: '100m', memory: 1024 } } }] },
    },
  },
};

describe.each(KUBERNETES_VERSIONS)('Kubernetes %s schema check', (version) => {
  test('accepts valid objects, with IntOrString as number or string', () => {
    expect(validateManifest(deployment, version)).toEqual([]);
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's' },
      spec: { ports: [{ port: 1, targetPort: 1 }, { port: 2, targetPort: 'web' }] },
    };
    expect(validateManifest(service, version)).toEqual([]);
    const pdb = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'p' }, spec: { maxUnavailable: 1 } };
    expect(validateManifest(pdb, version)).toEqual([]);
  });

  test('fails on an unknown field', () => {
    const bad = JSON.parse(JSON.stringify(deployment));
    bad.spec.template.spec.containers[0].imagePullPolicyy = 'Always';
    expect(validateManifest(bad, version)).toEqual([
      'Deployment/d: /spec/template/spec/containers/0: must NOT have additional properties (imagePullPolicyy)',
    ]);
  });

  test('fails on a wrong type', () => {
    const bad = { ...deployment, spec: { ...deployment.spec, replicas: '3' } };
    expect(validateManifest(bad, version)).toEqual(['Deployment/d: /spec/replicas: must be integer']);
  });

  test('fails on an unknown kind', () => {
    expect(validateManifest({ apiVersion: 'apps/v9', kind: 'Foo', metadata: { name: 'f' } }, version)).toEqual([
      `Foo/f: no schema for apps/v9 Foo in Kubernetes ${version}`,
    ]);
  });
});

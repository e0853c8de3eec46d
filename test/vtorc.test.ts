import { Testing } from 'cdk8s';
import { EtcdCell, VitessRelease, Vtorc } from '../lib';
import { KUBERNETES_VERSIONS, validateManifests } from './util/k8s-schema';
import { container, findObject, testChart } from './util/synth';
import { checkInvocations, vitessInvocations } from './util/vitess-reference';

function vtorc(props: Partial<ConstructorParameters<typeof Vtorc>[2]> = {}) {
  const chart = testChart();
  const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
  const construct = new Vtorc(chart, 'Vtorc', { release: VitessRelease.V22_0, globalTopology, ...props });
  return { construct, objects: Testing.synth(chart).filter((o) => o.metadata.name.startsWith('vtorc')) };
}

describe('Vtorc', () => {
  test('a Deployment vtorc of one replica with the topology flags, probes and resources', () => {
    const { construct, objects } = vtorc();
    expect(construct.name).toBe('vtorc');
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Deployment/vtorc']);
    const deployment = objects[0];
    expect(deployment.spec.replicas).toBe(1);
    const c = container(deployment, 'vtorc');
    expect(c.image).toBe('vitess/lite:v22.0.3');
    expect(c.command).toEqual(['/vt/bin/vtorc']);
    expect(c.args).toEqual([
      '--topo_implementation=etcd2',
      '--topo_global_server_address=etcd-global-client:2379',
      '--topo_global_root=/vitess/global',
      '--port=15000',
      '--logtostderr',
    ]);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/debug/health', port: 15000 });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/debug/liveness', port: 15000 });
    expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '128Mi' } });
    expect(deployment.spec.template.spec.securityContext.runAsUser).toBe(999);
    expect(checkInvocations(vitessInvocations(objects), 'modern')).toEqual([]);
  });

  test('watches only the given keyspaces', () => {
    const { objects } = vtorc({ keyspaces: ['commerce', 'customer'], name: 'vtorc-commerce' });
    const deployment = findObject(objects, 'Deployment', 'vtorc-commerce');
    expect(container(deployment, 'vtorc').args).toContain('--clusters_to_watch=commerce,customer');
    expect(checkInvocations(vitessInvocations(objects), 'modern')).toEqual([]);
  });

  test.each(KUBERNETES_VERSIONS)('is valid Kubernetes %s', (version) => {
    expect(validateManifests(vtorc().objects, version)).toEqual([]);
  });

  test('fails for releases before v16 and for bad input', () => {
    expect(() => vtorc({ release: VitessRelease.V9_0 })).toThrow(
      /Vtorc: 'release' must be Vitess v16 or later, got v9.0.0; earlier releases elect primaries with InitShardMaster/,
    );
    expect(() => vtorc({ keyspaces: ['Bad-Name'] })).toThrow(/Vtorc: 'keyspaces' must start with a lowercase letter.*got 'Bad-Name'/);
    expect(() => vtorc({ name: 'VTORC' })).toThrow(/Vtorc: 'name' must be a DNS-1123 label.*got 'VTORC'/);
  });
});

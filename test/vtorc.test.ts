import { Testing } from 'cdk8s';
import { k8s } from '../imports/k8s';
import { EtcdCell, PodExtensions, UserIds, VitessRelease, Vtorc, VtorcProps } from '../lib';
import { KUBERNETES_VERSIONS, validateManifests } from './util/k8s-schema';
import { container, findObject, testChart } from './util/synth';
import { checkInvocations, vitessInvocations } from './util/vitess-reference';

function vtorc(props: Partial<ConstructorParameters<typeof Vtorc>[2]> = {}) {
  const chart = testChart();
  const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
  const construct = new Vtorc(chart, 'Vtorc', { release: VitessRelease.V22_0, globalTopology, ...props });
  return { construct, objects: Testing.synth(chart).filter((o) => o.metadata.name.startsWith('vtorc')) };
}

/** The tag of an image reference, or undefined when it has none. */
function imageTag(image: string): string | undefined {
  const lastSegment = image.split('/').pop()!;
  return lastSegment.includes(':') ? lastSegment.split(':')[1] : undefined;
}

/** Every prop but the topology and the PodExtensions (pod-extensions.test.ts), none at its default (a new prop does not compile until it is here). */
const OVERRIDES: Required<Omit<VtorcProps, 'globalTopology' | keyof PodExtensions>> = {
  clusterName: 'blue',
  release: VitessRelease.V22_0,
  keyspaces: ['commerce'],
  name: 'vtorc-commerce',
  resources: {
    requests: { cpu: k8s.Quantity.fromString('200m'), memory: k8s.Quantity.fromString('256Mi') },
    limits: { cpu: k8s.Quantity.fromString('500m'), memory: k8s.Quantity.fromString('256Mi') },
  },
  nodeSelector: { 'node-pool': 'vitess' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'vitess', effect: 'NoSchedule' }],
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['eu-west-1a'] }] }],
      },
    },
  },
  priorityClassName: 'vitess-control',
  imagePullSecrets: ['registry-credentials'],
  userIds: UserIds.PLATFORM_ASSIGNED,
  networkPolicy: true,
};

describe('Vtorc', () => {
  test('a Deployment vtorc of one replica with the topology flags, probes and resources', () => {
    const { construct, objects } = vtorc();
    expect(construct.name).toBe('vtorc');
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Deployment/vtorc', 'PodDisruptionBudget/vtorc']);
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

  test.each(KUBERNETES_VERSIONS)('with every option set, every object is valid Kubernetes %s', (version) => {
    const { objects } = vtorc(OVERRIDES);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Deployment/vtorc-commerce', 'PodDisruptionBudget/vtorc-commerce']);
    expect(validateManifests(objects, version)).toEqual([]);
  });

  test('fails for releases before v16 and for bad input', () => {
    expect(() => vtorc({ release: VitessRelease.V9_0 })).toThrow(
      /Vtorc: 'release' must be Vitess v16 or later, got v9.0.0; earlier releases elect primaries with InitShardMaster/,
    );
    expect(() => vtorc({ keyspaces: ['Bad-Name'] })).toThrow(/Vtorc: 'keyspaces' must start with a lowercase letter.*got 'Bad-Name'/);
    expect(() => vtorc({ name: 'VTORC' })).toThrow(/Vtorc: 'name' must be a DNS-1123 label.*got 'VTORC'/);
  });
});

describe('Vtorc production defaults', () => {
  test('runs as the numeric vitess user with a restricted, read-only container, a writable /tmp and a pinned image', () => {
    // WHEN
    const deployment = findObject(vtorc().objects, 'Deployment', 'vtorc');
    // THEN
    const pod = deployment.spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toEqual({
      runAsUser: 999,
      runAsGroup: 999,
      fsGroup: 999,
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.containers.map((c: any) => c.name)).toEqual(['vtorc']);
    const c = container(deployment, 'vtorc');
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
    });
    expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(pod.volumes).toEqual([{ name: 'tmp', emptyDir: {} }]);
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(imageTag(c.image)).toBe('v22.0.3');
  });

  test('requests CPU and memory and limits memory only', () => {
    const c = container(findObject(vtorc().objects, 'Deployment', 'vtorc'), 'vtorc');
    expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '128Mi' } });
    expect(c.resources.limits.cpu).toBeUndefined();
  });

  test('ready on /debug/health by its status (an HTTP probe), alive on /debug/liveness', () => {
    // Unlike vtctld's and vtgate's, VTOrc's /debug/health answers 500 until its first discovery cycle
    // is done and while it cannot record its health (go/vt/vtorc/server/api.go:264-273 and
    // go/vt/vtorc/process/health.go:62-68 at v0.22.4 and v0.22.1), so the status is the check.
    const c = container(findObject(vtorc().objects, 'Deployment', 'vtorc'), 'vtorc');
    expect(c.readinessProbe).toEqual({ httpGet: { path: '/debug/health', port: 15000 }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 });
    expect(c.livenessProbe).toEqual({
      httpGet: { path: '/debug/liveness', port: 15000 },
      initialDelaySeconds: 30,
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 6,
    });
  });

  test('tells Prometheus to scrape the web port', () => {
    expect(findObject(vtorc().objects, 'Deployment', 'vtorc').spec.template.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '15000',
      'prometheus.io/path': '/metrics',
    });
  });

  test('one replica: no spread constraints, and it schedules anywhere by default', () => {
    const pod = findObject(vtorc().objects, 'Deployment', 'vtorc').spec.template.spec;
    expect(pod.topologySpreadConstraints).toBeUndefined();
    expect(pod.nodeSelector).toBeUndefined();
    expect(pod.tolerations).toBeUndefined();
    expect(pod.affinity).toBeUndefined();
    expect(pod.priorityClassName).toBeUndefined();
    expect(pod.imagePullSecrets).toBeUndefined();
  });

  test('a PodDisruptionBudget lets a drain move its one pod', () => {
    const pdb = findObject(vtorc().objects, 'PodDisruptionBudget', 'vtorc');
    expect(pdb.metadata.labels).toEqual({ 'app.kubernetes.io/part-of': 'vitess', 'app': 'vitess', 'component': 'vtorc', 'vtorc': 'vtorc' });
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { app: 'vitess', component: 'vtorc', vtorc: 'vtorc' } } });
  });

  test('has no NetworkPolicy, even with networkPolicy: true', () => {
    expect(vtorc({ networkPolicy: true }).objects.map((o) => o.kind)).toEqual(['Deployment', 'PodDisruptionBudget']);
  });

  test('takes every workload option and the resources as given', () => {
    // WHEN
    const { objects } = vtorc(OVERRIDES);
    // THEN
    const deployment = findObject(objects, 'Deployment', 'vtorc-commerce');
    const pod = deployment.spec.template.spec;
    expect(pod.nodeSelector).toEqual({ 'node-pool': 'vitess' });
    expect(pod.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'vitess', effect: 'NoSchedule' }]);
    expect(pod.affinity).toEqual(OVERRIDES.affinity);
    expect(pod.priorityClassName).toBe('vitess-control');
    expect(pod.imagePullSecrets).toEqual([{ name: 'registry-credentials' }]);
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    const c = container(deployment, 'vtorc');
    expect(c.resources).toEqual({ requests: { cpu: '200m', memory: '256Mi' }, limits: { cpu: '500m', memory: '256Mi' } });
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true });
    expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(findObject(objects, 'PodDisruptionBudget', 'vtorc-commerce').spec.maxUnavailable).toBe(1);
  });
});

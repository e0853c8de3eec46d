import { Testing } from 'cdk8s';
import { k8s } from '../imports/k8s';
import {
  BackupStorage,
  EtcdCell,
  PodExtensions,
  UserIds,
  VitessRelease,
  Vtctld,
  VtctldProps,
} from '../lib';
import { KUBERNETES_VERSIONS, validateManifests } from './util/k8s-schema';
import { checkInvocations, vitessInvocations } from './util/vitess-reference';
import { container, findObject, testChart } from './util/synth';

/** A vtctld of cell `test` with the given props, and its own synthesized objects (not etcd's). */
function vtctldOf(props: Partial<VtctldProps> = {}) {
  const chart = testChart();
  const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
  const construct = new Vtctld(chart, 'Vtctld', { globalTopology, cell: 'test', ...props });
  const objects = Testing.synth(chart).filter((o) => !o.metadata.name.startsWith('etcd-'));
  return { construct, objects, deployment: findObject(objects, 'Deployment', construct.name) };
}

/** The tag of an image reference, or undefined when it has none. */
function imageTag(image: string): string | undefined {
  const lastSegment = image.split('/').pop()!;
  return lastSegment.includes(':') ? lastSegment.split(':')[1] : undefined;
}

/** Every prop but the topology, the cell and the PodExtensions (pod-extensions.test.ts), none at its default (a new prop does not compile until it is here). */
const OVERRIDES: Required<Omit<VtctldProps, 'globalTopology' | 'cell' | keyof PodExtensions>> = {
  clusterName: 'blue',
  release: VitessRelease.V22_0,
  backup: BackupStorage.nfs({ server: '10.0.0.5', path: '/exports/vitess' }),
  name: 'vtctld-main',
  replicas: 2,
  resources: {
    requests: { cpu: k8s.Quantity.fromString('250m'), memory: k8s.Quantity.fromString('256Mi') },
    limits: { cpu: k8s.Quantity.fromString('1'), memory: k8s.Quantity.fromString('512Mi') },
  },
  nodeSelector: { 'node-pool': 'vitess' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'vitess', effect: 'NoSchedule' }],
  affinity: {
    nodeAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 50, preference: { matchExpressions: [{ key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['m6i.large'] }] } },
      ],
    },
  },
  priorityClassName: 'vitess-control',
  imagePullSecrets: ['registry-a', 'registry-b'],
  userIds: UserIds.PLATFORM_ASSIGNED,
  networkPolicy: true,
  jobOptions: { nodeSelector: { 'node-pool': 'jobs' }, priorityClassName: 'vitess-jobs' },
};

describe('Vtctld', () => {
  test('a Deployment and a Service vtctld on 15000 and 15999 with topology and backup flags', () => {
    // GIVEN
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    // WHEN
    const vtctld = new Vtctld(chart, 'Vtctld', {
      globalTopology,
      cell: 'test',
      backup: BackupStorage.nfs({ server: '10.0.0.5', path: '/exports/vitess' }),
    });
    // THEN
    expect(vtctld.grpcAddress).toBe('vtctld:15999');
    expect(vtctld.webAddress).toBe('vtctld:15000');
    const objects = Testing.synth(chart);
    const service = findObject(objects, 'Service', 'vtctld');
    expect(service.spec.ports).toEqual([
      { name: 'web', port: 15000, targetPort: 15000 },
      { name: 'grpc', port: 15999, targetPort: 15999 },
    ]);
    const deployment = findObject(objects, 'Deployment', 'vtctld');
    expect(deployment.spec.replicas).toBe(1);
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    const c = container(deployment, 'vtctld');
    expect(c.image).toBe('vitess/lite:v9.0.0');
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(c.command).toEqual(['/vt/bin/vtctld']);
    expect(c.args).toEqual([
      '-topo_implementation=etcd2',
      '-topo_global_server_address=http://etcd-global-client:2379',
      '-topo_global_root=/global',
      '-cell=test',
      '-port=15000',
      '-grpc_port=15999',
      '-service_map=grpc-vtctl',
      '-backup_storage_implementation=file',
      '-file_backup_storage_root=/vt/backups',
      '-logtostderr',
    ]);
    expect(c.volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'backups', mountPath: '/vt/backups' },
    ]);
    expect(deployment.spec.template.spec.volumes).toEqual([
      { name: 'tmp', emptyDir: {} },
      { name: 'backups', nfs: { server: '10.0.0.5', path: '/exports/vitess' } },
    ]);
    expect(c.readinessProbe.exec.command.slice(0, 2)).toEqual(['/bin/bash', '-c']);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/debug/vars', port: 15000 });
    expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '128Mi' } });
    expect(deployment.spec.template.spec.securityContext).toMatchObject({ runAsUser: 999, fsGroup: 999, runAsNonRoot: true });
  });

  test('fails for a bad name or replica count', () => {
    expect(() => vtctldOf({ name: 'VtCtld' })).toThrow(/Vtctld: 'name' must be a DNS-1123 label.*got 'VtCtld'/);
    expect(() => vtctldOf({ replicas: 0 })).toThrow(/Vtctld: 'replicas' must be a whole number of at least 1, got 0/);
    expect(() => vtctldOf({ cell: 'te_st' })).toThrow(/Vtctld: 'cell' must be/);
  });
});

describe('Vtctld production defaults', () => {
  test('runs as the numeric vitess user with a restricted, read-only container, a writable /tmp and a pinned image', () => {
    // WHEN
    const { deployment } = vtctldOf();
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
    expect(pod.containers.map((c: any) => c.name)).toEqual(['vtctld']);
    const c = container(deployment, 'vtctld');
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
    });
    expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(pod.volumes).toEqual([{ name: 'tmp', emptyDir: {} }]);
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(imageTag(c.image)).toBe('v9.0.0');
  });

  test('requests CPU and memory and limits memory only', () => {
    const c = container(vtctldOf().deployment, 'vtctld');
    expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '128Mi' } });
    expect(c.resources.limits.cpu).toBeUndefined();
  });

  test('ready while /debug/health says ok (a bash script that reads the body), alive on /debug/vars', () => {
    // vtctld's /debug/health answers HTTP 200 with "ok" or "not ok" (go/vt/vtctld/debug_health.go:31-49
    // at v0.9.0, :32-50 at v0.22.4, v0.22.1 and v0.24.4), so an httpGet probe would pass either way.
    // test/pod.test.ts runs this script against a local server that answers both.
    for (const release of [VitessRelease.V9_0, VitessRelease.V22_0, VitessRelease.V24_0]) {
      const c = container(vtctldOf({ release }).deployment, 'vtctld');
      expect(c.readinessProbe.httpGet).toBeUndefined();
      expect(c.readinessProbe).toMatchObject({ periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 });
      const [shell, flag, script] = c.readinessProbe.exec.command;
      expect([shell, flag]).toEqual(['/bin/bash', '-c']);
      expect(script).toContain('exec 3<>/dev/tcp/127.0.0.1/15000 || exit 1');
      expect(script).toContain("printf 'GET %s HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' /debug/health >&3");
      expect(script).toContain("pattern='^ok$'");
      expect(script).toContain("status='^HTTP/1\\.[01] 200( |$)'");
    }
    const c = container(vtctldOf().deployment, 'vtctld');
    expect(c.livenessProbe).toEqual({
      httpGet: { path: '/debug/vars', port: 15000 },
      initialDelaySeconds: 30,
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 6,
    });
  });

  test('tells Prometheus to scrape the web port', () => {
    expect(vtctldOf().deployment.spec.template.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '15000',
      'prometheus.io/path': '/metrics',
    });
  });

  test('spreads the replicas across nodes and zones, preferred', () => {
    const { deployment } = vtctldOf();
    const selector = { app: 'vitess', component: 'vtctld', vtctld: 'vtctld' };
    expect(deployment.spec.selector.matchLabels).toEqual(selector);
    expect(deployment.spec.template.spec.topologySpreadConstraints).toEqual([
      { topologyKey: 'kubernetes.io/hostname', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector } },
      { topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector } },
    ]);
  });

  test('schedules anywhere, with no priority class and no pull secrets, and gives Jobs no options, by default', () => {
    const { construct, deployment } = vtctldOf();
    const pod = deployment.spec.template.spec;
    expect(pod.nodeSelector).toBeUndefined();
    expect(pod.tolerations).toBeUndefined();
    expect(pod.affinity).toBeUndefined();
    expect(pod.priorityClassName).toBeUndefined();
    expect(pod.imagePullSecrets).toBeUndefined();
    expect(construct.jobOptions).toEqual({});
  });

  test('a PodDisruptionBudget lets one pod go at a time', () => {
    const { objects } = vtctldOf();
    const pdb = findObject(objects, 'PodDisruptionBudget', 'vtctld');
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { app: 'vitess', component: 'vtctld', vtctld: 'vtctld' } } });
  });

  test('a NetworkPolicy admits gRPC from Vitess pods and the web port from anywhere', () => {
    // WHEN
    const { objects } = vtctldOf();
    // THEN
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Service/vtctld',
      'Deployment/vtctld',
      'PodDisruptionBudget/vtctld',
      'NetworkPolicy/vtctld',
    ]);
    const policy = findObject(objects, 'NetworkPolicy', 'vtctld');
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: { app: 'vitess', component: 'vtctld', vtctld: 'vtctld' } },
      policyTypes: ['Ingress'],
      ingress: [
        { ports: [{ protocol: 'TCP', port: 15999 }], from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'vitess' } } }] },
        { ports: [{ protocol: 'TCP', port: 15000 }] },
      ],
    });
  });

  test('networkPolicy: false leaves the NetworkPolicy out', () => {
    const { objects } = vtctldOf({ networkPolicy: false });
    expect(objects.map((o) => o.kind)).toEqual(['Service', 'Deployment', 'PodDisruptionBudget']);
  });

  test('takes every workload option and the resources as given and keeps its spread', () => {
    // GIVEN
    const defaults = vtctldOf().deployment;
    // WHEN
    const { deployment, objects } = vtctldOf(OVERRIDES);
    // THEN
    const pod = deployment.spec.template.spec;
    expect(deployment.metadata.name).toBe('vtctld-main');
    expect(deployment.spec.replicas).toBe(2);
    expect(pod.nodeSelector).toEqual({ 'node-pool': 'vitess' });
    expect(pod.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'vitess', effect: 'NoSchedule' }]);
    expect(pod.affinity).toEqual(OVERRIDES.affinity);
    expect(pod.priorityClassName).toBe('vitess-control');
    expect(pod.imagePullSecrets).toEqual([{ name: 'registry-a' }, { name: 'registry-b' }]);
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.topologySpreadConstraints).toHaveLength(2);
    expect(pod.topologySpreadConstraints.map((c: any) => c.labelSelector.matchLabels)).toEqual([
      { 'app': 'vitess', 'component': 'vtctld', 'vtctld': 'vtctld-main', 'app.kubernetes.io/instance': 'blue' },
      { 'app': 'vitess', 'component': 'vtctld', 'vtctld': 'vtctld-main', 'app.kubernetes.io/instance': 'blue' },
    ]);
    // clusterName: the name given is kept; the pods carry the cluster's label, and the Jobs its name.
    expect(deployment.spec.selector.matchLabels['app.kubernetes.io/instance']).toBe('blue');
    expect(vtctldOf(OVERRIDES).construct.clusterName).toBe('blue');
    const c = container(deployment, 'vtctld');
    expect(c.image).toBe('vitess/lite:v22.0.3');
    expect(c.resources).toEqual({ requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } });
    expect(c.securityContext).toEqual(container(defaults, 'vtctld').securityContext);
    expect(c.volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'backups', mountPath: '/vt/backups' },
    ]);
    expect(findObject(objects, 'PodDisruptionBudget', 'vtctld-main').spec.maxUnavailable).toBe(1);
    expect(findObject(objects, 'NetworkPolicy', 'vtctld-main').spec.ingress).toHaveLength(2);
  });

  test('hands its Jobs the jobOptions given', () => {
    const { construct } = vtctldOf(OVERRIDES);
    expect(construct.jobOptions).toEqual({ nodeSelector: { 'node-pool': 'jobs' }, priorityClassName: 'vitess-jobs' });
  });

  test('without jobOptions, hands its Jobs every workload option but affinity', () => {
    const { construct } = vtctldOf({ ...OVERRIDES, jobOptions: undefined });
    expect(construct.jobOptions).toEqual({
      nodeSelector: { 'node-pool': 'vitess' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'vitess', effect: 'NoSchedule' }],
      priorityClassName: 'vitess-control',
      imagePullSecrets: ['registry-a', 'registry-b'],
      userIds: UserIds.PLATFORM_ASSIGNED,
    });
    expect(Object.keys(construct.jobOptions)).not.toContain('affinity');
  });

  test.each(KUBERNETES_VERSIONS)('with every option set, every object is valid Kubernetes %s', (version) => {
    const { objects } = vtctldOf(OVERRIDES);
    expect(objects.map((o) => o.kind)).toEqual(['Service', 'Deployment', 'PodDisruptionBudget', 'NetworkPolicy']);
    expect(validateManifests(objects, version)).toEqual([]);
  });

  test.each(KUBERNETES_VERSIONS)('with the defaults, every object is valid Kubernetes %s', (version) => {
    expect(validateManifests(vtctldOf().objects, version)).toEqual([]);
  });
});

test('on Vitess v22.0: pflag spelling, vtctld\'s own gRPC service for vtctldclient, flags known to v22.0.3', () => {
  const chart = testChart();
  const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
  new Vtctld(chart, 'Vtctld', { release: VitessRelease.V22_0, globalTopology, cell: 'test' });
  const deployment = findObject(Testing.synth(chart), 'Deployment', 'vtctld');
  const c = container(deployment, 'vtctld');
  expect(c.image).toBe('vitess/lite:v22.0.3');
  expect(c.args).toEqual([
    '--topo_implementation=etcd2',
    '--topo_global_server_address=etcd-global-client:2379',
    '--topo_global_root=/vitess/global',
    '--cell=test',
    '--port=15000',
    '--grpc_port=15999',
    '--service_map=grpc-vtctl,grpc-vtctld',
    '--logtostderr',
  ]);
  expect(checkInvocations(vitessInvocations([deployment]), 'modern')).toEqual([]);
});

test('on Vitess v24.0: dashed flag names, no --cell (a no-op in v24) and no --logtostderr, flags known to v24.0.4', () => {
  const chart = testChart();
  const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
  new Vtctld(chart, 'Vtctld', { release: VitessRelease.V24_0, globalTopology, cell: 'test' });
  const deployment = findObject(Testing.synth(chart), 'Deployment', 'vtctld');
  const c = container(deployment, 'vtctld');
  expect(c.image).toBe('vitess/lite:v24.0.4');
  expect(c.args).toEqual([
    '--topo-implementation=etcd2',
    '--topo-global-server-address=etcd-global-client:2379',
    '--topo-global-root=/vitess/global',
    '--port=15000',
    '--grpc-port=15999',
    '--service-map=grpc-vtctl,grpc-vtctld',
  ]);
  expect(checkInvocations(vitessInvocations([deployment]), 'v24')).toEqual([]);
});

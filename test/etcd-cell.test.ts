import { Testing } from 'cdk8s';
import { k8s } from '../imports/k8s';
import { EtcdCell, EtcdCellProps, PodExtensions, UserIds, VitessRelease } from '../lib';
import { KUBERNETES_VERSIONS, validateManifests } from './util/k8s-schema';
import { container, findObject, testChart } from './util/synth';
import { checkInvocations, vitessInvocations } from './util/vitess-reference';

/** An etcd cell `test` with the given props, and its synthesized objects. */
function etcdCell(props: Partial<EtcdCellProps> = {}) {
  const chart = testChart();
  const construct = new EtcdCell(chart, 'Etcd', { cell: 'test', ...props });
  const objects = Testing.synth(chart);
  return { construct, objects, sts: findObject(objects, 'StatefulSet', construct.name) };
}

/** The tag of an image reference, or undefined when it has none. */
function imageTag(image: string): string | undefined {
  const lastSegment = image.split('/').pop()!;
  return lastSegment.includes(':') ? lastSegment.split(':')[1] : undefined;
}

/** Every prop but the cell and the PodExtensions (pod-extensions.test.ts), none at its default (a new prop does not compile until it is here). */
const OVERRIDES: Required<Omit<EtcdCellProps, 'cell' | keyof PodExtensions>> = {
  clusterName: 'blue',
  replicas: 5,
  nodeSelector: { 'node-pool': 'etcd' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'etcd', effect: 'NoSchedule' }],
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64', 'arm64'] }] }],
      },
    },
  },
  priorityClassName: 'system-cluster-critical',
  imagePullSecrets: ['registry-credentials'],
  userIds: UserIds.PLATFORM_ASSIGNED,
  networkPolicy: true,
  image: 'registry.example.com/etcd:v3.5.17',
  storageSize: '4Gi',
  storageClassName: 'fast',
  resources: {
    requests: { cpu: k8s.Quantity.fromString('500m'), memory: k8s.Quantity.fromString('1Gi') },
    limits: { cpu: k8s.Quantity.fromString('1'), memory: k8s.Quantity.fromString('1Gi') },
  },
};

describe('EtcdCell', () => {
  test('a cell is a StatefulSet of 3 with peer and client Services, PVCs and a PDB', () => {
    // GIVEN
    const chart = testChart();
    // WHEN
    const etcd = new EtcdCell(chart, 'Etcd', { cell: 'test' });
    // THEN
    const objects = Testing.synth(chart);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Service/etcd-test',
      'Service/etcd-test-client',
      'StatefulSet/etcd-test',
      'PodDisruptionBudget/etcd-test',
      'NetworkPolicy/etcd-test',
    ]);
    expect(etcd.clientAddress).toBe('etcd-test-client:2379');
    const peer = findObject(objects, 'Service', 'etcd-test');
    expect(peer.spec.clusterIP).toBe('None');
    expect(peer.spec.publishNotReadyAddresses).toBe(true);
    expect(peer.spec.ports.map((p: any) => p.port)).toEqual([2380, 2379]);
    const client = findObject(objects, 'Service', 'etcd-test-client');
    expect(client.spec.ports).toEqual([{ name: 'client', port: 2379, targetPort: 2379 }]);
    expect(client.spec.selector).toEqual({ app: 'vitess', component: 'etcd', cell: 'test' });

    const sts = findObject(objects, 'StatefulSet', 'etcd-test');
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.serviceName).toBe('etcd-test');
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('1Gi');
    const c = container(sts, 'etcd');
    expect(c.image).toBe('quay.io/coreos/etcd:v3.5.17');
    expect(c.args).toContain(
      '--initial-cluster=etcd-test-0=http://etcd-test-0.etcd-test:2380,etcd-test-1=http://etcd-test-1.etcd-test:2380,etcd-test-2=http://etcd-test-2.etcd-test:2380',
    );
    expect(c.args).toContain('--initial-advertise-peer-urls=http://$(POD_NAME).etcd-test:2380');
    expect(c.args).toContain('--advertise-client-urls=http://$(POD_NAME).etcd-test:2379');
    expect(c.args).toContain('--initial-cluster-state=new');
    expect(c.args).toContain('--data-dir=/var/lib/etcd/data');
    expect(c.volumeMounts).toEqual([{ name: 'data', mountPath: '/var/lib/etcd' }]);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/health', port: 2379 });
    expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '256Mi' } });

    const pdb = findObject(objects, 'PodDisruptionBudget', 'etcd-test');
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec.selector.matchLabels).toEqual(sts.spec.selector.matchLabels);
  });

  test('the global topology has the same shape', () => {
    const chart = testChart();
    new EtcdCell(chart, 'Etcd', { cell: 'global', replicas: 5, storageSize: '2Gi', storageClassName: 'fast' });
    const sts = findObject(Testing.synth(chart), 'StatefulSet', 'etcd-global');
    expect(sts.spec.replicas).toBe(5);
    expect(sts.spec.volumeClaimTemplates[0].spec).toMatchObject({ storageClassName: 'fast', resources: { requests: { storage: '2Gi' } } });
    expect(container(sts, 'etcd').args).toContain('--initial-cluster-token=etcd-global');
  });

  test('registers a cell with AddCellInfo', () => {
    const chart = testChart();
    const etcd = new EtcdCell(chart, 'Etcd', { cell: 'test' });
    const job = etcd.addCellInfoJob(chart, 'Register', {
      release: VitessRelease.V9_0,
      grpcAddress: 'vtctld:15999',
    });
    expect(job.jobName).toBe('vtctl-addcellinfo-test');
    expect(job.commandLines).toEqual([
      ['/vt/bin/vtctlclient', '-server=vtctld:15999', 'AddCellInfo', '-root=/test', '-server_address=http://etcd-test-client:2379', 'test'],
    ]);
  });

  test('fails to register the global topology as a cell', () => {
    const chart = testChart();
    const etcd = new EtcdCell(chart, 'Etcd', { cell: 'global' });
    expect(() => etcd.addCellInfoJob(chart, 'Register', { release: VitessRelease.V9_0, grpcAddress: 'vtctld:15999' })).toThrow(
      /the 'global' topology is not a cell/,
    );
  });

  test('fails for a cell name with a dash', () => {
    expect(() => new EtcdCell(testChart(), 'Etcd', { cell: 'us-east' })).toThrow(
      /EtcdCell: 'cell' must be 1 to 40 lowercase letters or digits .*got 'us-east'/,
    );
  });

  test('fails for an even member count', () => {
    expect(() => new EtcdCell(testChart(), 'Etcd', { cell: 'test', replicas: 4 })).toThrow(
      /EtcdCell: 'replicas' must be an odd whole number from 1 to 9, got 4/,
    );
  });
});

describe('EtcdCell production defaults', () => {
  test('runs as the numeric vitess user with a restricted, read-only container and a pinned image', () => {
    // WHEN
    const { sts } = etcdCell();
    // THEN
    const pod = sts.spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toEqual({
      runAsUser: 999,
      runAsGroup: 999,
      fsGroup: 999,
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.containers.map((c: any) => c.name)).toEqual(['etcd']);
    const c = container(sts, 'etcd');
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
    });
    // etcd writes only to its data directory, the one writable path.
    expect(c.volumeMounts).toEqual([{ name: 'data', mountPath: '/var/lib/etcd' }]);
    expect(c.args).toContain('--data-dir=/var/lib/etcd/data');
    expect(pod.volumes).toBeUndefined();
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(imageTag(c.image)).toBe('v3.5.17');
  });

  test('requests CPU and memory and limits memory only', () => {
    const c = container(etcdCell().sts, 'etcd');
    expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '256Mi' } });
    expect(c.resources.limits.cpu).toBeUndefined();
  });

  test('ready when /health answers, restarted only when /version stops answering', () => {
    const c = container(etcdCell().sts, 'etcd');
    expect(c.readinessProbe).toEqual({
      httpGet: { path: '/health', port: 2379 },
      initialDelaySeconds: 1,
      periodSeconds: 5,
      timeoutSeconds: 5,
      failureThreshold: 3,
    });
    expect(c.livenessProbe).toEqual({
      httpGet: { path: '/version', port: 2379 },
      initialDelaySeconds: 30,
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 30,
    });
  });

  test('serves metrics on 2381 and tells Prometheus to scrape them', () => {
    const { sts } = etcdCell();
    const c = container(sts, 'etcd');
    expect(c.args).toContain('--listen-metrics-urls=http://$(POD_IP):2381');
    expect(c.ports).toEqual([
      { name: 'client', containerPort: 2379 },
      { name: 'peer', containerPort: 2380 },
      { name: 'metrics', containerPort: 2381 },
    ]);
    expect(sts.spec.template.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '2381',
      'prometheus.io/path': '/metrics',
    });
  });

  test('spreads the members across nodes and zones, preferred', () => {
    const { sts } = etcdCell();
    const members = { app: 'vitess', component: 'etcd', cell: 'test' };
    expect(sts.spec.selector.matchLabels).toEqual(members);
    expect(sts.spec.template.spec.topologySpreadConstraints).toEqual([
      { topologyKey: 'kubernetes.io/hostname', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: members } },
      { topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: members } },
    ]);
  });

  test('schedules anywhere, with no priority class and no pull secrets, by default', () => {
    const pod = etcdCell().sts.spec.template.spec;
    expect(pod.nodeSelector).toBeUndefined();
    expect(pod.tolerations).toBeUndefined();
    expect(pod.affinity).toBeUndefined();
    expect(pod.priorityClassName).toBeUndefined();
    expect(pod.imagePullSecrets).toBeUndefined();
  });

  test('a NetworkPolicy admits clients from Vitess pods, peers from the members and scrapers from anywhere', () => {
    // WHEN
    const { objects } = etcdCell();
    // THEN
    const policy = findObject(objects, 'NetworkPolicy', 'etcd-test');
    expect(policy.metadata.labels).toEqual({ 'app.kubernetes.io/part-of': 'vitess', 'app': 'vitess', 'component': 'etcd', 'cell': 'test' });
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: { app: 'vitess', component: 'etcd', cell: 'test' } },
      policyTypes: ['Ingress'],
      ingress: [
        { ports: [{ protocol: 'TCP', port: 2379 }], from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'vitess' } } }] },
        { ports: [{ protocol: 'TCP', port: 2380 }], from: [{ podSelector: { matchLabels: { app: 'vitess', component: 'etcd', cell: 'test' } } }] },
        { ports: [{ protocol: 'TCP', port: 2381 }] },
      ],
    });
  });

  test('networkPolicy: false leaves the NetworkPolicy out', () => {
    const { objects } = etcdCell({ networkPolicy: false });
    expect(objects.map((o) => o.kind)).toEqual(['Service', 'Service', 'StatefulSet', 'PodDisruptionBudget']);
  });

  test('the PodDisruptionBudget keeps a quorum: one member at a time, none of a single member', () => {
    expect(findObject(etcdCell().objects, 'PodDisruptionBudget', 'etcd-test').spec.maxUnavailable).toBe(1);
    expect(findObject(etcdCell({ replicas: 1 }).objects, 'PodDisruptionBudget', 'etcd-test').spec.maxUnavailable).toBe(0);
  });

  test('takes every workload option, the image and the resources as given and keeps its spread', () => {
    // GIVEN
    const defaults = etcdCell().sts;
    // WHEN
    const { sts } = etcdCell(OVERRIDES);
    // THEN
    const pod = sts.spec.template.spec;
    expect(pod.nodeSelector).toEqual({ 'node-pool': 'etcd' });
    expect(pod.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'etcd', effect: 'NoSchedule' }]);
    expect(pod.affinity).toEqual(OVERRIDES.affinity);
    expect(pod.priorityClassName).toBe('system-cluster-critical');
    expect(pod.imagePullSecrets).toEqual([{ name: 'registry-credentials' }]);
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.topologySpreadConstraints).toHaveLength(2);
    // The spread of the defaults, over the pods of the cluster named 'blue'.
    const withCluster = (constraints: any[]) =>
      constraints.map((c) => ({ ...c, labelSelector: { matchLabels: { ...c.labelSelector.matchLabels, 'app.kubernetes.io/instance': 'blue' } } }));
    expect(pod.topologySpreadConstraints).toEqual(withCluster(defaults.spec.template.spec.topologySpreadConstraints));
    const c = container(sts, 'etcd');
    expect(c.image).toBe('registry.example.com/etcd:v3.5.17');
    expect(c.resources).toEqual({ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } });
    expect(c.securityContext).toEqual(container(defaults, 'etcd').securityContext);
    expect(sts.spec.volumeClaimTemplates[0].spec).toMatchObject({ storageClassName: 'fast', resources: { requests: { storage: '4Gi' } } });
    expect(sts.spec.replicas).toBe(5);
  });

  test.each(KUBERNETES_VERSIONS)('with every option set, every object is valid Kubernetes %s', (version) => {
    const { objects } = etcdCell(OVERRIDES);
    expect(objects.map((o) => o.kind)).toEqual(['Service', 'Service', 'StatefulSet', 'PodDisruptionBudget', 'NetworkPolicy']);
    expect(validateManifests(objects, version)).toEqual([]);
  });

  test.each(KUBERNETES_VERSIONS)('with the defaults, every object is valid Kubernetes %s', (version) => {
    expect(validateManifests(etcdCell().objects, version)).toEqual([]);
  });
});

test('on Vitess v22.0: AddCellInfo through vtctldclient with dashed flags, the /vitess root and a plain address', () => {
  const chart = testChart();
  const etcd = new EtcdCell(chart, 'Etcd', { cell: 'test' });
  etcd.addCellInfoJob(chart, 'AddCellInfo', { release: VitessRelease.V22_0, grpcAddress: 'vtctld:15999' });
  const job = findObject(Testing.synth(chart), 'Job', 'vtctl-addcellinfo-test');
  const invocations = vitessInvocations([job]);
  expect(invocations.map((i) => [i.binary, ...i.args])).toEqual([
    ['vtctldclient', '--server=vtctld:15999', 'GetCellInfoNames'],
    ['vtctldclient', '--server=vtctld:15999', 'GetCellInfoNames'],
    ['vtctldclient', '--server=vtctld:15999', 'AddCellInfo', '--root=/vitess/test', '--server-address=etcd-test-client:2379', 'test'],
  ]);
  expect(checkInvocations(invocations, 'modern')).toEqual([]);
});

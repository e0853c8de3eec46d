import { Testing } from 'cdk8s';
import { k8s } from '../imports/k8s';
import { EtcdCell, TabletShard, UserIds, VitessRelease, VtctlJob, Vtctld, Vtgate, Vtorc, VtworkerJob } from '../lib';
import {
  TMP_MOUNT,
  TMP_VOLUME,
  VITESS_PODS,
  createNetworkPolicy,
  ingressRule,
  podIpEnv,
  resources,
  restrictedContainerSecurityContext,
  scrapeAnnotations,
  spreadConstraints,
  validateQuantity,
  validateResources,
  vitessPodSecurityContext,
  workloadPodSpec,
} from '../lib/pod';
import { KUBERNETES_VERSIONS, validateManifests } from './util/k8s-schema';
import { testChart } from './util/synth';

describe('pod building blocks', () => {
  test('Vitess pods run as the numeric vitess user by default', () => {
    expect(vitessPodSecurityContext()).toEqual({
      runAsUser: 999,
      runAsGroup: 999,
      fsGroup: 999,
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(vitessPodSecurityContext(UserIds.VITESS)).toEqual(vitessPodSecurityContext());
  });

  test('with platform-assigned IDs the pods name no user, group or fsGroup but stay non-root', () => {
    expect(vitessPodSecurityContext(UserIds.PLATFORM_ASSIGNED)).toEqual({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  test('containers: no privilege escalation, no capabilities, a read-only root filesystem', () => {
    expect(restrictedContainerSecurityContext()).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
    });
  });

  test('a writable /tmp is an emptyDir', () => {
    expect(TMP_VOLUME).toEqual({ name: 'tmp', emptyDir: {} });
    expect(TMP_MOUNT).toEqual({ name: 'tmp', mountPath: '/tmp' });
  });

  test('requests and a memory limit, no CPU limit', () => {
    const r = resources('100m', '128Mi', '256Mi');
    expect(r.requests!.cpu.value).toBe('100m');
    expect(r.requests!.memory.value).toBe('128Mi');
    expect(Object.keys(r.limits!)).toEqual(['memory']);
    expect(r.limits!.memory.value).toBe('256Mi');
  });

  test('POD_IP from the downward API', () => {
    expect(podIpEnv()).toEqual({ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
  });

  test('spread across nodes and zones: skew 1, preferred, on the given labels', () => {
    // GIVEN
    const labels = { app: 'vitess', component: 'vtgate' };
    // WHEN
    const constraints = spreadConstraints(labels);
    // THEN
    expect(constraints).toEqual([
      { topologyKey: 'kubernetes.io/hostname', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } },
      { topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } },
    ]);
  });

  test('Prometheus scrape annotations name the port and /metrics, or another path', () => {
    expect(scrapeAnnotations(15000)).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '15000',
      'prometheus.io/path': '/metrics',
    });
    expect(scrapeAnnotations(2381, '/custom')['prometheus.io/path']).toBe('/custom');
  });
});

describe('workloadPodSpec', () => {
  test('without options: only the vitess security context', () => {
    // WHEN
    const spec = workloadPodSpec('Test', {});
    // THEN
    expect(spec).toEqual({ securityContext: vitessPodSecurityContext() });
  });

  test('every option lands in its pod spec field', () => {
    // GIVEN
    const affinity: k8s.Affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }] }],
        },
      },
    };
    // WHEN
    const spec = workloadPodSpec('Test', {
      nodeSelector: { pool: 'vitess' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'vitess', effect: 'NoSchedule' }],
      affinity,
      priorityClassName: 'vitess-critical',
      imagePullSecrets: ['registry-a', 'registry-b'],
      userIds: UserIds.PLATFORM_ASSIGNED,
    });
    // THEN
    expect(spec).toEqual({
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      nodeSelector: { pool: 'vitess' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'vitess', effect: 'NoSchedule' }],
      affinity,
      priorityClassName: 'vitess-critical',
      imagePullSecrets: [{ name: 'registry-a' }, { name: 'registry-b' }],
    });
  });

  test('an empty list of pull secrets sets none', () => {
    expect(workloadPodSpec('Test', { imagePullSecrets: [] }).imagePullSecrets).toBeUndefined();
  });

  test('fails for a priority class that is not a DNS-1123 subdomain', () => {
    expect(() => workloadPodSpec('Test', { priorityClassName: 'Bad_Name' })).toThrow(
      /^Test: 'priorityClassName' must be a DNS-1123 subdomain .*got 'Bad_Name'$/,
    );
  });

  test('fails for a pull secret that is not a DNS-1123 subdomain', () => {
    expect(() => workloadPodSpec('Test', { imagePullSecrets: ['ok', 'not ok'] })).toThrow(
      /^Test: 'imagePullSecrets' must be a DNS-1123 subdomain .*got 'not ok'$/,
    );
  });

  test('fails for an unknown userIds value', () => {
    expect(() => workloadPodSpec('Test', { userIds: 'root' as UserIds })).toThrow(
      /^Test: 'userIds' must be one of vitess, platform-assigned, got 'root'$/,
    );
  });
});

describe('NetworkPolicy building blocks', () => {
  test('an ingress rule opens TCP ports to the given peers', () => {
    // WHEN
    const rule = ingressRule([3306, 15991], [{ podSelector: VITESS_PODS }]);
    // THEN
    expect(rule.ports!.map((p) => [p.protocol, p.port!.value])).toEqual([
      ['TCP', 3306],
      ['TCP', 15991],
    ]);
    expect(rule.from).toEqual([{ podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'vitess' } } }]);
  });

  test('an ingress rule without peers admits every source', () => {
    expect(ingressRule([15000]).from).toBeUndefined();
  });

  test('a NetworkPolicy restricts ingress only, to the selected pods', () => {
    // GIVEN
    const chart = testChart();
    // WHEN
    createNetworkPolicy(chart, 'vtctld', { app: 'vitess', component: 'vtctld', extra: 'x' }, { app: 'vitess', component: 'vtctld' }, [
      ingressRule([15999], [{ podSelector: VITESS_PODS }]),
      ingressRule([15000]),
    ]);
    // THEN
    const objects = Testing.synth(chart);
    expect(objects).toEqual([
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'vtctld', labels: { app: 'vitess', component: 'vtctld', extra: 'x' } },
        spec: {
          podSelector: { matchLabels: { app: 'vitess', component: 'vtctld' } },
          policyTypes: ['Ingress'],
          ingress: [
            { ports: [{ protocol: 'TCP', port: 15999 }], from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'vitess' } } }] },
            { ports: [{ protocol: 'TCP', port: 15000 }] },
          ],
        },
      },
    ]);
    for (const version of KUBERNETES_VERSIONS) {
      expect(validateManifests(objects, version)).toEqual([]);
    }
  });
});

describe('resource checks', () => {
  const q = (value: string) => k8s.Quantity.fromString(value);

  test.each(['250m', '2', '0.5', '.5', '512Mi', '10Gi', '1e3', '1E-3', '100k', '1.5G'])('a quantity: %s', (value) => {
    expect(() => validateQuantity('X', 'storageSize', value)).not.toThrow();
  });

  test.each(['10 Gi', '10GB', '-1', 'Gi', '1.2.3', '', '1mi', '1Ki5'])('fails for a value that is not a quantity: "%s"', (value) => {
    expect(() => validateQuantity('X', 'storageSize', value)).toThrow(
      `X: 'storageSize' must be a Kubernetes quantity such as '250m', '2', '512Mi' or '10Gi', got '${value}'`,
    );
  });

  test('requests and limits: valid quantities with no limit below its request', () => {
    expect(() => validateResources('X', 'resources', undefined)).not.toThrow();
    expect(() =>
      validateResources('X', 'resources', { requests: { cpu: q('500m'), memory: q('1Gi') }, limits: { cpu: q('1'), memory: q('1024Mi') } }),
    ).not.toThrow();
    expect(() => validateResources('X', 'resources', { requests: { cpu: q('1x') } })).toThrow(
      "X: 'resources.requests.cpu' must be a Kubernetes quantity such as '250m', '2', '512Mi' or '10Gi', got '1x'",
    );
    expect(() => validateResources('X', 'resources', { limits: { memory: q('1 Gi') } })).toThrow(
      "X: 'resources.limits.memory' must be a Kubernetes quantity",
    );
  });

  test('fails for a limit below its request, comparing across units', () => {
    expect(() => validateResources('X', 'vttabletResources', { requests: { memory: q('2Gi') }, limits: { memory: q('2000Mi') } })).toThrow(
      "X: 'vttabletResources.limits.memory' (2000Mi) must not be below 'vttabletResources.requests.memory' (2Gi)",
    );
    expect(() => validateResources('X', 'resources', { requests: { cpu: q('1.5') }, limits: { cpu: q('1200m') } })).toThrow(
      "X: 'resources.limits.cpu' (1200m) must not be below 'resources.requests.cpu' (1.5)",
    );
    expect(() => validateResources('X', 'resources', { requests: { memory: q('1G') }, limits: { memory: q('1Gi') } })).not.toThrow();
  });
});

describe('every component checks its resources and storage sizes', () => {
  const q = (value: string) => k8s.Quantity.fromString(value);
  const low = { requests: { memory: q('1Gi') }, limits: { memory: q('512Mi') } };
  function cluster() {
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    const vtctld = new Vtctld(chart, 'Vtctld', { globalTopology, cell: 'test' });
    return { chart, globalTopology, vtctld };
  }
  test.each([
    ['EtcdCell', 'resources', ({ chart }: any) => new EtcdCell(chart, 'E', { cell: 'test', resources: low })],
    ['EtcdCell', 'storageSize', ({ chart }: any) => new EtcdCell(chart, 'E', { cell: 'test', storageSize: '1 GB' })],
    ['Vtctld', 'resources', ({ chart, globalTopology }: any) => new Vtctld(chart, 'V', { globalTopology, cell: 'test', name: 'v2', resources: low })],
    ['Vtgate', 'resources', ({ chart, globalTopology }: any) => new Vtgate(chart, 'G', { globalTopology, cell: 'test', resources: low })],
    [
      'Vtorc',
      'resources',
      ({ chart }: any) =>
        new Vtorc(chart, 'O', { release: VitessRelease.V22_0, globalTopology: new EtcdCell(chart, 'G22', { cell: 'g' }), resources: low }),
    ],
    [
      'TabletShard',
      'vttabletResources',
      ({ chart, globalTopology }: any) =>
        new TabletShard(chart, 'S', { globalTopology, cell: 'test', keyspace: 'ks', shard: '0', vttabletResources: low }),
    ],
    [
      'TabletShard',
      'mysqldResources',
      ({ chart, globalTopology }: any) =>
        new TabletShard(chart, 'S', { globalTopology, cell: 'test', keyspace: 'ks', shard: '0', mysqldResources: low }),
    ],
    [
      'TabletShard',
      'storageSize',
      ({ chart, globalTopology }: any) => new TabletShard(chart, 'S', { globalTopology, cell: 'test', keyspace: 'ks', shard: '0', storageSize: 'ten' }),
    ],
    ['VtctlJob', 'resources', ({ chart, vtctld }: any) => new VtctlJob(chart, 'J', { vtctld, jobName: 'j', commands: [['GetCellInfoNames']], resources: low })],
    [
      'VtworkerJob',
      'resources',
      ({ chart, vtctld, globalTopology }: any) =>
        new VtworkerJob(chart, 'W', { vtctld, globalTopology, cell: 'test', keyspace: 'ks', shards: ['0'], command: 'SplitClone', resources: low }),
    ],
  ])('%s checks %s', (context, prop, build) => {
    expect(() => build(cluster())).toThrow(new RegExp(`^${context}: '${prop}(\\.limits\\.memory' \\(512Mi\\) must not be below|' must be a Kubernetes quantity)`));
  });
});

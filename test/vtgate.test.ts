import { Testing } from 'cdk8s';
import { k8s } from '../imports/k8s';
import {
  EtcdCell,
  PodExtensions,
  UserIds,
  VitessRelease,
  Vtgate,
  VtgateMysqlService,
  VtgateProps,
  VtgateServiceType,
  VtgateTlsVersion,
} from '../lib';
import { KUBERNETES_VERSIONS, validateManifests } from './util/k8s-schema';
import { checkInvocations, vitessInvocations } from './util/vitess-reference';
import { container, findObject, testChart } from './util/synth';

/** A vtgate of cell `test` with the given props, and its own synthesized objects (not etcd's). */
function vtgateOf(props: Partial<VtgateProps> = {}) {
  const chart = testChart();
  const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
  const construct = new Vtgate(chart, 'Vtgate', { globalTopology, cell: 'test', ...props });
  const objects = Testing.synth(chart).filter((o) => !o.metadata.name.startsWith('etcd-'));
  return {
    construct,
    objects,
    service: findObject(objects, 'Service', construct.name),
    mysqlService: findObject(objects, 'Service', `${construct.name}-mysql`),
    deployment: findObject(objects, 'Deployment', construct.name),
  };
}

/** Builds a vtgate with the given props in a fresh chart (for the `fails` tests). */
function build(props: Partial<VtgateProps>): Vtgate {
  const chart = testChart();
  const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
  return new Vtgate(chart, 'Vtgate', { globalTopology, cell: 'test', ...props });
}

/** The tag of an image reference, or undefined when it has none. */
function imageTag(image: string): string | undefined {
  const lastSegment = image.split('/').pop()!;
  return lastSegment.includes(':') ? lastSegment.split(':')[1] : undefined;
}

/** Who may reach the MySQL and gRPC ports in {@link OVERRIDES}: one namespace's app pods and one subnet. */
const MYSQL_CLIENTS: k8s.NetworkPolicyPeer[] = [
  {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } },
    podSelector: { matchLabels: { app: 'shop-api' } },
  },
  { ipBlock: { cidr: '10.20.0.0/16', except: ['10.20.5.0/24'] } },
];

/**
 * Every prop but the topology, the cell, `autoscaling` (which excludes `replicas`: see
 * AUTOSCALED_OVERRIDES) and the PodExtensions (pod-extensions.test.ts), none at its default (a new
 * prop does not compile until it is here).
 */
const OVERRIDES: Required<Omit<VtgateProps, 'globalTopology' | 'cell' | 'autoscaling' | keyof PodExtensions>> = {
  clusterName: 'blue',
  release: VitessRelease.V22_0,
  cellsToWatch: ['test', 'test2'],
  replicas: 4,
  mysqlAuthSecretName: 'shop-users',
  serviceType: VtgateServiceType.LOAD_BALANCER,
  serviceAnnotations: { 'service.beta.kubernetes.io/aws-load-balancer-internal': 'true' },
  loadBalancerSourceRanges: ['10.0.0.0/8', '2001:db8::/32'],
  externalTrafficPolicy: 'Local',
  mysqlClients: MYSQL_CLIENTS,
  resources: {
    requests: { cpu: k8s.Quantity.fromString('1'), memory: k8s.Quantity.fromString('1Gi') },
    limits: { cpu: k8s.Quantity.fromString('2'), memory: k8s.Quantity.fromString('1Gi') },
  },
  nodeSelector: { 'node-pool': 'vtgate' },
  tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
  affinity: {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { component: 'vttablet' } } },
        },
      ],
    },
  },
  priorityClassName: 'vitess-serving',
  imagePullSecrets: ['registry-credentials'],
  userIds: UserIds.PLATFORM_ASSIGNED,
  networkPolicy: true,
  buffer: { windowSeconds: 5, maxFailoverDurationSeconds: 30, size: 200, minTimeBetweenFailoversSeconds: 120 },
  tls: {
    secretName: 'vtgate.tls',
    certKey: 'server.pem',
    keyKey: 'server-key.pem',
    caKey: 'client-ca.pem',
    requireSecureTransport: true,
    minVersion: VtgateTlsVersion.TLS_1_3,
  },
};

/** {@link OVERRIDES} with `autoscaling` (every field of it set) instead of `replicas`. */
const AUTOSCALED_OVERRIDES: Omit<typeof OVERRIDES, 'replicas'> & Required<Pick<VtgateProps, 'autoscaling'>> = {
  ...Object.fromEntries(Object.entries(OVERRIDES).filter(([key]) => key !== 'replicas')) as Omit<typeof OVERRIDES, 'replicas'>,
  autoscaling: {
    minReplicas: 2,
    maxReplicas: 12,
    targetCpuUtilizationPercent: 70,
    targetMemoryUtilizationPercent: 85,
    behavior: { scaleDownStabilizationSeconds: 600 },
  },
};

describe('Vtgate', () => {
  test('a Deployment of 3, a ClusterIP Service vtgate-<cell> on 15001, 15991 and 3306, and a Service vtgate-<cell>-mysql on 3306 alone', () => {
    // GIVEN
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    // WHEN
    const vtgate = new Vtgate(chart, 'Vtgate', { globalTopology, cell: 'test' });
    // THEN
    expect(vtgate.mysqlAddress).toBe('vtgate-test:3306');
    expect(vtgate.mysqlService.name).toBe('vtgate-test-mysql');
    expect(vtgate.mysqlService.mysqlAddress).toBe('vtgate-test-mysql:3306');
    const objects = Testing.synth(chart);
    const selector = { app: 'vitess', component: 'vtgate', cell: 'test' };
    const service = findObject(objects, 'Service', 'vtgate-test');
    expect(service.spec).toEqual({
      type: 'ClusterIP',
      selector,
      ports: [
        { name: 'web', port: 15001, targetPort: 15001 },
        { name: 'grpc', port: 15991, targetPort: 15991 },
        { name: 'mysql', port: 3306, targetPort: 3306 },
      ],
    });
    expect(findObject(objects, 'Service', 'vtgate-test-mysql')).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'vtgate-test-mysql', labels: { 'app.kubernetes.io/part-of': 'vitess', ...selector } },
      spec: { type: 'ClusterIP', selector, ports: [{ name: 'mysql', port: 3306, targetPort: 3306 }] },
    });
    const deployment = findObject(objects, 'Deployment', 'vtgate-test');
    expect(deployment.spec.replicas).toBe(3);
    const c = container(deployment, 'vtgate');
    expect(c.args).toEqual([
      '-topo_implementation=etcd2',
      '-topo_global_server_address=http://etcd-global-client:2379',
      '-topo_global_root=/global',
      '-cell=test',
      '-cells_to_watch=test',
      '-tablet_types_to_wait=MASTER,REPLICA',
      '-gateway_implementation=discoverygateway',
      '-port=15001',
      '-grpc_port=15991',
      '-mysql_server_port=3306',
      '-service_map=grpc-vtgateservice',
      '-mysql_auth_server_impl=static',
      '-mysql_auth_server_static_file=/vt/secrets/mysql-auth/users.json',
      '-logtostderr',
    ]);
    expect(c.args.join(' ')).not.toMatch(/password/i);
    expect(c.volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'mysql-auth', mountPath: '/vt/secrets/mysql-auth', readOnly: true },
    ]);
    expect(deployment.spec.template.spec.volumes).toEqual([
      { name: 'tmp', emptyDir: {} },
      { name: 'mysql-auth', secret: { secretName: 'vtgate-test-mysql-auth', items: [{ key: 'users.json', path: 'users.json' }] } },
    ]);
    expect(c.readinessProbe.exec.command.slice(0, 2)).toEqual(['/bin/bash', '-c']);
    expect(findObject(objects, 'PodDisruptionBudget', 'vtgate-test').spec.maxUnavailable).toBe(1);
  });

  test('watches more cells and takes another Service type and Secret', () => {
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    new Vtgate(chart, 'Vtgate', {
      globalTopology,
      cell: 'test',
      cellsToWatch: ['test', 'test2'],
      serviceType: VtgateServiceType.LOAD_BALANCER,
      mysqlAuthSecretName: 'my-users',
      replicas: 2,
    });
    const objects = Testing.synth(chart);
    // The MySQL port alone goes to the load balancer; web and gRPC stay inside the cluster.
    expect(findObject(objects, 'Service', 'vtgate-test').spec.type).toBe('ClusterIP');
    const mysqlService = findObject(objects, 'Service', 'vtgate-test-mysql');
    expect(mysqlService.spec.type).toBe('LoadBalancer');
    expect(mysqlService.spec.ports).toEqual([{ name: 'mysql', port: 3306, targetPort: 3306 }]);
    const deployment = findObject(objects, 'Deployment', 'vtgate-test');
    expect(deployment.spec.replicas).toBe(2);
    expect(container(deployment, 'vtgate').args).toContain('-cells_to_watch=test,test2');
    expect(deployment.spec.template.spec.volumes.find((v: any) => v.name === 'mysql-auth').secret.secretName).toBe('my-users');
  });

  test('fails when cellsToWatch leaves out its own cell', () => {
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    expect(() => new Vtgate(chart, 'Vtgate', { globalTopology, cell: 'test', cellsToWatch: ['other'] })).toThrow(
      /Vtgate: 'cellsToWatch' must include the vtgate's own cell 'test', got \[other\]/,
    );
  });

  test('fails for a bad replica count', () => {
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    expect(() => new Vtgate(chart, 'Vtgate', { globalTopology, cell: 'test', replicas: 1.5 })).toThrow(
      /Vtgate: 'replicas' must be a whole number of at least 1, got 1.5/,
    );
  });
});

describe('Vtgate production defaults', () => {
  test('runs as the numeric vitess user with a restricted, read-only container, a writable /tmp and a pinned image', () => {
    // WHEN
    const { deployment } = vtgateOf();
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
    expect(pod.containers.map((c: any) => c.name)).toEqual(['vtgate']);
    const c = container(deployment, 'vtgate');
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
    });
    expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: {} });
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(imageTag(c.image)).toBe('v9.0.0');
  });

  test('requests CPU and memory and limits memory only', () => {
    const c = container(vtgateOf().deployment, 'vtgate');
    expect(c.resources).toEqual({ requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '512Mi' } });
    expect(c.resources.limits.cpu).toBeUndefined();
  });

  test('ready while /debug/vars counts a serving tablet (a bash script that reads the body), alive on /debug/vars', () => {
    // /debug/health is no use: vtgate's IsHealthy returns nil, so it always says ok
    // (go/vt/vtgate/vtgate.go:228-247 at v0.9.0, :518-543 at v0.22.4 and v0.22.1, :552-572 at
    // v0.24.4). The HealthcheckConnections gauge counts the serving tablets
    // (go/vt/discovery/healthcheck.go:995-1008 at v0.22.4 and v0.22.1, :987-991 at v0.24.4,
    // go/vt/discovery/legacy_healthcheck.go:431-444 at v0.9.0).
    // test/pod.test.ts runs this script against a local server with and without serving tablets.
    for (const release of [VitessRelease.V9_0, VitessRelease.V22_0, VitessRelease.V24_0]) {
      const c = container(vtgateOf({ release }).deployment, 'vtgate');
      expect(c.readinessProbe.httpGet).toBeUndefined();
      expect(c.readinessProbe).toMatchObject({ periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 });
      const [shell, flag, script] = c.readinessProbe.exec.command;
      expect([shell, flag]).toEqual(['/bin/bash', '-c']);
      expect(script).toContain('exec 3<>/dev/tcp/127.0.0.1/15001 || exit 1');
      expect(script).toContain("printf 'GET %s HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' /debug/vars >&3");
      expect(script).toContain(`pattern='^"HealthcheckConnections": *\\{.*": *[1-9]'`);
      expect(script).not.toContain('/debug/health');
    }
    const c = container(vtgateOf().deployment, 'vtgate');
    expect(c.livenessProbe).toEqual({
      httpGet: { path: '/debug/vars', port: 15001 },
      initialDelaySeconds: 30,
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 6,
    });
  });

  test('tells Prometheus to scrape the web port', () => {
    expect(vtgateOf().deployment.spec.template.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '15001',
      'prometheus.io/path': '/metrics',
    });
  });

  test('spreads the replicas across nodes and zones, preferred', () => {
    const { deployment } = vtgateOf();
    const selector = { app: 'vitess', component: 'vtgate', cell: 'test' };
    expect(deployment.spec.selector.matchLabels).toEqual(selector);
    expect(deployment.spec.template.spec.topologySpreadConstraints).toEqual([
      { topologyKey: 'kubernetes.io/hostname', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector } },
      { topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector } },
    ]);
  });

  test('schedules anywhere, with no priority class and no pull secrets, by default', () => {
    const pod = vtgateOf().deployment.spec.template.spec;
    expect(pod.nodeSelector).toBeUndefined();
    expect(pod.tolerations).toBeUndefined();
    expect(pod.affinity).toBeUndefined();
    expect(pod.priorityClassName).toBeUndefined();
    expect(pod.imagePullSecrets).toBeUndefined();
  });

  test('the Services have no annotations, source ranges or traffic policy by default', () => {
    const { service, mysqlService } = vtgateOf();
    for (const s of [service, mysqlService]) {
      expect(s.metadata.annotations).toBeUndefined();
      expect(s.spec.loadBalancerSourceRanges).toBeUndefined();
      expect(s.spec.externalTrafficPolicy).toBeUndefined();
    }
  });

  test('a LoadBalancer MySQL Service takes annotations, source ranges and a traffic policy; the Service with every port stays ClusterIP', () => {
    // WHEN
    const { service: all, mysqlService: service } = vtgateOf({
      serviceType: VtgateServiceType.LOAD_BALANCER,
      serviceAnnotations: { 'networking.gke.io/load-balancer-type': 'Internal' },
      loadBalancerSourceRanges: ['10.0.0.0/8', '192.168.1.0/24', '2001:db8::/32'],
      externalTrafficPolicy: 'Local',
    });
    // THEN
    expect(service.metadata.annotations).toEqual({ 'networking.gke.io/load-balancer-type': 'Internal' });
    expect(service.spec.type).toBe('LoadBalancer');
    expect(service.spec.loadBalancerSourceRanges).toEqual(['10.0.0.0/8', '192.168.1.0/24', '2001:db8::/32']);
    expect(service.spec.externalTrafficPolicy).toBe('Local');
    expect(service.spec.ports).toEqual([{ name: 'mysql', port: 3306, targetPort: 3306 }]);
    expect(all.metadata.annotations).toBeUndefined();
    expect(all.spec).toEqual({
      type: 'ClusterIP',
      selector: { app: 'vitess', component: 'vtgate', cell: 'test' },
      ports: [
        { name: 'web', port: 15001, targetPort: 15001 },
        { name: 'grpc', port: 15991, targetPort: 15991 },
        { name: 'mysql', port: 3306, targetPort: 3306 },
      ],
    });
  });

  test('a NodePort MySQL Service takes a traffic policy', () => {
    const { service, mysqlService } = vtgateOf({ serviceType: VtgateServiceType.NODE_PORT, externalTrafficPolicy: 'Cluster' });
    expect(mysqlService.spec.type).toBe('NodePort');
    expect(mysqlService.spec.externalTrafficPolicy).toBe('Cluster');
    expect(mysqlService.spec.loadBalancerSourceRanges).toBeUndefined();
    expect(service.spec.type).toBe('ClusterIP');
    expect(service.spec.externalTrafficPolicy).toBeUndefined();
  });

  test('a PodDisruptionBudget lets one pod go at a time', () => {
    const pdb = findObject(vtgateOf().objects, 'PodDisruptionBudget', 'vtgate-test');
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { app: 'vitess', component: 'vtgate', cell: 'test' } } });
  });

  test('a NetworkPolicy admits every source to MySQL, gRPC and web by default', () => {
    // WHEN
    const { objects } = vtgateOf();
    // THEN
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Service/vtgate-test',
      'Service/vtgate-test-mysql',
      'Deployment/vtgate-test',
      'PodDisruptionBudget/vtgate-test',
      'NetworkPolicy/vtgate-test',
    ]);
    expect(findObject(objects, 'NetworkPolicy', 'vtgate-test').spec).toEqual({
      podSelector: { matchLabels: { app: 'vitess', component: 'vtgate', cell: 'test' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          ports: [
            { protocol: 'TCP', port: 3306 },
            { protocol: 'TCP', port: 15991 },
          ],
        },
        { ports: [{ protocol: 'TCP', port: 15001 }] },
      ],
    });
  });

  test('mysqlClients admits only those peers to MySQL and gRPC; the web port stays open', () => {
    // WHEN
    const { objects } = vtgateOf({ mysqlClients: MYSQL_CLIENTS });
    // THEN
    expect(findObject(objects, 'NetworkPolicy', 'vtgate-test').spec.ingress).toEqual([
      {
        ports: [
          { protocol: 'TCP', port: 3306 },
          { protocol: 'TCP', port: 15991 },
        ],
        from: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } },
            podSelector: { matchLabels: { app: 'shop-api' } },
          },
          { ipBlock: { cidr: '10.20.0.0/16', except: ['10.20.5.0/24'] } },
        ],
      },
      { ports: [{ protocol: 'TCP', port: 15001 }] },
    ]);
  });

  test('networkPolicy: false leaves the NetworkPolicy out', () => {
    const { objects } = vtgateOf({ networkPolicy: false });
    expect(objects.map((o) => o.kind)).toEqual(['Service', 'Service', 'Deployment', 'PodDisruptionBudget']);
  });

  test('takes every workload option and the resources as given and keeps its spread', () => {
    // GIVEN
    const defaults = vtgateOf().deployment;
    // WHEN
    const { deployment, service, mysqlService } = vtgateOf(OVERRIDES);
    // THEN
    const pod = deployment.spec.template.spec;
    expect(deployment.spec.replicas).toBe(4);
    expect(pod.nodeSelector).toEqual({ 'node-pool': 'vtgate' });
    expect(pod.tolerations).toEqual([{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]);
    expect(pod.affinity).toEqual(OVERRIDES.affinity);
    expect(pod.priorityClassName).toBe('vitess-serving');
    expect(pod.imagePullSecrets).toEqual([{ name: 'registry-credentials' }]);
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.topologySpreadConstraints).toHaveLength(2);
    // The spread of the defaults, over the pods of the cluster named 'blue'.
    const withCluster = (constraints: any[]) =>
      constraints.map((c) => ({ ...c, labelSelector: { matchLabels: { ...c.labelSelector.matchLabels, 'app.kubernetes.io/instance': 'blue' } } }));
    expect(pod.topologySpreadConstraints).toEqual(withCluster(defaults.spec.template.spec.topologySpreadConstraints));
    const c = container(deployment, 'vtgate');
    expect(c.image).toBe('vitess/lite:v22.0.3');
    expect(c.resources).toEqual({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '1Gi' } });
    expect(c.securityContext).toEqual(container(defaults, 'vtgate').securityContext);
    expect(pod.volumes).toEqual([
      { name: 'tmp', emptyDir: {} },
      { name: 'mysql-auth', secret: { secretName: 'shop-users', items: [{ key: 'users.json', path: 'users.json' }] } },
      {
        name: 'mysql-tls',
        secret: {
          secretName: 'vtgate.tls',
          items: [
            { key: 'server.pem', path: 'tls.crt' },
            { key: 'server-key.pem', path: 'tls.key' },
            { key: 'client-ca.pem', path: 'ca.crt' },
          ],
        },
      },
    ]);
    expect(service.metadata.name).toBe('blue-vtgate-test');
    expect(service.spec.type).toBe('ClusterIP');
    expect(mysqlService.metadata.name).toBe('blue-vtgate-test-mysql');
    expect(mysqlService.metadata.annotations).toEqual({ 'service.beta.kubernetes.io/aws-load-balancer-internal': 'true' });
    expect(mysqlService.spec).toEqual({
      type: 'LoadBalancer',
      loadBalancerSourceRanges: ['10.0.0.0/8', '2001:db8::/32'],
      externalTrafficPolicy: 'Local',
      selector: { app: 'vitess', component: 'vtgate', cell: 'test', 'app.kubernetes.io/instance': 'blue' },
      ports: [{ name: 'mysql', port: 3306, targetPort: 3306 }],
    });
    expect(checkInvocations(vitessInvocations([deployment]), 'modern')).toEqual([]);
  });

  test.each(KUBERNETES_VERSIONS)('with every option set, every object is valid Kubernetes %s', (version) => {
    const { objects } = vtgateOf(OVERRIDES);
    expect(objects.map((o) => o.kind)).toEqual(['Service', 'Service', 'Deployment', 'PodDisruptionBudget', 'NetworkPolicy']);
    expect(validateManifests(objects, version)).toEqual([]);
  });

  test.each(KUBERNETES_VERSIONS)('with every option set and autoscaling, every object is valid Kubernetes %s', (version) => {
    const { objects } = vtgateOf(AUTOSCALED_OVERRIDES);
    expect(objects.map((o) => o.kind)).toEqual(['Service', 'Service', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'NetworkPolicy']);
    expect(validateManifests(objects, version)).toEqual([]);
  });

  test.each(KUBERNETES_VERSIONS)('with the defaults, every object is valid Kubernetes %s', (version) => {
    expect(validateManifests(vtgateOf().objects, version)).toEqual([]);
  });

  test('fails for loadBalancerSourceRanges without a LoadBalancer Service', () => {
    expect(() => build({ loadBalancerSourceRanges: ['10.0.0.0/8'] })).toThrow(
      /^Vtgate: 'loadBalancerSourceRanges' needs 'serviceType' LOAD_BALANCER, got 'ClusterIP'$/,
    );
    expect(() => build({ serviceType: VtgateServiceType.NODE_PORT, loadBalancerSourceRanges: ['10.0.0.0/8'] })).toThrow(
      /^Vtgate: 'loadBalancerSourceRanges' needs 'serviceType' LOAD_BALANCER, got 'NodePort'$/,
    );
  });

  test.each(['10.0.0.0/33', 'foo', '10.0.0.0', '256.0.0.0/8', '10.0.0/8', '2001:db8::/129', ':/64', '1:2:3:4:5:6:7:8:9:10/64', '010.0.0.0/8', '10.0.0.0/8/8'])(
    'fails for a source range that is not a CIDR: %s',
    (cidr) => {
      expect(() => build({ serviceType: VtgateServiceType.LOAD_BALANCER, loadBalancerSourceRanges: ['10.0.0.0/8', cidr] })).toThrow(
        `Vtgate: 'loadBalancerSourceRanges' must hold CIDRs such as '10.0.0.0/8', got '${cidr}'`,
      );
    },
  );

  test('fails for externalTrafficPolicy on a ClusterIP Service', () => {
    expect(() => build({ externalTrafficPolicy: 'Local' })).toThrow(
      /^Vtgate: 'externalTrafficPolicy' needs 'serviceType' NODE_PORT or LOAD_BALANCER, got 'ClusterIP'$/,
    );
  });

  test('fails for an unknown externalTrafficPolicy', () => {
    expect(() => build({ serviceType: VtgateServiceType.NODE_PORT, externalTrafficPolicy: 'Nearest' as 'Local' })).toThrow(
      /^Vtgate: 'externalTrafficPolicy' must be 'Cluster' or 'Local', got 'Nearest'$/,
    );
  });

  test('fails for mysqlClients without the NetworkPolicy that applies them', () => {
    expect(() => build({ networkPolicy: false, mysqlClients: [{ podSelector: { matchLabels: { app: 'shop' } } }] })).toThrow(
      /^Vtgate: 'mysqlClients' takes effect only through the NetworkPolicy, but 'networkPolicy' is false$/,
    );
  });

  test('fails for an empty mysqlClients list', () => {
    expect(() => build({ mysqlClients: [] })).toThrow(
      /^Vtgate: 'mysqlClients' must name at least one peer, got none \(leave it out to admit every source\)$/,
    );
  });
});

describe('Vtgate buffering of primary traffic', () => {
  /** The vtgate container's args for the given props. */
  const argsOf = (props: Partial<VtgateProps>): string[] => container(vtgateOf(props).deployment, 'vtgate').args;
  const bufferArgs = (props: Partial<VtgateProps>): string[] => argsOf(props).filter((a) => /buffer/.test(a));

  test('on Vitess v22 by default: --enable_buffer with every limit written out, at Vitess v22\'s defaults', () => {
    // GIVEN vtgate on v22 without a buffer prop
    const deployment = vtgateOf({ release: VitessRelease.V22_0 }).deployment;
    // THEN the buffer is on, with the defaults of go/vt/vtgate/buffer/flags.go:45-56 at v0.22.4 and v0.22.1
    const args: string[] = container(deployment, 'vtgate').args;
    expect(args.filter((a) => /buffer/.test(a))).toEqual([
      '--enable_buffer',
      '--buffer_window=10s',
      '--buffer_max_failover_duration=20s',
      '--buffer_size=1000',
      '--buffer_min_time_between_failovers=60s',
    ]);
    expect(args.indexOf('--enable_buffer')).toBe(args.indexOf('--tablet_types_to_wait=PRIMARY,REPLICA') + 1);
    expect(checkInvocations(vitessInvocations([deployment]), 'modern')).toEqual([]);
  });

  test('on Vitess v9 off by default, as in Vitess', () => {
    expect(bufferArgs({})).toEqual([]);
    expect(bufferArgs({ release: VitessRelease.V9_0 })).toEqual([]);
  });

  test('takes other limits; the ones left out keep their defaults', () => {
    expect(bufferArgs({ release: VitessRelease.V22_0, buffer: OVERRIDES.buffer })).toEqual([
      '--enable_buffer',
      '--buffer_window=5s',
      '--buffer_max_failover_duration=30s',
      '--buffer_size=200',
      '--buffer_min_time_between_failovers=120s',
    ]);
    expect(bufferArgs({ release: VitessRelease.V22_0, buffer: { windowSeconds: 15 } })).toEqual([
      '--enable_buffer',
      '--buffer_window=15s',
      '--buffer_max_failover_duration=20s',
      '--buffer_size=1000',
      '--buffer_min_time_between_failovers=60s',
    ]);
  });

  test('false turns it off on v22', () => {
    expect(bufferArgs({ release: VitessRelease.V22_0, buffer: false })).toEqual([]);
    expect(bufferArgs({ release: VitessRelease.V9_0, buffer: false })).toEqual([]);
  });

  test('options turn it on on v9, with flags known to v9.0.0', () => {
    // GIVEN vtgate on v9 with buffer options
    const deployment = vtgateOf({ release: VitessRelease.V9_0, buffer: {} }).deployment;
    // THEN
    const args: string[] = container(deployment, 'vtgate').args;
    expect(args.filter((a) => /buffer/.test(a))).toEqual([
      '-enable_buffer',
      '-buffer_window=10s',
      '-buffer_max_failover_duration=20s',
      '-buffer_size=1000',
      '-buffer_min_time_between_failovers=60s',
    ]);
    expect(args.indexOf('-enable_buffer')).toBe(args.indexOf('-gateway_implementation=discoverygateway') + 1);
    expect(checkInvocations(vitessInvocations([deployment]), 'legacy')).toEqual([]);
  });

  test.each([
    ['windowSeconds', 0],
    ['windowSeconds', 1.5],
    ['maxFailoverDurationSeconds', -20],
    ['size', 0],
    ['size', Number.NaN],
    ['minTimeBetweenFailoversSeconds', 0],
  ])('fails for buffer.%s %s: vtgate takes whole numbers of at least 1', (key, value) => {
    expect(() => build({ release: VitessRelease.V22_0, buffer: { [key]: value } })).toThrow(
      `Vtgate: 'buffer.${key}' must be a whole number of at least 1, got ${value}`,
    );
  });

  test('fails for a value that is not a number', () => {
    expect(() => build({ release: VitessRelease.V22_0, buffer: { windowSeconds: '10s' as unknown as number } })).toThrow(
      "Vtgate: 'buffer.windowSeconds' must be a whole number of at least 1, got 10s",
    );
  });

  test('fails for a window longer than the failover duration, which vtgate refuses', () => {
    // go/vt/vtgate/buffer/flags.go:67-69 at v0.22.4 and v0.22.1, :58-60 at v0.9.0.
    for (const release of [VitessRelease.V22_0, VitessRelease.V9_0]) {
      expect(() => build({ release, buffer: { windowSeconds: 30 } })).toThrow(
        "Vtgate: 'buffer.windowSeconds' (30) must not exceed 'buffer.maxFailoverDurationSeconds' (20): vtgate holds no request longer than it buffers a failover",
      );
    }
    expect(() => build({ release: VitessRelease.V22_0, buffer: { windowSeconds: 20 } })).not.toThrow();
  });

  test('fails on v9 for failovers closer than twice the failover duration, which vtgate v9 refuses', () => {
    // go/vt/vtgate/buffer/flags.go:64-66 at v0.9.0; v22 asks only for 1 s (flags.go:73-75 at v0.22.4 and v0.22.1).
    expect(() => build({ release: VitessRelease.V9_0, buffer: { minTimeBetweenFailoversSeconds: 39 } })).toThrow(
      "Vtgate: 'buffer.minTimeBetweenFailoversSeconds' (39) must be at least twice 'buffer.maxFailoverDurationSeconds' (20) on Vitess v9.0.0",
    );
    expect(() => build({ release: VitessRelease.V9_0, buffer: { minTimeBetweenFailoversSeconds: 40 } })).not.toThrow();
    expect(() => build({ release: VitessRelease.V22_0, buffer: { minTimeBetweenFailoversSeconds: 1 } })).not.toThrow();
  });

  test('fails for a buffer that is neither options nor false', () => {
    expect(() => build({ release: VitessRelease.V22_0, buffer: true as unknown as false })).toThrow(
      "Vtgate: 'buffer' must be VtgateBufferOptions or false, got true",
    );
    expect(() => build({ release: VitessRelease.V9_0, buffer: null as unknown as false })).toThrow(
      "Vtgate: 'buffer' must be VtgateBufferOptions or false, got null",
    );
  });
});

test('on Vitess v22.0: PRIMARY,REPLICA, no gateway flag, flags known to v22.0.3', () => {
  const chart = testChart();
  const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
  new Vtgate(chart, 'Vtgate', { release: VitessRelease.V22_0, globalTopology, cell: 'test' });
  const deployment = findObject(Testing.synth(chart), 'Deployment', 'vtgate-test');
  const c = container(deployment, 'vtgate');
  expect(c.args).toContain('--cell=test');
  expect(c.args).toContain('--cells_to_watch=test');
  expect(c.args).toContain('--tablet_types_to_wait=PRIMARY,REPLICA');
  expect(c.args.filter((a: string) => a.includes('gateway_implementation'))).toEqual([]);
  expect(checkInvocations(vitessInvocations([deployment]), 'modern')).toEqual([]);
});

describe('Vtgate autoscaling', () => {
  test('a HorizontalPodAutoscaler of the Deployment, which then has no replicas field at all', () => {
    // WHEN
    const { construct, objects, deployment } = vtgateOf({
      autoscaling: { minReplicas: 2, maxReplicas: 10, targetCpuUtilizationPercent: 70, targetMemoryUtilizationPercent: 85, behavior: { scaleDownStabilizationSeconds: 600 } },
    });
    // THEN
    expect('replicas' in deployment.spec).toBe(false);
    expect(construct.autoscaler).toBeDefined();
    expect(findObject(objects, 'HorizontalPodAutoscaler', 'vtgate-test')).toEqual({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'vtgate-test', labels: { 'app.kubernetes.io/part-of': 'vitess', app: 'vitess', component: 'vtgate', cell: 'test' } },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'vtgate-test' },
        minReplicas: 2,
        maxReplicas: 10,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
          { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 85 } } },
        ],
        behavior: { scaleDown: { stabilizationWindowSeconds: 600 } },
      },
    });
  });

  test('targets 80% CPU without targets, as Kubernetes would, but writes it out; no behavior by default', () => {
    const hpa = findObject(vtgateOf({ autoscaling: { minReplicas: 3, maxReplicas: 3 } }).objects, 'HorizontalPodAutoscaler', 'vtgate-test');
    expect(hpa.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
    expect(hpa.spec.behavior).toBeUndefined();
    expect(hpa.spec.minReplicas).toBe(3);
  });

  test('a memory target alone scales on memory alone', () => {
    const hpa = findObject(
      vtgateOf({ autoscaling: { minReplicas: 2, maxReplicas: 4, targetMemoryUtilizationPercent: 75 } }).objects,
      'HorizontalPodAutoscaler',
      'vtgate-test',
    );
    expect(hpa.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 75 } } }]);
  });

  test('a named cluster: the HPA and the Deployment it scales are prefixed', () => {
    const { objects } = vtgateOf({ clusterName: 'blue', autoscaling: { minReplicas: 2, maxReplicas: 4 } });
    const hpa = findObject(objects, 'HorizontalPodAutoscaler', 'blue-vtgate-test');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'blue-vtgate-test' });
    findObject(objects, 'Deployment', 'blue-vtgate-test');
  });

  test('no HPA with a fixed number of replicas', () => {
    const { construct, objects, deployment } = vtgateOf({ replicas: 5 });
    expect(construct.autoscaler).toBeUndefined();
    expect(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')).toEqual([]);
    expect(deployment.spec.replicas).toBe(5);
  });

  test.each([
    ['a single replica', { replicas: 1 }],
    ['100 replicas', { replicas: 100 }],
    ['an autoscaler from 1', { autoscaling: { minReplicas: 1, maxReplicas: 50 } }],
  ] as Array<[string, Partial<VtgateProps>]>)('the PodDisruptionBudget lets one pod go at a time with %s, and never blocks a drain', (_name, props) => {
    // maxUnavailable, not minAvailable: with one replica a minAvailable of 1 would block every eviction.
    const pdb = findObject(vtgateOf(props).objects, 'PodDisruptionBudget', 'vtgate-test');
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { app: 'vitess', component: 'vtgate', cell: 'test' } } });
  });

  test('a limit without a request counts as the request (Kubernetes sets one to the other)', () => {
    const limitsOnly = { limits: { cpu: k8s.Quantity.fromString('1'), memory: k8s.Quantity.fromString('1Gi') } };
    expect(() => build({ resources: limitsOnly, autoscaling: { minReplicas: 2, maxReplicas: 4, targetMemoryUtilizationPercent: 80 } })).not.toThrow();
  });

  test('the flags are those of a fixed vtgate, known to every release', () => {
    for (const [release, reference] of [[VitessRelease.V9_0, 'legacy'], [VitessRelease.V22_0, 'modern'], [VitessRelease.V24_0, 'v24']] as const) {
      const autoscaled = vtgateOf({ release, autoscaling: { minReplicas: 2, maxReplicas: 4 } }).deployment;
      expect(container(autoscaled, 'vtgate').args).toEqual(container(vtgateOf({ release }).deployment, 'vtgate').args);
      expect(checkInvocations(vitessInvocations([autoscaled]), reference)).toEqual([]);
    }
  });

  test('fails for replicas and autoscaling together', () => {
    expect(() => build({ replicas: 3, autoscaling: { minReplicas: 2, maxReplicas: 4 } })).toThrow(
      "Vtgate: 'replicas' (3) and 'autoscaling' exclude each other: with 'autoscaling' the HorizontalPodAutoscaler sets the replicas; give one of them",
    );
  });

  test.each([0, -1, 1.5, Number.NaN])('fails for minReplicas %s', (minReplicas) => {
    expect(() => build({ autoscaling: { minReplicas, maxReplicas: 4 } })).toThrow(
      `Vtgate: 'autoscaling.minReplicas' must be a whole number of at least 1, got ${minReplicas}`,
    );
  });

  test.each([2, 2.5])('fails for maxReplicas %s below minReplicas 3 or not whole', (maxReplicas) => {
    expect(() => build({ autoscaling: { minReplicas: 3, maxReplicas } })).toThrow(
      `Vtgate: 'autoscaling.maxReplicas' must be a whole number of at least minReplicas (3), got ${maxReplicas}`,
    );
  });

  test.each([
    ['targetCpuUtilizationPercent', 0],
    ['targetCpuUtilizationPercent', 50.5],
    ['targetMemoryUtilizationPercent', -10],
  ])('fails for autoscaling.%s %s', (prop, percent) => {
    expect(() => build({ autoscaling: { minReplicas: 2, maxReplicas: 4, [prop]: percent } })).toThrow(
      `Vtgate: 'autoscaling.${prop}' must be a whole number of percent of at least 1, got ${percent}`,
    );
  });

  test('fails for a CPU target without a CPU request', () => {
    const memoryOnly = { requests: { memory: k8s.Quantity.fromString('1Gi') }, limits: { memory: k8s.Quantity.fromString('1Gi') } };
    expect(() => build({ resources: memoryOnly, autoscaling: { minReplicas: 2, maxReplicas: 4 } })).toThrow(
      "Vtgate: 'autoscaling.targetCpuUtilizationPercent' (80) needs a cpu request in 'resources' (the HPA measures utilization against it), got resources without 'requests.cpu'",
    );
    // Memory alone is fine there.
    expect(() => build({ resources: memoryOnly, autoscaling: { minReplicas: 2, maxReplicas: 4, targetMemoryUtilizationPercent: 80 } })).not.toThrow();
  });

  test('fails for a memory target without a memory request', () => {
    const cpuOnly = { requests: { cpu: k8s.Quantity.fromString('1') } };
    expect(() => build({ resources: cpuOnly, autoscaling: { minReplicas: 2, maxReplicas: 4, targetMemoryUtilizationPercent: 70 } })).toThrow(
      "Vtgate: 'autoscaling.targetMemoryUtilizationPercent' (70) needs a memory request in 'resources' (the HPA measures utilization against it), got resources without 'requests.memory'",
    );
  });

  test('fails for a sidecar without the request a target needs', () => {
    const sidecars: k8s.Container[] = [
      { name: 'proxy', image: 'envoy:v1', resources: { requests: { cpu: k8s.Quantity.fromString('100m') } } },
      { name: 'logger', image: 'fluent-bit:3' },
    ];
    expect(() => build({ sidecars, autoscaling: { minReplicas: 2, maxReplicas: 4 } })).toThrow(
      "Vtgate: 'autoscaling.targetCpuUtilizationPercent' (80) needs a cpu request in every container of the pod (the HPA measures a pod " +
        "against the sum of its containers' requests, and ignores the metric when one has none), but sidecar 'logger' has none",
    );
    expect(() => build({ sidecars: sidecars.slice(0, 1), autoscaling: { minReplicas: 2, maxReplicas: 4 } })).not.toThrow();
  });

  test.each([-1, 3601, 1.5])('fails for a scale-down stabilization of %s seconds', (seconds) => {
    expect(() => build({ autoscaling: { minReplicas: 2, maxReplicas: 4, behavior: { scaleDownStabilizationSeconds: seconds } } })).toThrow(
      `Vtgate: 'autoscaling.behavior.scaleDownStabilizationSeconds' must be a whole number from 0 to 3600, got ${seconds}`,
    );
  });

  test('fails for autoscaling that is not options', () => {
    expect(() => build({ autoscaling: 5 as unknown as VtgateProps['autoscaling'] })).toThrow("Vtgate: 'autoscaling' must be VtgateAutoscalingOptions, got 5");
  });
});

describe('Vtgate TLS on the MySQL port', () => {
  /** The TLS args of a vtgate container. */
  const tlsArgs = (args: string[]): string[] => args.filter((a) => /mysql.server.(ssl|tls|require)/.test(a));

  test('none by default: no TLS flag, no TLS volume', () => {
    for (const release of [VitessRelease.V9_0, VitessRelease.V22_0, VitessRelease.V24_0]) {
      const { deployment } = vtgateOf({ release });
      expect(tlsArgs(container(deployment, 'vtgate').args)).toEqual([]);
      expect(deployment.spec.template.spec.volumes.map((v: any) => v.name)).toEqual(['tmp', 'mysql-auth']);
    }
  });

  test('the Secret mounted read-only, the certificate and key flags pointing into it (the kubernetes.io/tls keys by default)', () => {
    // WHEN
    const { deployment } = vtgateOf({ release: VitessRelease.V22_0, tls: { secretName: 'vtgate-cert' } });
    // THEN
    const c = container(deployment, 'vtgate');
    expect(tlsArgs(c.args)).toEqual(['--mysql_server_ssl_cert=/vt/secrets/mysql-tls/tls.crt', '--mysql_server_ssl_key=/vt/secrets/mysql-tls/tls.key']);
    // Right after the MySQL port flag.
    expect(c.args.indexOf('--mysql_server_ssl_cert=/vt/secrets/mysql-tls/tls.crt')).toBe(c.args.indexOf('--mysql_server_port=3306') + 1);
    expect(c.volumeMounts).toContainEqual({ name: 'mysql-tls', mountPath: '/vt/secrets/mysql-tls', readOnly: true });
    expect(deployment.spec.template.spec.volumes).toContainEqual({
      name: 'mysql-tls',
      secret: {
        secretName: 'vtgate-cert',
        items: [
          { key: 'tls.crt', path: 'tls.crt' },
          { key: 'tls.key', path: 'tls.key' },
        ],
      },
    });
    expect(checkInvocations(vitessInvocations([deployment]), 'modern')).toEqual([]);
  });

  test.each([
    ['v9.0', VitessRelease.V9_0, 'legacy' as const, [
      '-mysql_server_ssl_cert=/vt/secrets/mysql-tls/tls.crt',
      '-mysql_server_ssl_key=/vt/secrets/mysql-tls/tls.key',
      '-mysql_server_ssl_ca=/vt/secrets/mysql-tls/ca.crt',
      '-mysql_server_require_secure_transport',
    ]],
    ['v22.0', VitessRelease.V22_0, 'modern' as const, [
      '--mysql_server_ssl_cert=/vt/secrets/mysql-tls/tls.crt',
      '--mysql_server_ssl_key=/vt/secrets/mysql-tls/tls.key',
      '--mysql_server_ssl_ca=/vt/secrets/mysql-tls/ca.crt',
      '--mysql_server_require_secure_transport',
      '--mysql_server_tls_min_version=TLSv1.3',
    ]],
    ['v24.0', VitessRelease.V24_0, 'v24' as const, [
      '--mysql-server-ssl-cert=/vt/secrets/mysql-tls/tls.crt',
      '--mysql-server-ssl-key=/vt/secrets/mysql-tls/tls.key',
      '--mysql-server-ssl-ca=/vt/secrets/mysql-tls/ca.crt',
      '--mysql-server-require-secure-transport',
      '--mysql-server-tls-min-version=TLSv1.3',
    ]],
  ])('on %s every option gives its flag, known to the release', (_name, release, reference, expected) => {
    // GIVEN every option the release has (v9 has no minimum TLS version)
    const tls = {
      secretName: 'vtgate-cert',
      certKey: 'cert.pem',
      keyKey: 'key.pem',
      caKey: 'ca.pem',
      requireSecureTransport: true,
      ...(release === VitessRelease.V9_0 ? {} : { minVersion: VtgateTlsVersion.TLS_1_3 }),
    };
    // WHEN
    const { deployment } = vtgateOf({ release, tls });
    // THEN
    expect(tlsArgs(container(deployment, 'vtgate').args)).toEqual(expected);
    expect(deployment.spec.template.spec.volumes.find((v: any) => v.name === 'mysql-tls').secret.items).toEqual([
      { key: 'cert.pem', path: 'tls.crt' },
      { key: 'key.pem', path: 'tls.key' },
      { key: 'ca.pem', path: 'ca.crt' },
    ]);
    expect(checkInvocations(vitessInvocations([deployment]), reference)).toEqual([]);
  });

  test('requireSecureTransport false gives no flag (vtgate\'s default)', () => {
    const args = container(vtgateOf({ release: VitessRelease.V22_0, tls: { secretName: 's', requireSecureTransport: false } }).deployment, 'vtgate').args;
    expect(tlsArgs(args)).toEqual(['--mysql_server_ssl_cert=/vt/secrets/mysql-tls/tls.crt', '--mysql_server_ssl_key=/vt/secrets/mysql-tls/tls.key']);
  });

  test.each(['Vtgate-Cert', 'vtgate_cert', '-cert', '', 'a'.repeat(254)])('fails for a secretName that is not a DNS subdomain: %s', (secretName) => {
    expect(() => build({ tls: { secretName } })).toThrow(
      `Vtgate: 'tls.secretName' must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', at most 253 characters), got '${secretName}'`,
    );
  });

  test.each([
    ['certKey', 'tls/crt'],
    ['keyKey', '..key'],
    ['caKey', 'ca crt'],
    ['certKey', ''],
  ])('fails for a bad Secret key: %s %s', (prop, key) => {
    expect(() => build({ tls: { secretName: 'vtgate-cert', [prop]: key } })).toThrow(
      `Vtgate: 'tls.${prop}' must be a Secret key (1 to 253 letters, digits, '-', '_' and '.', not '.' and not starting with '..'), got '${key}'`,
    );
  });

  test('fails on v9 for a minimum TLS version, which vtgate v9 has no flag for', () => {
    expect(() => build({ release: VitessRelease.V9_0, tls: { secretName: 'vtgate-cert', minVersion: VtgateTlsVersion.TLS_1_2 } })).toThrow(
      "Vtgate: 'tls.minVersion' ('TLSv1.2') needs the vtgate flag -mysql_server_tls_min_version, which Vitess v9.0.0 does not have; leave 'tls.minVersion' out on this release",
    );
  });

  test('fails for an unknown TLS version', () => {
    expect(() => build({ release: VitessRelease.V22_0, tls: { secretName: 'c', minVersion: 'TLSv1.4' as VtgateTlsVersion } })).toThrow(
      "Vtgate: 'tls.minVersion' must be one of TLSv1.0, TLSv1.1, TLSv1.2, TLSv1.3, got 'TLSv1.4'",
    );
  });

  test('fails for a requireSecureTransport that is not a boolean', () => {
    expect(() => build({ tls: { secretName: 'c', requireSecureTransport: 'yes' as unknown as boolean } })).toThrow(
      `Vtgate: 'tls.requireSecureTransport' must be true or false, got "yes"`,
    );
  });

  test('fails for tls that is not options', () => {
    expect(() => build({ tls: 'vtgate-cert' as unknown as VtgateProps['tls'] })).toThrow(`Vtgate: 'tls' must be VtgateTlsOptions, got "vtgate-cert"`);
  });
});

describe('Vtgate MySQL Services', () => {
  test('the cluster-wide VtgateMysqlService selects every cell\'s vtgates of its cluster, on 3306 alone', () => {
    // GIVEN
    const chart = testChart();
    // WHEN
    const plain = new VtgateMysqlService(chart, 'Plain');
    const blue = new VtgateMysqlService(chart, 'Blue', { clusterName: 'blue', serviceType: VtgateServiceType.LOAD_BALANCER });
    // THEN
    expect(plain.name).toBe('vtgate-mysql');
    expect(plain.mysqlAddress).toBe('vtgate-mysql:3306');
    expect(blue.name).toBe('blue-vtgate-mysql');
    const objects = Testing.synth(chart);
    expect(findObject(objects, 'Service', 'vtgate-mysql').spec).toEqual({
      type: 'ClusterIP',
      selector: { app: 'vitess', component: 'vtgate' },
      ports: [{ name: 'mysql', port: 3306, targetPort: 3306 }],
    });
    expect(findObject(objects, 'Service', 'blue-vtgate-mysql').spec).toEqual({
      type: 'LoadBalancer',
      selector: { app: 'vitess', component: 'vtgate', 'app.kubernetes.io/instance': 'blue' },
      ports: [{ name: 'mysql', port: 3306, targetPort: 3306 }],
    });
    for (const version of KUBERNETES_VERSIONS) {
      expect(validateManifests(objects, version)).toEqual([]);
    }
  });

  test('every Service selects exactly the labels of the vtgate pods it is for', () => {
    // GIVEN vtgates of two cells of cluster blue and the cluster's Service
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    for (const cell of ['one', 'two']) {
      new Vtgate(chart, `Vtgate${cell}`, { globalTopology, cell, clusterName: 'blue' });
    }
    new VtgateMysqlService(chart, 'All', { clusterName: 'blue' });
    const objects = Testing.synth(chart);
    const podLabels = (cell: string) => findObject(objects, 'Deployment', `blue-vtgate-${cell}`).spec.template.metadata.labels;
    const selects = (service: string, cell: string) =>
      Object.entries(findObject(objects, 'Service', service).spec.selector).every(([k, v]) => podLabels(cell)[k] === v);
    // THEN
    expect([selects('blue-vtgate-one', 'one'), selects('blue-vtgate-one-mysql', 'one'), selects('blue-vtgate-mysql', 'one')]).toEqual([true, true, true]);
    expect([selects('blue-vtgate-one', 'two'), selects('blue-vtgate-one-mysql', 'two'), selects('blue-vtgate-mysql', 'two')]).toEqual([false, false, true]);
    expect(findObject(objects, 'Service', 'blue-vtgate-mysql').spec.selector['app.kubernetes.io/instance']).toBe('blue');
  });

  test('the NetworkPolicy admits every Service\'s target port as before: MySQL from mysqlClients, web from all', () => {
    const { objects } = vtgateOf({ mysqlClients: MYSQL_CLIENTS, serviceType: VtgateServiceType.LOAD_BALANCER });
    const policy = findObject(objects, 'NetworkPolicy', 'vtgate-test');
    const admitted = policy.spec.ingress.flatMap((rule: any) => rule.ports.map((p: any) => p.port));
    for (const service of objects.filter((o) => o.kind === 'Service')) {
      for (const port of service.spec.ports) {
        expect(admitted).toContain(port.targetPort);
      }
    }
    expect(policy.spec.ingress[0]).toEqual({
      ports: [
        { protocol: 'TCP', port: 3306 },
        { protocol: 'TCP', port: 15991 },
      ],
      from: MYSQL_CLIENTS,
    });
  });

  test('fails when a MySQL Service is named like a cell\'s Service of all ports (a cell named mysql)', () => {
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    new Vtgate(chart, 'VtgateMysql', { globalTopology, cell: 'mysql' });
    expect(() => new VtgateMysqlService(chart, 'All')).toThrow(
      "VtgateMysqlService test/All: Service 'vtgate-mysql' is already created by test/VtgateMysql; object names must be unique in an app (its files are applied to one namespace)",
    );
  });

  test('fails for a Service name longer than Kubernetes allows', () => {
    // (A Secret name of its own: the default one, <name>-mysql-auth, is longer still and has its own check.)
    const cell = 'c'.repeat(40);
    const mysqlAuthSecretName = 'users';
    // blue-vtgate-<40>-mysql is 58 characters and fits; with a 20-character cluster name the Service of all ports is 68.
    expect(() => build({ cell, clusterName: 'blue', mysqlAuthSecretName })).not.toThrow();
    expect(() => build({ cell, clusterName: 'b'.repeat(20), mysqlAuthSecretName })).toThrow(
      `Vtgate: the Service name '${'b'.repeat(20)}-vtgate-${cell}' is 68 characters long, more than the 63 Kubernetes allows; give a shorter 'cell' or 'clusterName'`,
    );
    expect(() => build({ cell: 'c'.repeat(30), clusterName: 'b'.repeat(20), mysqlAuthSecretName })).toThrow(
      `Vtgate: the Service name '${'b'.repeat(20)}-vtgate-${'c'.repeat(30)}-mysql' is 64 characters long, more than the 63 Kubernetes allows; give a shorter 'cell' or 'clusterName'`,
    );
  });

  test('VtgateMysqlService fails for bad Service options, as Vtgate does', () => {
    const chart = testChart();
    expect(() => new VtgateMysqlService(chart, 'A', { externalTrafficPolicy: 'Local' })).toThrow(
      "VtgateMysqlService: 'externalTrafficPolicy' needs 'serviceType' NODE_PORT or LOAD_BALANCER, got 'ClusterIP'",
    );
    expect(() => new VtgateMysqlService(chart, 'B', { serviceType: VtgateServiceType.LOAD_BALANCER, loadBalancerSourceRanges: ['10.0.0.0'] })).toThrow(
      "VtgateMysqlService: 'loadBalancerSourceRanges' must hold CIDRs such as '10.0.0.0/8', got '10.0.0.0'",
    );
    expect(() => new VtgateMysqlService(chart, 'C', { serviceType: 'ExternalName' as VtgateServiceType })).toThrow(
      "VtgateMysqlService: 'serviceType' must be one of ClusterIP, NodePort, LoadBalancer, got 'ExternalName'",
    );
    expect(() => new VtgateMysqlService(chart, 'D', { cell: 'a-b' })).toThrow(/^VtgateMysqlService: 'cell' must be 1 to 40 lowercase letters or digits/);
  });
});

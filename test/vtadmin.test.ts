import { createHash } from 'crypto';
import * as vm from 'vm';
import { App, Testing } from 'cdk8s';
import * as yaml from 'js-yaml';
import { k8s } from '../imports/k8s';
import {
  CellTopology,
  EtcdCell,
  GlobalTopology,
  PodExtensions,
  UserIds,
  VitessCluster,
  VitessRelease,
  Vtadmin,
  VtadminProps,
  VtadminRbacRule,
  VTADMIN_RBAC_ACTIONS,
  VTADMIN_RBAC_RESOURCES,
  Vtctld,
  Vtgate,
} from '../lib';
import { checkObject } from '../validation';
import { KUBERNETES_VERSIONS, validateManifests } from './util/k8s-schema';
import { container, findObject, testChart } from './util/synth';
import { checkInvocations, ReferenceName, vitessInvocations } from './util/vitess-reference';

const REFERENCE: Record<string, ReferenceName> = { 'v22.0.3': 'modern', 'v24.0.4': 'v24' };

/** A Vtadmin with a vtctld and two cells' vtgates of the release, and its objects. */
function vtadmin(props: Partial<VtadminProps> = {}, release: VitessRelease = VitessRelease.V24_0) {
  const chart = testChart();
  const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
  const clusterName = props.clusterName;
  const vtctld = new Vtctld(chart, 'Vtctld', { release, globalTopology, cell: 'zone1', clusterName });
  const vtgates = ['zone1', 'zone2'].map((cell) => new Vtgate(chart, `Vtgate${cell}`, { release, globalTopology, cell, clusterName }));
  const construct = new Vtadmin(chart, 'Vtadmin', { release, vtctlds: [vtctld], vtgates, ...props });
  const objects = Testing.synth(chart).filter((o) => o.metadata.name.startsWith(construct.name));
  return { construct, objects, vtctld, vtgates };
}

function configData(objects: any[], name = 'vtadmin-config'): Record<string, string> {
  return findObject(objects, 'ConfigMap', name).data;
}

/** `window.env` of the web app's config.js, run as the browser runs it. */
function webEnv(configJs: string): Record<string, unknown> {
  const sandbox: { window: { env?: Record<string, unknown> } } = { window: {} };
  vm.runInNewContext(configJs, sandbox);
  return sandbox.window.env!;
}

const rule = (over: Partial<VtadminRbacRule> = {}): VtadminRbacRule => ({ resource: 'Keyspace', actions: ['get'], subjects: ['*'], clusters: ['*'], ...over });

/** Every prop but the discovery, the PodExtensions and the WorkloadOptions, none at its default (a new prop does not compile until it is here). */
const OVERRIDES: Required<Omit<VtadminProps, 'vtctlds' | 'vtgates' | 'release' | keyof PodExtensions | 'nodeSelector' | 'tolerations' | 'affinity' | 'priorityClassName' | 'imagePullSecrets' | 'userIds' | 'networkPolicy'>> = {
  clusterName: 'blue',
  name: 'blue-admin',
  rbac: { rules: [rule({ actions: ['*'] })] },
  replicas: 2,
  image: 'registry.example.com/vitess/vtadmin:v24.0.4-custom',
  apiResources: { requests: { cpu: k8s.Quantity.fromString('200m'), memory: k8s.Quantity.fromString('256Mi') }, limits: { memory: k8s.Quantity.fromString('256Mi') } },
  webResources: { requests: { cpu: k8s.Quantity.fromString('20m'), memory: k8s.Quantity.fromString('16Mi') }, limits: { memory: k8s.Quantity.fromString('16Mi') } },
  clients: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ops' } } }],
};

describe('Vtadmin', () => {
  test('a ConfigMap, Service, Deployment, PodDisruptionBudget and NetworkPolicy named vtadmin', () => {
    const { construct, objects } = vtadmin();
    expect(construct.name).toBe('vtadmin');
    expect(construct.clusterId).toBe('vitess');
    expect(construct.webAddress).toBe('vtadmin:14201');
    expect(construct.apiAddress).toBe('vtadmin:14200');
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ConfigMap/vtadmin-config',
      'Service/vtadmin',
      'Deployment/vtadmin',
      'PodDisruptionBudget/vtadmin',
      'NetworkPolicy/vtadmin',
    ]);
    const selector = { app: 'vitess', component: 'vtadmin', vtadmin: 'vtadmin' };
    const service = findObject(objects, 'Service', 'vtadmin');
    expect(service.spec.selector).toEqual(selector);
    expect(service.spec.ports).toEqual([
      { name: 'web', port: 14201, targetPort: 14201 },
      { name: 'api', port: 14200, targetPort: 14200 },
    ]);
    const deployment = findObject(objects, 'Deployment', 'vtadmin');
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.selector.matchLabels).toEqual(selector);
    expect(findObject(objects, 'PodDisruptionBudget', 'vtadmin').spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: selector } });
    const policy = findObject(objects, 'NetworkPolicy', 'vtadmin');
    expect(policy.spec.podSelector.matchLabels).toEqual(selector);
    expect(policy.spec.ingress).toEqual([{ ports: [{ protocol: 'TCP', port: 14201 }, { protocol: 'TCP', port: 14200 }] }]);
  });

  test('v24: the API runs /vt/bin/vtadmin of the vitess/vtadmin image with static discovery and the RBAC file, the web runs its nginx', () => {
    const { objects } = vtadmin();
    const pod = findObject(objects, 'Deployment', 'vtadmin').spec.template.spec;
    expect(pod.containers.map((c: any) => c.name)).toEqual(['vtadmin-api', 'vtadmin-web']);
    const api = pod.containers[0];
    expect(api.image).toBe('vitess/vtadmin:v24.0.4');
    expect(api.command).toEqual(['/vt/bin/vtadmin']);
    expect(api.args).toEqual([
      '--addr=:14200',
      '--cluster=id=vitess,name=vitess,discovery=staticfile,discovery-staticfile-path=/vt/vtadmin/discovery.json',
      '--rbac',
      '--rbac-config=/vt/vtadmin/rbac.yaml',
      '--http-no-debug',
    ]);
    expect(api.ports).toEqual([{ name: 'api', containerPort: 14200 }]);
    expect(api.readinessProbe).toEqual({ grpc: { port: 14200 }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 });
    expect(api.livenessProbe).toEqual({ httpGet: { path: '/health', port: 14200 }, initialDelaySeconds: 30, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 });
    expect(api.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '128Mi' } });
    expect(api.volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'api-config', mountPath: '/vt/vtadmin', readOnly: true },
    ]);
    const web = pod.containers[1];
    expect(web.image).toBe('vitess/vtadmin:v24.0.4');
    expect(web.command).toEqual(['nginx', '-c', '/vt/vtadmin-web/nginx.conf', '-e', 'stderr']);
    expect(web.args).toBeUndefined();
    expect(web.ports).toEqual([{ name: 'web', containerPort: 14201 }]);
    expect(web.readinessProbe.httpGet).toEqual({ path: '/', port: 14201 });
    expect(web.livenessProbe.httpGet).toEqual({ path: '/', port: 14201 });
    expect(web.resources).toEqual({ requests: { cpu: '50m', memory: '32Mi' }, limits: { memory: '64Mi' } });
    expect(web.volumeMounts).toEqual([
      { name: 'web-tmp', mountPath: '/tmp' },
      { name: 'web-config', mountPath: '/var/www/config', readOnly: true },
      { name: 'web-nginx', mountPath: '/vt/vtadmin-web', readOnly: true },
    ]);
    for (const c of pod.containers) {
      expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true });
    }
    expect(pod.securityContext.runAsUser).toBe(999);
    expect(pod.volumes).toEqual([
      { name: 'tmp', emptyDir: {} },
      { name: 'web-tmp', emptyDir: {} },
      { name: 'api-config', configMap: { name: 'vtadmin-config', items: [{ key: 'discovery.json', path: 'discovery.json' }, { key: 'rbac.yaml', path: 'rbac.yaml' }] } },
      { name: 'web-config', configMap: { name: 'vtadmin-config', items: [{ key: 'config.js', path: 'config.js' }] } },
      { name: 'web-nginx', configMap: { name: 'vtadmin-config', items: [{ key: 'nginx.conf', path: 'nginx.conf' }] } },
    ]);
    expect(checkInvocations(vitessInvocations(objects), 'v24')).toEqual([]);
    // the reference check sees the API's command line (a check that cannot fail would pass with none)
    expect(vitessInvocations(objects).map((i) => `${i.binary} ${i.where}`)).toEqual(['vtadmin vtadmin-api']);
  });

  test('v22: pflag spelling with --logtostderr, and the v22.0.3 image', () => {
    const { objects } = vtadmin({}, VitessRelease.V22_0);
    const api = container(findObject(objects, 'Deployment', 'vtadmin'), 'vtadmin-api');
    expect(api.image).toBe('vitess/vtadmin:v22.0.3');
    expect(api.args).toEqual([
      '--addr=:14200',
      '--cluster=id=vitess,name=vitess,discovery=staticfile,discovery-staticfile-path=/vt/vtadmin/discovery.json',
      '--rbac',
      '--rbac-config=/vt/vtadmin/rbac.yaml',
      '--http-no-debug',
      '--logtostderr',
    ]);
    expect(container(findObject(objects, 'Deployment', 'vtadmin'), 'vtadmin-web').image).toBe('vitess/vtadmin:v22.0.3');
    expect(checkInvocations(vitessInvocations(objects), 'modern')).toEqual([]);
  });

  test.each([
    ['v22.0.3', VitessRelease.V22_0],
    ['v24.0.4', VitessRelease.V24_0],
  ])('the reference check rejects a flag vtadmin %s does not have', (_, release) => {
    const { objects } = vtadmin({}, release);
    const deployment = findObject(objects, 'Deployment', 'vtadmin');
    container(deployment, 'vtadmin-api').args.push('--no-such-flag');
    expect(checkInvocations(vitessInvocations([deployment]), REFERENCE[release.version])).toEqual([
      "Deployment/vtadmin vtadmin-api: vtadmin: unknown vtadmin flag '--no-such-flag'",
    ]);
  });

  test.each([
    ['v22.0.3', VitessRelease.V22_0],
    ['v24.0.4', VitessRelease.V24_0],
  ])('the validation plugin checks the API command line of %s against vtadmin flags', (_, release) => {
    const { objects } = vtadmin({}, release);
    const deployment = findObject(objects, 'Deployment', 'vtadmin');
    expect(checkObject(deployment, 'vtadmin.k8s.yaml')).toEqual([]);
    container(deployment, 'vtadmin-api').args.push('--rbac_confg=/x');
    const problems = checkObject(deployment, 'vtadmin.k8s.yaml');
    expect(problems.map((p) => p.rule)).toEqual([`unknown flag --rbac_confg for vtadmin (Vitess ${release.version})`]);
  });

  test('the discovery file lists each vtctld and vtgate by its gRPC Service address', () => {
    const { objects } = vtadmin({ clusterName: 'main' });
    const discovery = JSON.parse(configData(objects, 'main-vtadmin-config')['discovery.json']);
    expect(discovery).toEqual({
      vtctlds: [{ host: { hostname: 'main-vtctld:15999' } }],
      vtgates: [
        { host: { hostname: 'main-vtgate-zone1:15991', cell: 'zone1' } },
        { host: { hostname: 'main-vtgate-zone2:15991', cell: 'zone2' } },
      ],
    });
  });

  test('by default, read-only RBAC: get on every resource but VExplain, and the web UI in read-only mode', () => {
    const data = configData(vtadmin().objects);
    const rbac = yaml.load(data['rbac.yaml']) as any;
    expect(Object.keys(rbac)).toEqual(['rules']);
    expect(rbac.rules.map((r: any) => r.resource)).toEqual(VTADMIN_RBAC_RESOURCES.filter((r) => r !== 'VExplain'));
    expect(rbac.rules.map((r: any) => r.resource)).toContain('Cluster');
    for (const r of rbac.rules) {
      expect(r).toEqual({ resource: r.resource, actions: ['get'], subjects: ['*'], clusters: ['*'] });
    }
    expect(webEnv(data['config.js'])).toEqual({
      VITE_VTADMIN_API_ADDRESS: '',
      VITE_FETCH_CREDENTIALS: 'omit',
      VITE_ENABLE_EXPERIMENTAL_TABLET_DEBUG_VARS: 'false',
      VITE_BUGSNAG_API_KEY: '',
      VITE_DOCUMENT_TITLE: '',
      VITE_READONLY_MODE: 'true',
    });
  });

  test('given rules and an authenticator are written as vtadmin reads them; a rule beyond get turns the read-only mode off', () => {
    const rules: VtadminRbacRule[] = [
      { resource: '*', actions: ['get'], subjects: ['*'], clusters: ['*'] },
      { resource: 'Shard', actions: ['planned_failover_shard', 'emergency_failover_shard'], subjects: ['role:dba', 'user:alice'], clusters: ['main'] },
    ];
    const data = configData(vtadmin({ clusterName: 'main', rbac: { rules, authenticator: 'oidc' } }).objects, 'main-vtadmin-config');
    expect(yaml.load(data['rbac.yaml'])).toEqual({ authenticator: 'oidc', rules });
    expect(webEnv(data['config.js']).VITE_READONLY_MODE).toBe('false');
  });

  test('nginx serves the web app as the image does and passes /api/ to the API on the loopback', () => {
    const conf = configData(vtadmin().objects)['nginx.conf'];
    expect(conf).toContain('\n        listen 14201;\n');
    expect(conf).toContain('\n        root /var/www;\n');
    expect(conf).toMatch(/location \^~ \/api\/ \{[^}]*proxy_pass http:\/\/127\.0\.0\.1:14200;[^}]*\}/);
    expect(conf).toMatch(/location \/ \{[^}]*try_files \$uri \/index\.html;[^}]*\}/);
    expect(conf).toContain('\npid /tmp/nginx.pid;\n');
    expect(conf).toContain('\ndaemon off;\n');
    expect(conf).toContain('\nerror_log stderr warn;\n');
    expect(conf).toContain('\n    access_log off;\n');
    for (const temp of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
      expect(conf).toMatch(new RegExp(`\\n    ${temp}_temp_path /tmp/`));
    }
    // balanced braces: nginx would refuse the file otherwise
    expect(conf.split('{').length).toBe(conf.split('}').length);
  });

  test('the pods carry the SHA-256 of the ConfigMap, so that a change of it rolls them', () => {
    const first = vtadmin();
    const hash = findObject(first.objects, 'Deployment', 'vtadmin').spec.template.metadata.annotations['cdk8s-vitess/config-sha256'];
    const data = configData(first.objects);
    const expected = createHash('sha256').update(JSON.stringify(Object.keys(data).sort().map((key) => [key, data[key]]))).digest('hex');
    expect(hash).toBe(expected);
    expect(findObject(vtadmin().objects, 'Deployment', 'vtadmin').spec.template.metadata.annotations['cdk8s-vitess/config-sha256']).toBe(hash);
    const changed = vtadmin({ rbac: { rules: [rule()] } });
    expect(findObject(changed.objects, 'Deployment', 'vtadmin').spec.template.metadata.annotations['cdk8s-vitess/config-sha256']).not.toBe(hash);
    expect(findObject(first.objects, 'Deployment', 'vtadmin').spec.template.metadata.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '14200',
      'prometheus.io/path': '/metrics',
    });
  });

  test('every prop taken', () => {
    const { objects, construct } = vtadmin({ ...OVERRIDES, nodeSelector: { pool: 'ops' }, userIds: UserIds.PLATFORM_ASSIGNED });
    expect(construct.name).toBe('blue-admin');
    expect(construct.clusterId).toBe('blue');
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ConfigMap/blue-admin-config',
      'Service/blue-admin',
      'Deployment/blue-admin',
      'PodDisruptionBudget/blue-admin',
      'NetworkPolicy/blue-admin',
    ]);
    const deployment = findObject(objects, 'Deployment', 'blue-admin');
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.selector.matchLabels['app.kubernetes.io/instance']).toBe('blue');
    const pod = deployment.spec.template.spec;
    expect(pod.nodeSelector).toEqual({ pool: 'ops' });
    expect(pod.securityContext.runAsUser).toBeUndefined();
    expect(pod.containers.map((c: any) => c.image)).toEqual([OVERRIDES.image, OVERRIDES.image]);
    expect(pod.containers[0].resources).toEqual({ requests: { cpu: '200m', memory: '256Mi' }, limits: { memory: '256Mi' } });
    expect(pod.containers[1].resources).toEqual({ requests: { cpu: '20m', memory: '16Mi' }, limits: { memory: '16Mi' } });
    expect(pod.containers[0].args[1]).toBe('--cluster=id=blue,name=blue,discovery=staticfile,discovery-staticfile-path=/vt/vtadmin/discovery.json');
    expect(findObject(objects, 'NetworkPolicy', 'blue-admin').spec.ingress[0].from).toEqual(OVERRIDES.clients);
    expect(webEnv(configData(objects, 'blue-admin-config')['config.js']).VITE_READONLY_MODE).toBe('false');
  });

  test('extraFlags of vtadmin go to the API container, checked against its flags', () => {
    const { objects } = vtadmin({ extraFlags: { vtadmin: { 'http-origin': 'https://admin.example.com' } } });
    const api = container(findObject(objects, 'Deployment', 'vtadmin'), 'vtadmin-api');
    expect(api.args).toContain('--http-origin=https://admin.example.com');
    expect(checkInvocations(vitessInvocations(objects), 'v24')).toEqual([]);
    expect(() => vtadmin({ extraFlags: { vtadmin: { 'http-orign': 'x' } } })).toThrow(/extraFlags\.vtadmin/);
  });

  test('no NetworkPolicy when networkPolicy is false', () => {
    expect(vtadmin({ networkPolicy: false }).objects.map((o) => o.kind)).not.toContain('NetworkPolicy');
  });

  test.each(KUBERNETES_VERSIONS)('is valid Kubernetes %s', (version) => {
    expect(validateManifests(vtadmin().objects, version)).toEqual([]);
    expect(validateManifests(vtadmin({ ...OVERRIDES }, VitessRelease.V22_0).objects, version)).toEqual([]);
  });

  test('fails on Vitess v9.0, which has no VTAdmin image', () => {
    expect(() => vtadmin({}, VitessRelease.V9_0)).toThrow(
      "Vtadmin: 'release' must be a Vitess release with a VTAdmin image (v22 or later), got v9.0.0, whose vtadmin is an early prototype without RBAC or web UI image",
    );
  });

  test('fails on an RBAC resource or action vtadmin does not have', () => {
    expect(() => vtadmin({ rbac: { rules: [rule({ resource: 'Keyspaces' })] } })).toThrow(
      `Vtadmin: 'rbac.rules[0].resource' must be '*' or one of ${VTADMIN_RBAC_RESOURCES.join(', ')}, got 'Keyspaces'`,
    );
    expect(() => vtadmin({ rbac: { rules: [rule(), rule({ actions: ['get', 'list'] })] } })).toThrow(
      `Vtadmin: 'rbac.rules[1].actions' has 'list', which is not '*' or one of ${VTADMIN_RBAC_ACTIONS.join(', ')}`,
    );
  });

  test('fails on a wildcard beside other values, which vtadmin refuses', () => {
    expect(() => vtadmin({ rbac: { rules: [rule({ actions: ['*', 'get'] })] } })).toThrow(
      "Vtadmin: 'rbac.rules[0].actions' may hold '*' only alone (vtadmin refuses a wildcard beside other values), got *, get",
    );
    expect(() => vtadmin({ rbac: { rules: [rule({ clusters: ['*', 'vitess'] })] } })).toThrow(/'rbac\.rules\[0\]\.clusters' may hold '\*' only alone/);
  });

  test('fails on subjects that only an authenticator can match, without one', () => {
    expect(() => vtadmin({ rbac: { rules: [rule({ subjects: ['role:dba'] })] } })).toThrow(
      "Vtadmin: 'rbac.rules[0].subjects' (role:dba) can match only an authenticated request, but 'rbac.authenticator' is not set",
    );
    expect(() => vtadmin({ rbac: { rules: [rule({ subjects: ['dba'] })], authenticator: 'oidc' } })).toThrow(
      "Vtadmin: 'rbac.rules[0].subjects' has 'dba', which is not '*', 'user:<name>' or 'role:<name>'",
    );
  });

  test('fails on a cluster that is not this VTAdmin\'s, empty lists and no rules', () => {
    expect(() => vtadmin({ clusterName: 'main', rbac: { rules: [rule({ clusters: ['other'] })] } })).toThrow(
      "Vtadmin: 'rbac.rules[0].clusters' has 'other', which is not '*' or the cluster ID 'main'",
    );
    expect(() => vtadmin({ rbac: { rules: [rule({ actions: [] })] } })).toThrow("Vtadmin: 'rbac.rules[0].actions' must hold at least one value");
    expect(() => vtadmin({ rbac: { rules: [rule({ actions: ['get', 'get'] })] } })).toThrow("Vtadmin: 'rbac.rules[0].actions' repeats a value: get, get");
    expect(() => vtadmin({ rbac: { rules: [] } })).toThrow("Vtadmin: 'rbac.rules' must hold at least one rule");
  });

  test.each([0, -1, 1.5])('fails on replicas %p', (replicas) => {
    expect(() => vtadmin({ replicas })).toThrow(`Vtadmin: 'replicas' must be a whole number of at least 1, got ${replicas}`);
  });

  test('fails without a vtctld, with a vtctld or vtgate of another release, and on a repeated address', () => {
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    const v22 = new Vtctld(chart, 'Vtctld', { release: VitessRelease.V22_0, globalTopology, cell: 'zone1' });
    const v24gate = new Vtgate(chart, 'Vtgate', { release: VitessRelease.V24_0, globalTopology, cell: 'zone1' });
    const release = VitessRelease.V22_0;
    expect(() => new Vtadmin(chart, 'A', { release, vtctlds: [] })).toThrow("Vtadmin: 'vtctlds' must hold at least one vtctld");
    expect(() => new Vtadmin(chart, 'B', { release: VitessRelease.V24_0, vtctlds: [v22] })).toThrow(
      "Vtadmin: 'vtctlds[0]' runs Vitess v22.0.3, but VTAdmin runs v24.0.4; they must run one release",
    );
    expect(() => new Vtadmin(chart, 'C', { release, vtctlds: [v22], vtgates: [v24gate] })).toThrow("Vtadmin: 'vtgates[0]' runs Vitess v24.0.4");
    expect(() => new Vtadmin(chart, 'D', { release, vtctlds: [v22, v22] })).toThrow("Vtadmin: 'vtctlds[1]' repeats the address 'vtctld:15999'");
  });

  test('fails on clients without a NetworkPolicy or with none, bad resources, names and images', () => {
    expect(() => vtadmin({ clients: [{ podSelector: {} }], networkPolicy: false })).toThrow("Vtadmin: 'clients' takes effect only through the NetworkPolicy");
    expect(() => vtadmin({ clients: [] })).toThrow("Vtadmin: 'clients' must name at least one peer");
    expect(() => vtadmin({ apiResources: { requests: { memory: k8s.Quantity.fromString('1Gi') }, limits: { memory: k8s.Quantity.fromString('1Mi') } } })).toThrow(
      "Vtadmin: 'apiResources.limits.memory' (1Mi) must not be below 'apiResources.requests.memory' (1Gi)",
    );
    expect(() => vtadmin({ name: 'VTAdmin' })).toThrow("Vtadmin: 'name' must be a DNS-1123 label");
    expect(() => vtadmin({ image: 'vitess/vtadmin' })).toThrow("Vtadmin: 'image' must be a pinned image reference (name:tag), got 'vitess/vtadmin'");
  });

  test('fails on a second Vtadmin of the same name', () => {
    const { construct } = vtadmin();
    const chart = construct.node.scope!;
    const vtctld = chart.node.findChild('Vtctld') as Vtctld;
    expect(() => new Vtadmin(chart, 'Again', { release: VitessRelease.V24_0, vtctlds: [vtctld] })).toThrow(/Deployment 'vtadmin' is already created by/);
  });
});

describe('VitessCluster vtadmin', () => {
  function cluster(release: VitessRelease, vtadminSpec: any = {}, extra: any = {}) {
    const app = new App({ outdir: '/tmp/cdk8s-vitess-test-never-written' });
    const c = new VitessCluster(app, 'Cluster', {
      release,
      name: 'main',
      globalTopology: GlobalTopology.managed(),
      cells: [
        { name: 'zone1', zone: 'eu-west-1a' },
        { name: 'zone2', topology: CellTopology.managed({ replicas: 1 }) },
      ],
      vtadmin: vtadminSpec,
      ...extra,
    });
    return { cluster: c, objects: Testing.synth(c.clusterChart) };
  }

  test('no VTAdmin unless asked', () => {
    const app = new App({ outdir: '/tmp/cdk8s-vitess-test-never-written' });
    const c = new VitessCluster(app, 'Cluster', { release: VitessRelease.V24_0, globalTopology: GlobalTopology.managed(), cells: [{ name: 'zone1' }] });
    expect(c.vtadmin).toBeUndefined();
    expect(Testing.synth(c.clusterChart).filter((o) => o.metadata.name.includes('vtadmin'))).toEqual([]);
  });

  test.each([
    ['v22.0.3', VitessRelease.V22_0],
    ['v24.0.4', VitessRelease.V24_0],
  ])('%s: VTAdmin in 00-cluster discovers vtctld and every cell\'s vtgate, in the first cell\'s zone', (_, release) => {
    const { cluster: c, objects } = cluster(release, { replicas: 2, extraFlags: { vtadmin: { 'http-origin': 'https://a.example.com' } } });
    expect(c.vtadmin!.name).toBe('main-vtadmin');
    const mine = objects.filter((o) => o.metadata.name.startsWith('main-vtadmin'));
    expect(mine.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ConfigMap/main-vtadmin-config',
      'Service/main-vtadmin',
      'Deployment/main-vtadmin',
      'PodDisruptionBudget/main-vtadmin',
      'NetworkPolicy/main-vtadmin',
    ]);
    expect(JSON.parse(configData(mine, 'main-vtadmin-config')['discovery.json'])).toEqual({
      vtctlds: [{ host: { hostname: `${c.vtctld.name}:15999` } }],
      vtgates: [
        { host: { hostname: 'main-vtgate-zone1:15991', cell: 'zone1' } },
        { host: { hostname: 'main-vtgate-zone2:15991', cell: 'zone2' } },
      ],
    });
    const deployment = findObject(mine, 'Deployment', 'main-vtadmin');
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions).toEqual([
      { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['eu-west-1a'] },
    ]);
    expect(container(deployment, 'vtadmin-api').args).toContain('--http-origin=https://a.example.com');
    expect(checkInvocations(vitessInvocations(objects), REFERENCE[release.version])).toEqual([]);
    for (const version of KUBERNETES_VERSIONS) {
      expect(validateManifests(mine, version)).toEqual([]);
    }
  });

  test('fails on Vitess v9.0, naming the prop', () => {
    expect(() => cluster(VitessRelease.V9_0)).toThrow(
      "VitessCluster: 'vtadmin': Vtadmin: 'release' must be a Vitess release with a VTAdmin image (v22 or later), got v9.0.0",
    );
  });

  test('fails on an RBAC rule for another cluster, naming the prop', () => {
    expect(() => cluster(VitessRelease.V24_0, { rbac: { rules: [rule({ clusters: ['vitess'] })] } })).toThrow(
      "VitessCluster: 'vtadmin': Vtadmin: 'rbac.rules[0].clusters' has 'vitess', which is not '*' or the cluster ID 'main'",
    );
  });
});

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Testing } from 'cdk8s';
import * as ts from 'typescript';
import { k8s } from '../imports/k8s';
import {
  BackupStorage,
  EtcdCell,
  GlobalTopology,
  Partitioning,
  PodExtensions,
  TabletPoolType,
  TabletShard,
  VitessCluster,
  VitessRelease,
  VtctlJob,
  Vtctld,
  Vtgate,
  Vtorc,
} from '../lib';
import { KUBERNETES_VERSIONS, validateManifests } from './util/k8s-schema';
import { findObject, testChart } from './util/synth';
import { daemonFlagsJson } from '../validation/generate';

/** Every extension, none at its default (a new one does not compile until it is here), for a vtgate. */
const VTGATE_EXTENSIONS: Required<PodExtensions> = {
  extraFlags: { vtgate: { '--buffer_size': 20000, tablet_refresh_interval: '10s', enable_buffer: false } },
  extraEnv: [
    { name: 'GOMAXPROCS', value: '2' },
    { name: 'TZ', value: 'UTC' },
  ],
  extraVolumes: [{ name: 'ca', configMap: { name: 'corp-ca' } }],
  extraVolumeMounts: [{ name: 'ca', mountPath: '/etc/ssl/corp', readOnly: true }],
  sidecars: [{ name: 'proxy', image: 'envoyproxy/envoy:v1.31.0', args: ['--config-path', '/etc/envoy/envoy.yaml'] }],
  initContainers: [{ name: 'wait-dns', image: 'busybox:1.36', command: ['sh', '-c', 'until nslookup vtctld; do sleep 2; done'] }],
  podAnnotations: { 'sidecar.istio.io/inject': 'false', 'prometheus.io/port': '9102' },
  podLabels: { team: 'payments' },
};

function vtgatePod(release: VitessRelease, extensions: PodExtensions): any {
  const chart = testChart();
  const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
  new Vtgate(chart, 'Vtgate', { release, globalTopology, cell: 'test', ...extensions });
  const objects = Testing.synth(chart);
  return { objects, pod: findObject(objects, 'Deployment', 'vtgate-test').spec.template };
}

/** The objects of a v22 shard of two replicas, commerce/0 with tablets 100 and 101, with `extraFlags`. */
function tabletShardObjects(extraFlags: PodExtensions['extraFlags']): any[] {
  const chart = testChart();
  const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
  const vtctld = new Vtctld(chart, 'Vtctld', { release: VitessRelease.V22_0, globalTopology, cell: 'test' });
  new TabletShard(chart, 'Shard', {
    release: VitessRelease.V22_0,
    globalTopology,
    vtctld,
    cell: 'test',
    keyspace: 'commerce',
    shard: '0',
    uidBase: 100,
    replicaCount: 2,
    rdonlyCount: 0,
    backup: BackupStorage.nfs({ server: '10.0.0.5', path: '/exports/vitess' }),
    extraFlags,
  });
  return Testing.synth(chart);
}

function container(pod: any, name: string): any {
  return pod.spec.containers.find((c: any) => c.name === name);
}

describe('PodExtensions on a vtgate (v22)', () => {
  const { objects, pod } = vtgatePod(VitessRelease.V22_0, VTGATE_EXTENSIONS);
  const vtgate = container(pod, 'vtgate');

  test("extraFlags replace the library's flag of the same name where it stands, and add the others at the end", () => {
    const args: string[] = vtgate.args;
    const plain = container(vtgatePod(VitessRelease.V22_0, {}).pod, 'vtgate').args as string[];
    expect(args).toHaveLength(plain.length + 1);
    expect(args.indexOf('--buffer_size=20000')).toBe(plain.indexOf('--buffer_size=1000'));
    expect(args.indexOf('--enable_buffer=false')).toBe(plain.indexOf('--enable_buffer'));
    expect(args[args.length - 1]).toBe('--tablet_refresh_interval=10s');
    expect(args.filter((a) => a.startsWith('--buffer_size'))).toEqual(['--buffer_size=20000']);
  });

  test('extraEnv and extraVolumeMounts go into the library containers, not into the sidecars', () => {
    expect(vtgate.env).toEqual([
      { name: 'GOMAXPROCS', value: '2' },
      { name: 'TZ', value: 'UTC' },
    ]);
    expect(vtgate.volumeMounts).toContainEqual({ name: 'ca', mountPath: '/etc/ssl/corp', readOnly: true });
    expect(pod.spec.volumes).toContainEqual({ name: 'ca', configMap: { name: 'corp-ca' } });
    const proxy = container(pod, 'proxy');
    expect(proxy).toEqual({ name: 'proxy', image: 'envoyproxy/envoy:v1.31.0', args: ['--config-path', '/etc/envoy/envoy.yaml'] });
  });

  test('sidecars follow the library containers; init containers run first, as given', () => {
    expect(pod.spec.containers.map((c: any) => c.name)).toEqual(['vtgate', 'proxy']);
    expect(pod.spec.initContainers).toEqual([VTGATE_EXTENSIONS.initContainers[0]]);
    // The library's containers keep their restricted security context.
    expect(vtgate.securityContext.readOnlyRootFilesystem).toBe(true);
  });

  test("annotations over the library's, labels beside them (selectors unchanged)", () => {
    expect(pod.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102', 'prometheus.io/path': '/metrics', 'sidecar.istio.io/inject': 'false' });
    expect(pod.metadata.labels.team).toBe('payments');
    const deployment = findObject(objects, 'Deployment', 'vtgate-test');
    expect(deployment.spec.selector.matchLabels.team).toBeUndefined();
  });

  test.each(KUBERNETES_VERSIONS)('every object is valid Kubernetes %s', (version) => {
    expect(validateManifests(objects, version)).toEqual([]);
  });
});

describe('extraFlags follow the release', () => {
  test('v24 writes the dashed names and matches them with the library flags', () => {
    const { pod } = vtgatePod(VitessRelease.V24_0, { extraFlags: { vtgate: { buffer_size: 5, '--tablet-refresh-interval': '10s' } } });
    const args: string[] = container(pod, 'vtgate').args;
    expect(args.filter((a) => a.startsWith('--buffer-size'))).toEqual(['--buffer-size=5']);
    expect(args).toContain('--tablet-refresh-interval=10s');
  });

  test('v9 writes single-dash flags', () => {
    const { pod } = vtgatePod(VitessRelease.V9_0, { extraFlags: { vtgate: { '--tablet_refresh_interval': '10s' } } });
    expect(container(pod, 'vtgate').args).toContain('-tablet_refresh_interval=10s');
  });

  test('a tablet takes flags of vttablet and mysqlctld, each in its own container', () => {
    const objects = tabletShardObjects({ vttablet: { 'queryserver-config-pool-size': 32 }, mysqlctld: { mysql_port: 3307 } });
    const template = findObject(objects, 'StatefulSet', 'vttablet-101').spec.template;
    expect(container(template, 'vttablet').args).toContain('--queryserver-config-pool-size=32');
    const mysql = container(template, 'mysql').args as string[];
    expect(mysql.filter((a) => a.startsWith('--mysql_port'))).toEqual(['--mysql_port=3307']);
    expect(container(template, 'vttablet').args).not.toContain('--mysql_port=3307');
  });

  test('VTOrc and vtctld take their own flags', () => {
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    new Vtctld(chart, 'Vtctld', { release: VitessRelease.V22_0, globalTopology, cell: 'test', extraFlags: { vtctld: { action_timeout: '2h' } } });
    new Vtorc(chart, 'Vtorc', { release: VitessRelease.V22_0, globalTopology, extraFlags: { vtorc: { 'instance-poll-time': '2s' } } });
    const objects = Testing.synth(chart);
    expect(container(findObject(objects, 'Deployment', 'vtctld').spec.template, 'vtctld').args).toContain('--action_timeout=2h');
    expect(container(findObject(objects, 'Deployment', 'vtorc').spec.template, 'vtorc').args).toContain('--instance-poll-time=2s');
  });

  test("command Jobs take the environment, labels and annotations of vtctld's jobOptions", () => {
    const chart = testChart();
    const globalTopology = new EtcdCell(chart, 'Global', { cell: 'global' });
    const vtctld = new Vtctld(chart, 'Vtctld', {
      release: VitessRelease.V22_0,
      globalTopology,
      cell: 'test',
      jobOptions: { extraEnv: [{ name: 'TZ', value: 'UTC' }], podLabels: { team: 'payments' }, podAnnotations: { 'sidecar.istio.io/inject': 'false' } },
    });
    new VtctlJob(chart, 'Job', { vtctld, jobName: 'vtctl-getcellinfonames', commands: [['GetCellInfoNames']] });
    const template = findObject(Testing.synth(chart), 'Job', 'vtctl-getcellinfonames').spec.template;
    expect(template.spec.containers[0].env).toEqual([{ name: 'TZ', value: 'UTC' }]);
    expect(template.metadata.labels.team).toBe('payments');
    expect(template.metadata.annotations).toEqual({ 'sidecar.istio.io/inject': 'false' });
  });
});

describe('PodExtensions reject what would break the pods, naming the prop and the value', () => {
  const build = (release: VitessRelease, extensions: PodExtensions) => () => vtgatePod(release, extensions);

  test('fails on a flag the binary does not have in the release, naming the closest ones', () => {
    expect(build(VitessRelease.V22_0, { extraFlags: { vtgate: { tablet_refresh_intervall: '10s' } } })).toThrow(
      "Vtgate: 'extraFlags.vtgate.tablet_refresh_intervall' is not a flag of vtgate in Vitess v22.0.3; the closest are --tablet_refresh_interval",
    );
  });

  test('fails on a v22 spelling on v24, whose flags are dashed... and accepts it written as v24 writes it', () => {
    expect(build(VitessRelease.V24_0, { extraFlags: { vtgate: { '--tablet_refresh_interval': '10s' } } })).not.toThrow();
    expect(build(VitessRelease.V24_0, { extraFlags: { vtgate: { '--no_such_flag': '1' } } })).toThrow(
      "Vtgate: 'extraFlags.vtgate.--no_such_flag' is not a flag of vtgate in Vitess v24.0.4",
    );
  });

  test('fails on a flag of another binary', () => {
    expect(build(VitessRelease.V22_0, { extraFlags: { vtgate: { 'queryserver-config-pool-size': 32 } } })).toThrow(
      "Vtgate: 'extraFlags.vtgate.queryserver-config-pool-size' is not a flag of vtgate in Vitess v22.0.3",
    );
  });

  test("fails on a v22 flag in another spelling than v22's own (v22 does not normalize names)", () => {
    expect(() => tabletShardObjects({ vttablet: { queryserver_config_pool_size: 32 } })).toThrow(
      "TabletShard: 'extraFlags.vttablet.queryserver_config_pool_size' is not a flag of vttablet in Vitess v22.0.3; the closest are --queryserver-config-pool-size",
    );
  });

  test('fails on a binary the pods do not run', () => {
    expect(build(VitessRelease.V22_0, { extraFlags: { vttablet: { port: 1 } } })).toThrow(
      "Vtgate: 'extraFlags.vttablet' names a binary that these pods do not run; they run vtgate",
    );
    expect(() => new EtcdCell(testChart(), 'Etcd', { cell: 'global', extraFlags: { etcd: { 'snapshot-count': 1 } } })).toThrow(
      "EtcdCell: 'extraFlags.etcd' names a binary that these pods do not run; they run no Vitess daemon",
    );
  });

  test('fails on a bad flag name or value', () => {
    expect(build(VitessRelease.V22_0, { extraFlags: { vtgate: { 'Buffer Size': 1 } } })).toThrow(
      "Vtgate: 'extraFlags.vtgate' has the flag name 'Buffer Size'; a flag name is lowercase letters, digits, '_' and '-', with or without leading dashes",
    );
    expect(build(VitessRelease.V22_0, { extraFlags: { vtgate: { buffer_size: [1] as unknown as number } } })).toThrow(
      "Vtgate: 'extraFlags.vtgate.buffer_size' must be a string, a number or a boolean, got [1]",
    );
  });

  test('fails on a repeated environment variable', () => {
    expect(build(VitessRelease.V22_0, { extraEnv: [{ name: 'TZ', value: 'UTC' }, { name: 'TZ', value: 'CET' }] })).toThrow(
      "Vtgate: 'extraEnv' names the variable 'TZ' more than once",
    );
  });

  test("fails on a volume, a mount path or a container the library's pods already have", () => {
    expect(build(VitessRelease.V22_0, { extraVolumes: [{ name: 'mysql-auth', emptyDir: {} }] })).toThrow(
      "Vtgate: 'extraVolumes' has a volume named 'mysql-auth', which the library's pods already have",
    );
    expect(build(VitessRelease.V22_0, { extraVolumes: [{ name: 'x', emptyDir: {} }], extraVolumeMounts: [{ name: 'x', mountPath: '/tmp' }] })).toThrow(
      "Vtgate: 'extraVolumeMounts' mounts 'x' at /tmp, where container 'vtgate' already mounts 'tmp'",
    );
    expect(build(VitessRelease.V22_0, { extraVolumeMounts: [{ name: 'nope', mountPath: '/nope' }] })).toThrow(
      "Vtgate: 'extraVolumeMounts' mounts the volume 'nope', which is neither the library's nor in 'extraVolumes'",
    );
    expect(build(VitessRelease.V22_0, { sidecars: [{ name: 'vtgate', image: 'x' }] })).toThrow(
      "Vtgate: 'sidecars' has a container named 'vtgate', which the pods already have",
    );
    expect(build(VitessRelease.V22_0, { sidecars: [{ name: 'a', image: 'x' }], initContainers: [{ name: 'a', image: 'x' }] })).toThrow(
      "Vtgate: 'initContainers' has a container named 'a', which the pods already have",
    );
  });

  test("fails on a label that would replace one of the library's", () => {
    expect(build(VitessRelease.V22_0, { podLabels: { component: 'gateway' } })).toThrow(
      "Vtgate: 'podLabels.component' would replace the library's label component=vtgate, which selects the pods",
    );
  });
});

test('the extension types are what the library containers take', () => {
  // A compile-time check: an EnvVar from a Secret, as a user would add credentials.
  const env: k8s.EnvVar = { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } };
  const { pod } = vtgatePod(VitessRelease.V22_0, { extraEnv: [env] });
  expect(container(pod, 'vtgate').env).toEqual([env]);
});

test('lib/data/vitess-daemon-flags.json is what npm run generate:flags writes from the reference data now', () => {
  const committed = fs.readFileSync(path.join(__dirname, '..', 'lib', 'data', 'vitess-daemon-flags.json'), 'utf8');
  expect(committed).toBe(daemonFlagsJson());
  const data = JSON.parse(committed);
  expect(Object.keys(data)).toEqual(['v9.0.0', 'v22.0.3', 'v24.0.4']);
  expect(Object.keys(data['v24.0.4'].binaries)).toEqual(['mysqlctld', 'vtadmin', 'vtctld', 'vtgate', 'vtorc', 'vttablet']);
  expect(Object.keys(data['v22.0.3'].binaries)).toEqual(['mysqlctld', 'vtadmin', 'vtctld', 'vtgate', 'vtorc', 'vttablet']);
  // v9.0.0 has no VTAdmin the library runs (reference/vtadmin-flags.json has no entry for it).
  expect(Object.keys(data['v9.0.0'].binaries)).toEqual(['mysqlctld', 'vtctld', 'vtgate', 'vttablet']);
  // Every release the library offers has its flag lists.
  for (const release of [VitessRelease.V9_0, VitessRelease.V22_0, VitessRelease.V24_0]) {
    expect(data[release.version]).toBeDefined();
  }
});

test("the README's way to reach a generated object: findAll and a JSON patch", () => {
  // GIVEN the sample of "Adding to the generated pods", run on a cluster
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const section = readme.split(/^### /m).find((s) => s.startsWith('Adding to the generated pods\n'))!;
  const sample = /```ts\n([\s\S]*?)```/.exec(section)![1];
  const app = new App({ outdir: path.join(os.tmpdir(), 'cdk8s-vitess-test-readme-never-written') });
  const cluster = new VitessCluster(app, 'Cluster', {
    release: VitessRelease.V22_0,
    globalTopology: GlobalTopology.managed(),
    cells: [{ name: 'zone1' }],
    keyspaces: [{ name: 'commerce', partitionings: [Partitioning.equal(1)], tabletPools: [{ cell: 'zone1', type: TabletPoolType.REPLICA, replicas: 2 }] }],
  });
  const js = ts.transpileModule(sample, { compilerOptions: { module: ts.ModuleKind.CommonJS } }).outputText;

  // WHEN
  new Function('require', 'exports', 'cluster', js)(require, {}, cluster);

  // THEN the first tablet's StatefulSet has the patch, the others not
  const shardChart = cluster.shards[0].chart.toJson();
  const statefulSets = shardChart.filter((o: any) => o.kind === 'StatefulSet');
  expect(statefulSets.map((o: any) => o.spec.template.spec.hostNetwork)).toEqual([false, undefined]);
});

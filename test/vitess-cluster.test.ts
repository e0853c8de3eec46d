import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdk8s';
import * as ts from 'typescript';
import {
  BackupStorage,
  CellTopology,
  GlobalTopology,
  KeyspaceSpec,
  Partitioning,
  ReshardOptions,
  TabletPoolType,
  VReplicationResharding,
  VitessCluster,
  VitessClusterProps,
  VitessRelease,
  VtgateServiceType,
  VtgateTlsVersion,
  VtworkerResharding,
} from '../lib';
import { k8s } from '../imports/k8s';
import { KUBERNETES_VERSIONS, validateManifests } from './util/k8s-schema';
import { checkInvocations, vitessInvocations } from './util/vitess-reference';
import { baseName, findObject } from './util/synth';
import { fnv1a32 } from '../lib/internal/names';

/** An app that the tests read with toJson() and never write. */
function newApp(): App {
  return new App({ outdir: path.join(os.tmpdir(), 'cdk8s-vitess-test-cluster-never-written') });
}

const REPLICA = TabletPoolType.REPLICA;
const RDONLY = TabletPoolType.RDONLY;

/** Two cells (zone1 with an etcd of its own, zone2 inside the global one), two keyspaces. */
function twoCellProps(release: VitessRelease = VitessRelease.V22_0): VitessClusterProps {
  return {
    release,
    namespace: 'vitess',
    globalTopology: GlobalTopology.managed(),
    cells: [
      { name: 'zone1', zone: 'eu-west-1a', topology: CellTopology.managed() },
      { name: 'zone2', zone: 'eu-west-1b', vtgate: { replicas: 2 } },
    ],
    backup: BackupStorage.nfs({ server: 'nfs.example.internal', path: '/exports/vitess' }),
    keyspaces: [
      {
        name: 'commerce',
        partitionings: [Partitioning.equal(1)],
        schema: { product: 'CREATE TABLE product (sku VARBINARY(128), PRIMARY KEY (sku))' },
        tabletPools: [
          { cell: 'zone1', type: REPLICA, replicas: 2 },
          { cell: 'zone2', type: REPLICA, replicas: 1 },
        ],
      },
      {
        name: 'customer',
        partitionings: [Partitioning.keyRanges(['-80', '80-'])],
        tabletPools: [
          { cell: 'zone1', type: REPLICA, replicas: 2 },
          { cell: 'zone1', type: RDONLY, replicas: 1 },
        ],
      },
    ],
  };
}

/**
 * The same cluster on v9, whose shards keep their tablets in one cell (InitShardMaster needs every
 * tablet of the shard): commerce's zone2 replica moves to zone1.
 */
function v9Props(): VitessClusterProps {
  const props = twoCellProps(VitessRelease.V9_0);
  return {
    ...props,
    keyspaces: [{ ...props.keyspaces![0], tabletPools: [{ cell: 'zone1', type: REPLICA, replicas: 3 }] }, props.keyspaces![1]],
  };
}

/** Every chart's objects by chart id. */
function synth(props: VitessClusterProps): { cluster: VitessCluster; files: Map<string, any[]> } {
  const app = newApp();
  const cluster = new VitessCluster(app, 'Cluster', props);
  const files = new Map(app.charts.map((chart) => [chart.node.id, chart.toJson()]));
  return { cluster, files };
}

function names(objects: any[]): string[] {
  return objects.map((o) => `${o.kind}/${baseName(o)}`);
}

describe('VitessCluster, two cells and two keyspaces on v22', () => {
  const { cluster, files } = synth(twoCellProps());
  const all = [...files.values()].flat();

  test('the charts are the ordered files', () => {
    expect([...files.keys()]).toEqual([
      '00-cluster',
      '01-tablets-commerce-0',
      '01-tablets-customer--80',
      '01-tablets-customer-80-',
      '02-init',
    ]);
  });

  test('00-cluster holds both etcd clusters, vtctld, a vtgate per cell and VTOrc', () => {
    const objects = names(files.get('00-cluster')!);
    expect(objects.filter((n) => n.startsWith('StatefulSet/') || n.startsWith('Deployment/'))).toEqual([
      'StatefulSet/etcd-global',
      'StatefulSet/etcd-zone1',
      'Deployment/vtctld',
      'Deployment/vtgate-zone1',
      'Deployment/vtgate-zone2',
      'Deployment/vtorc',
    ]);
    expect(findObject(files.get('00-cluster')!, 'Deployment', 'vtgate-zone2').spec.replicas).toBe(2);
    expect(cluster.vtorc).toBeDefined();
  });

  test('tablet UIDs: a block of 100 per shard and cell, at the FNV-1a hash of keyspace/shard/cell', () => {
    const uids = cluster.shards.map((s) => [s.keyspace, s.shard, s.tabletShards.map((t) => [t.cell, t.tablets.map((tab) => tab.uid)])]);
    const block = (name: string) => 100 + (fnv1a32(name) % 42949671) * 100;
    expect(uids).toEqual([
      ['commerce', '0', [['zone1', [block('commerce/0/zone1'), block('commerce/0/zone1') + 1]], ['zone2', [block('commerce/0/zone2')]]]],
      ['customer', '-80', [['zone1', [0, 1, 2].map((i) => block('customer/-80/zone1') + i)]]],
      ['customer', '80-', [['zone1', [0, 1, 2].map((i) => block('customer/80-/zone1') + i)]]],
    ]);
    // The values themselves, so that a change of the hash cannot pass unseen: it would move every
    // running tablet to a new StatefulSet.
    expect(uids.map(([, , cells]) => (cells as [string, number[]][]).map(([, list]) => list[0]))).toEqual([[3772060000, 1154854800], [3542795600], [1598922500]]);
    const statefulSets = all.filter((o) => o.kind === 'StatefulSet' && o.metadata.name.startsWith('vttablet-'));
    expect(statefulSets).toHaveLength(9);
    expect(findObject(all, 'StatefulSet', 'vttablet-3772060001').metadata.labels.shard).toBe('0');
  });

  test('tablet UIDs do not move when keyspaces, cells, partitionings or pools are added before them', () => {
    const props = twoCellProps();
    const [commerce, customer] = props.keyspaces!;
    const grown: VitessClusterProps = {
      ...props,
      cells: [{ name: 'zone0' }, ...props.cells],
      keyspaces: [
        { name: 'lookup', partitionings: [Partitioning.equal(1)], tabletPools: [{ cell: 'zone0', type: REPLICA, replicas: 2 }] },
        { ...commerce, partitionings: [...commerce.partitionings, Partitioning.equal(2)], tabletPools: [{ cell: 'zone0', type: REPLICA, replicas: 1 }, ...commerce.tabletPools] },
        customer,
      ],
    };
    const uidsOf = (c: VitessCluster) =>
      Object.fromEntries(c.shards.flatMap((s) => s.tabletShards.map((t) => [`${s.keyspace}/${s.shard}/${t.cell}`, t.tablets.map((tab) => tab.uid)])));
    const before = uidsOf(cluster);
    const after = uidsOf(synth(grown).cluster);
    for (const [key, uids] of Object.entries(before)) {
      expect([key, after[key]]).toEqual([key, uids]);
    }
  });

  test('02-init: a registration per cell, keyspace and durability Jobs, one election per shard, the schema', () => {
    const jobs = files.get('02-init')!.filter((o) => o.kind === 'Job').map((o) => baseName(o));
    expect(jobs.filter((n) => n.startsWith('vtctl-addcellinfo-'))).toEqual(['vtctl-addcellinfo-zone1', 'vtctl-addcellinfo-zone2']);
    expect(jobs.filter((n) => n.startsWith('vtctl-createkeyspace-'))).toEqual(['vtctl-createkeyspace-commerce', 'vtctl-createkeyspace-customer']);
    expect(jobs.filter((n) => n.startsWith('vtctl-setkeyspacedurabilitypolicy-'))).toHaveLength(2);
    expect(cluster.electionJobs).toHaveLength(3);
    expect(jobs).toContain('vtctl-applyschema-commerce-product');
    // One election per shard, whatever the number of cells with tablets.
    const elections = vitessInvocations(files.get('02-init')!).filter((i) => i.args.includes('PlannedReparentShard'));
    expect(new Set(elections.map((i) => i.args[i.args.indexOf('PlannedReparentShard') + 1 + i.args.slice(i.args.indexOf('PlannedReparentShard') + 1).findIndex((a) => !a.startsWith('-'))]))).toEqual(
      new Set(['commerce/0', 'customer/-80', 'customer/80-']),
    );
  });

  test('zone affinity on every pod of a cell', () => {
    const tablet = findObject(all, 'StatefulSet', 'vttablet-1154854800');
    expect(tablet.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([
      { matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['eu-west-1b'] }] },
    ]);
    const vtgate = findObject(all, 'Deployment', 'vtgate-zone1');
    expect(JSON.stringify(vtgate.spec.template.spec.affinity)).toContain('eu-west-1a');
  });

  test('the cell inside the global topology is registered with the global etcd, the managed one with its own', () => {
    expect(cluster.cellTopologies.zone2.clientAddress).toBe(cluster.globalTopology.clientAddress);
    expect(cluster.cellTopologies.zone1.clientAddress).not.toBe(cluster.globalTopology.clientAddress);
    const addCellInfo = vitessInvocations([findObject(all, 'Job', 'vtctl-addcellinfo-zone2')]).find((i) => i.args.includes('AddCellInfo'))!;
    expect(addCellInfo.args.join(' ')).toContain(cluster.globalTopology.clientAddress);
  });

  test('every object is in the namespace', () => {
    expect(all.filter((o) => o.metadata.namespace !== 'vitess').map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
  });

  test('object names are unique per kind', () => {
    const seen = names(all);
    expect(seen.filter((n, i) => seen.indexOf(n) !== i)).toEqual([]);
  });

  test('every Vitess flag and command is known to Vitess v22', () => {
    expect(checkInvocations(vitessInvocations(all), 'modern')).toEqual([]);
  });

  test.each(KUBERNETES_VERSIONS)('every object is valid Kubernetes %s', (version) => {
    expect(validateManifests(all, version)).toEqual([]);
  });
});

describe('VitessCluster on v9', () => {
  const { cluster, files } = synth(v9Props());
  const all = [...files.values()].flat();

  test('no VTOrc and no keyspace Jobs; InitShardMaster elects', () => {
    expect(cluster.vtorc).toBeUndefined();
    const jobs = files.get('02-init')!.filter((o) => o.kind === 'Job').map((o) => baseName(o));
    expect(jobs.filter((n) => n.includes('keyspace'))).toEqual([]);
    expect(vitessInvocations(files.get('02-init')!).filter((i) => i.args.includes('InitShardMaster'))).not.toHaveLength(0);
  });

  test('every Vitess flag and command is known to Vitess v9', () => {
    expect(checkInvocations(vitessInvocations(all), 'legacy')).toEqual([]);
  });

  test.each(KUBERNETES_VERSIONS)('every object is valid Kubernetes %s', (version) => {
    expect(validateManifests(all, version)).toEqual([]);
  });
});

describe('VitessCluster options', () => {
  test('vtorc: false leaves VTOrc out; vtorc: true on v9 is the error of Vtorc', () => {
    const { cluster, files } = synth({ ...twoCellProps(), vtorc: false });
    expect(cluster.vtorc).toBeUndefined();
    expect([...files.values()].flat().filter((o) => o.metadata.name === 'vtorc')).toEqual([]);
    expect(() => new VitessCluster(newApp(), 'Cluster', { ...v9Props(), vtorc: true })).toThrow(
      "Vtorc: 'release' must be Vitess v16 or later, got v9.0.0",
    );
  });

  test("a schema Job waits for a primary in every shard of its keyspace", () => {
    const props = twoCellProps();
    const keyspaces = [props.keyspaces![0], { ...props.keyspaces![1], schema: { customer: 'CREATE TABLE customer (id BIGINT, PRIMARY KEY (id))' } }];
    const { files } = synth({ ...props, keyspaces });
    const job = findObject(files.get('02-init')!, 'Job', 'vtctl-applyschema-customer-customer');
    const script = JSON.stringify(job);
    expect(script).toContain('shard customer/-80 has a primary');
    expect(script).toContain('shard customer/80- has a primary');
  });
});

describe('VitessCluster with external topologies', () => {
  test('no etcd is run; the addresses are used as given', () => {
    const { cluster, files } = synth({
      release: VitessRelease.V22_0,
      globalTopology: GlobalTopology.external('etcd.example.internal:2379'),
      cells: [{ name: 'zone1', topology: CellTopology.external('etcd-zone1.example.internal:2379') }],
      keyspaces: [{ name: 'commerce', partitionings: [Partitioning.equal(1)], tabletPools: [{ cell: 'zone1', type: REPLICA, replicas: 1 }] }],
    });
    const all = [...files.values()].flat();
    expect(all.filter((o) => o.kind === 'StatefulSet' && o.metadata.name.startsWith('etcd'))).toEqual([]);
    expect(cluster.globalTopology.clientAddress).toBe('etcd.example.internal:2379');
    const addCellInfo = vitessInvocations([findObject(all, 'Job', 'vtctl-addcellinfo-zone1')]).find((i) => i.args.includes('AddCellInfo'))!;
    expect(addCellInfo.args.join(' ')).toContain('etcd-zone1.example.internal:2379');
    expect(JSON.stringify(findObject(all, 'Deployment', 'vtctld'))).toContain('etcd.example.internal:2379');
  });

  test('explicit uidBase per keyspace: its blocks one after the other, in declaration order', () => {
    const props = twoCellProps();
    const keyspaces = [{ ...props.keyspaces![0], uidBase: 100 }, { ...props.keyspaces![1], uidBase: 1000 }];
    const { cluster } = synth({ ...props, keyspaces });
    expect(cluster.shards.map((s) => s.tabletShards.map((t) => t.tablets[0].uid))).toEqual([[100, 200], [1000], [1100]]);
  });
});

describe('VitessCluster passes each component its pods\' extensions', () => {
  const props = twoCellProps();
  const [commerce, customer] = props.keyspaces!;
  const pool = { extraFlags: { vttablet: { 'queryserver-config-pool-size': 32 } }, mysqldImage: 'registry.example.com/vitess/lite:v22.0.3-mysql84', podLabels: { team: 'orders' } };
  const { files } = synth({
    ...props,
    globalTopology: GlobalTopology.managed({ podAnnotations: { 'backup.example.com/skip': 'true' } }),
    cells: [props.cells[0], { ...props.cells[1], vtgate: { replicas: 2, extraFlags: { vtgate: { tablet_refresh_interval: '10s' } } } }],
    vtctld: { extraEnv: [{ name: 'TZ', value: 'UTC' }], jobOptions: { podLabels: { team: 'ops' } } },
    vtorcPods: { extraFlags: { vtorc: { 'instance-poll-time': '2s' } } },
    keyspaces: [commerce, { ...customer, tabletPools: customer.tabletPools.map((p) => ({ ...p, ...pool })) }],
  });
  const all = [...files.values()].flat();
  const containerOf = (kind: string, name: string, container: string) =>
    findObject(all, kind, name).spec.template.spec.containers.find((c: any) => c.name === container);

  test('etcd, vtctld, a cell\'s vtgate, VTOrc, a keyspace\'s tablets and the Jobs each get theirs', () => {
    expect(findObject(all, 'StatefulSet', 'etcd-global').spec.template.metadata.annotations).toMatchObject({ 'backup.example.com/skip': 'true', 'prometheus.io/scrape': 'true' });
    expect(containerOf('Deployment', 'vtctld', 'vtctld').env).toEqual([{ name: 'TZ', value: 'UTC' }]);
    expect(containerOf('Deployment', 'vtgate-zone2', 'vtgate').args).toContain('--tablet_refresh_interval=10s');
    expect(containerOf('Deployment', 'vtgate-zone1', 'vtgate').args).not.toContain('--tablet_refresh_interval=10s');
    expect(containerOf('Deployment', 'vtorc', 'vtorc').args).toContain('--instance-poll-time=2s');
    expect(containerOf('StatefulSet', 'vttablet-3542795600', 'vttablet').args).toContain('--queryserver-config-pool-size=32');
    expect(containerOf('StatefulSet', 'vttablet-3542795602', 'mysql').image).toBe('registry.example.com/vitess/lite:v22.0.3-mysql84');
    expect(findObject(all, 'StatefulSet', 'vttablet-3542795600').spec.template.metadata.labels.team).toBe('orders');
    expect(containerOf('StatefulSet', 'vttablet-3772060000', 'vttablet').args).not.toContain('--queryserver-config-pool-size=32');
    expect(findObject(all, 'Job', 'vtctl-addcellinfo-zone1').spec.template.metadata.labels.team).toBe('ops');
  });

  test('every Vitess flag, the extra ones included, and every command is known to Vitess v22', () => {
    expect(checkInvocations(vitessInvocations(all), 'modern')).toEqual([]);
  });

  test.each(KUBERNETES_VERSIONS)('every object is valid Kubernetes %s', (version) => {
    expect(validateManifests(all, version)).toEqual([]);
  });
});

describe('two named clusters in one app and one namespace', () => {
  const app = newApp();
  const blue = new VitessCluster(app, 'Blue', { ...twoCellProps(), name: 'blue' });
  const green = new VitessCluster(app, 'Green', { ...reshardProps(), name: 'green' });
  green.reshard('customer', { from: ['-80'], to: ['-40', '40-80'], firstPhase: 10 });
  const files = new Map(app.charts.map((chart) => [chart.node.id, chart.toJson()]));
  const all = [...files.values()].flat();
  const ofCluster = (name: string) => [...files.entries()].filter(([id]) => id.startsWith(`${name}-`)).flatMap(([, objects]) => objects);

  test('every file and every object name carries the cluster name', () => {
    expect([...files.keys()].filter((id) => !id.startsWith('blue-') && !id.startsWith('green-'))).toEqual([]);
    expect([...files.keys()].filter((id) => id.startsWith('blue-'))).toEqual([
      'blue-00-cluster',
      'blue-01-tablets-commerce-0',
      'blue-01-tablets-customer--80',
      'blue-01-tablets-customer-80-',
      'blue-02-init',
    ]);
    for (const [name, objects] of [['blue', ofCluster('blue')], ['green', ofCluster('green')]] as const) {
      expect(objects.filter((o) => !o.metadata.name.startsWith(`${name}-`)).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
    }
    expect(names(all).filter((n, i) => names(all).indexOf(n) !== i)).toEqual([]);
    // The same hashed tablet UIDs in both: UIDs are per cluster.
    expect(blue.shards[0].tabletShards[0].tablets[0].uid).toBe(green.shards[0].tabletShards[0].tablets[0].uid);
    expect(blue.vtctld.grpcAddress).toBe('blue-vtctld:15999');
    expect(green.globalTopology.clientAddress).toBe('green-etcd-global-client:2379');
  });

  test("no selector, PDB, NetworkPolicy or peer of one cluster takes the other's pods", () => {
    const podLabels = (objects: any[]) =>
      objects.flatMap((o) => (o.spec?.template?.metadata?.labels ? [o.spec.template.metadata.labels as Record<string, string>] : []));
    const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    const selectors = (o: any): Record<string, string>[] => [
      ...(o.kind === 'Service' && o.spec.selector ? [o.spec.selector] : []),
      ...(['StatefulSet', 'Deployment', 'PodDisruptionBudget'].includes(o.kind) && o.spec.selector?.matchLabels ? [o.spec.selector.matchLabels] : []),
      ...(o.kind === 'NetworkPolicy' ? [o.spec.podSelector.matchLabels, ...o.spec.ingress.flatMap((r: any) => (r.from ?? []).flatMap((f: any) => (f.podSelector ? [f.podSelector.matchLabels] : [])))] : []),
    ];
    for (const [own, other] of [['blue', 'green'], ['green', 'blue']]) {
      const theirs = podLabels(ofCluster(other));
      const taken = ofCluster(own).flatMap((o) => selectors(o).filter((sel) => theirs.some((labels) => matches(sel, labels))).map(() => `${o.kind}/${o.metadata.name}`));
      expect(taken).toEqual([]);
      // and each selects pods of its own cluster
      const ownPods = podLabels(ofCluster(own));
      const empty = ofCluster(own).flatMap((o) => selectors(o).filter((sel) => !ownPods.some((labels) => matches(sel, labels))).map(() => `${o.kind}/${o.metadata.name}`));
      expect(empty).toEqual([]);
    }
  });

  test("each cluster's Jobs talk to its own vtctld, its tablets to its own etcd", () => {
    const job = findObject(ofCluster('green'), 'Job', 'green-vtctl-addcellinfo-zone1');
    expect(job.metadata.labels['app.kubernetes.io/instance']).toBe('green');
    expect(job.spec.template.spec.containers[0].command[2]).toContain('--server=green-vtctld:15999');
    const tablet = ofCluster('blue').find((o) => o.kind === 'StatefulSet' && o.metadata.name.startsWith('blue-vttablet-'));
    expect(tablet.spec.template.spec.containers[0].args).toContain('--topo_global_server_address=blue-etcd-global-client:2379');
    expect([...files.keys()].filter((id) => id.startsWith('green-1'))).toHaveLength(7);
  });

  test("a named v9 cluster's SplitDiff result ConfigMap and the Jobs' accounts carry its name and fit together", () => {
    const v9App = newApp();
    const cluster = new VitessCluster(v9App, 'Red', { ...reshardProps(VitessRelease.V9_0), name: 'red' });
    cluster.reshard('customer', { from: ['-80'], to: ['-40', '40-80'] });
    const objects = v9App.charts.flatMap((c) => c.toJson());
    const accounts = objects.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name);
    expect(accounts).toEqual(['red-vtworker-splitdiff-customer-xx-40-40-80', 'red-vtctl-migrateservedtypes-customer-xx-80-rdonly']);
    const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-result'));
    expect(configMap.metadata.name).toBe('red-vtworker-splitdiff-customer-xx-80-result');
    for (const role of objects.filter((o) => o.kind === 'Role')) {
      expect(role.rules[0].resourceNames).toEqual([configMap.metadata.name]);
    }
    for (const job of objects.filter((o) => o.kind === 'Job' && o.spec.template.spec.serviceAccountName !== undefined)) {
      expect(accounts).toContain(job.spec.template.spec.serviceAccountName);
      expect(job.spec.template.spec.containers[0].command[2]).toContain(configMap.metadata.name);
    }
  });

  test.each(KUBERNETES_VERSIONS)('every object is valid Kubernetes %s', (version) => {
    expect(validateManifests(all, version)).toEqual([]);
  });

  test('fails on a second cluster of the same name in the app, or a bad name', () => {
    expect(() => new VitessCluster(app, 'Blue2', { ...twoCellProps(), name: 'blue' })).toThrow(
      "VitessCluster: the app has the files of a cluster named 'blue' already; give each cluster of an app its own 'name'",
    );
    const unnamedApp = newApp();
    new VitessCluster(unnamedApp, 'A', twoCellProps());
    expect(() => new VitessCluster(unnamedApp, 'B', twoCellProps())).toThrow(
      "VitessCluster: the app has the files of a cluster without a name already; give each cluster of an app its own 'name'",
    );
    expect(() => new VitessCluster(newApp(), 'C', { ...twoCellProps(), name: 'Blue_1' })).toThrow(
      "VitessCluster: 'name' must be a DNS-1123 label starting with a letter (lowercase letters, digits and '-') of at most 20 characters (it prefixes every object name), got 'Blue_1'",
    );
  });
});

describe('VitessCluster vtgates: autoscaling, TLS and the MySQL Services', () => {
  test('a cluster-wide ClusterIP Service vtgate-mysql on 3306 alone selects the vtgates of every cell, by default', () => {
    // GIVEN the two cells of twoCellProps
    const { cluster, files } = synth(twoCellProps());
    const objects = files.get('00-cluster')!;
    // THEN
    expect(cluster.vtgateMysqlService.mysqlAddress).toBe('vtgate-mysql:3306');
    const service = findObject(objects, 'Service', 'vtgate-mysql');
    expect(service.spec).toEqual({
      type: 'ClusterIP',
      selector: { app: 'vitess', component: 'vtgate' },
      ports: [{ name: 'mysql', port: 3306, targetPort: 3306 }],
    });
    const pods = ['zone1', 'zone2'].map((cell) => findObject(objects, 'Deployment', `vtgate-${cell}`).spec.template.metadata.labels);
    const matching = objects
      .filter((o) => o.spec?.template?.metadata?.labels)
      .filter((o) => Object.entries(service.spec.selector).every(([k, v]) => o.spec.template.metadata.labels[k] === v));
    expect(matching.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Deployment/vtgate-zone1', 'Deployment/vtgate-zone2']);
    expect(pods.map((labels) => labels.cell)).toEqual(['zone1', 'zone2']);
    // Each cell keeps its Service of every port, ClusterIP, under its old name, and gets its MySQL Service.
    for (const cell of ['zone1', 'zone2']) {
      expect(findObject(objects, 'Service', `vtgate-${cell}`).spec.type).toBe('ClusterIP');
      expect(findObject(objects, 'Service', `vtgate-${cell}-mysql`).spec.ports).toEqual([{ name: 'mysql', port: 3306, targetPort: 3306 }]);
    }
  });

  test('a named cluster: the Service takes its prefix, its instance label and the vtgateMysqlService options', () => {
    // WHEN
    const { cluster, files } = synth({
      ...twoCellProps(),
      name: 'blue',
      vtgateMysqlService: {
        serviceType: VtgateServiceType.LOAD_BALANCER,
        serviceAnnotations: { 'networking.gke.io/load-balancer-type': 'Internal' },
        loadBalancerSourceRanges: ['10.0.0.0/8'],
        externalTrafficPolicy: 'Local',
      },
    });
    // THEN
    expect(cluster.vtgateMysqlService.name).toBe('blue-vtgate-mysql');
    const service = findObject(files.get('blue-00-cluster')!, 'Service', 'blue-vtgate-mysql');
    expect(service.metadata.annotations).toEqual({ 'networking.gke.io/load-balancer-type': 'Internal' });
    expect(service.metadata.namespace).toBe('vitess');
    expect(service.spec).toEqual({
      type: 'LoadBalancer',
      loadBalancerSourceRanges: ['10.0.0.0/8'],
      externalTrafficPolicy: 'Local',
      selector: { app: 'vitess', component: 'vtgate', 'app.kubernetes.io/instance': 'blue' },
      ports: [{ name: 'mysql', port: 3306, targetPort: 3306 }],
    });
  });

  test("each cell's vtgate takes its autoscaling, resources, TLS and MySQL Service type", () => {
    // GIVEN zone1 autoscaled with TLS, zone2 with a NodePort MySQL Service
    const props = twoCellProps();
    const resources = { requests: { cpu: k8s.Quantity.fromString('2'), memory: k8s.Quantity.fromString('2Gi') }, limits: { memory: k8s.Quantity.fromString('2Gi') } };
    const { cluster, files } = synth({
      ...props,
      cells: [
        {
          ...props.cells[0],
          vtgate: {
            autoscaling: { minReplicas: 2, maxReplicas: 8, targetCpuUtilizationPercent: 60 },
            resources,
            tls: { secretName: 'vtgate-tls', caKey: 'ca.crt', requireSecureTransport: true },
          },
        },
        { ...props.cells[1], vtgate: { replicas: 2, serviceType: VtgateServiceType.NODE_PORT } },
      ],
    });
    const objects = files.get('00-cluster')!;
    // THEN
    const zone1 = findObject(objects, 'Deployment', 'vtgate-zone1');
    expect('replicas' in zone1.spec).toBe(false);
    expect(cluster.vtgates.zone1.autoscaler).toBeDefined();
    expect(findObject(objects, 'HorizontalPodAutoscaler', 'vtgate-zone1').spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'vtgate-zone1' },
      minReplicas: 2,
      maxReplicas: 8,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }],
    });
    const c = zone1.spec.template.spec.containers.find((x: any) => x.name === 'vtgate');
    expect(c.resources).toEqual({ requests: { cpu: '2', memory: '2Gi' }, limits: { memory: '2Gi' } });
    expect(c.args.filter((a: string) => a.startsWith('--mysql_server_ssl') || a.startsWith('--mysql_server_require'))).toEqual([
      '--mysql_server_ssl_cert=/vt/secrets/mysql-tls/tls.crt',
      '--mysql_server_ssl_key=/vt/secrets/mysql-tls/tls.key',
      '--mysql_server_ssl_ca=/vt/secrets/mysql-tls/ca.crt',
      '--mysql_server_require_secure_transport',
    ]);
    expect(zone1.spec.template.spec.volumes.find((v: any) => v.name === 'mysql-tls').secret.secretName).toBe('vtgate-tls');
    // zone2: fixed replicas, no HPA, no TLS, its MySQL Service a NodePort and its Service of every port ClusterIP.
    expect(findObject(objects, 'Deployment', 'vtgate-zone2').spec.replicas).toBe(2);
    expect(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((o) => o.metadata.name)).toEqual(['vtgate-zone1']);
    expect(findObject(objects, 'Service', 'vtgate-zone2-mysql').spec.type).toBe('NodePort');
    expect(findObject(objects, 'Service', 'vtgate-zone2').spec.type).toBe('ClusterIP');
    expect(findObject(objects, 'Service', 'vtgate-mysql').spec.type).toBe('ClusterIP');
    const all = [...files.values()].flat();
    expect(checkInvocations(vitessInvocations(all), 'modern')).toEqual([]);
    for (const version of KUBERNETES_VERSIONS) {
      expect(validateManifests(all, version)).toEqual([]);
    }
  });

  test('fails with the prop path for replicas and autoscaling together, bad TLS, a TLS flag the release lacks, bad Service options', () => {
    const props = twoCellProps();
    const withZone2Vtgate = (vtgate: NonNullable<VitessClusterProps['cells'][number]['vtgate']>, base = props) => ({
      ...base,
      cells: [base.cells[0], { ...base.cells[1], vtgate }],
    });
    expect(() => synth(withZone2Vtgate({ replicas: 2, autoscaling: { minReplicas: 2, maxReplicas: 4 } }))).toThrow(
      "VitessCluster: 'cells[1].vtgate': Vtgate: 'replicas' (2) and 'autoscaling' exclude each other: with 'autoscaling' the HorizontalPodAutoscaler sets the replicas; give one of them",
    );
    expect(() => synth(withZone2Vtgate({ tls: { secretName: 'Vtgate_TLS' } }))).toThrow(
      "VitessCluster: 'cells[1].vtgate': Vtgate: 'tls.secretName' must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', at most 253 characters), got 'Vtgate_TLS'",
    );
    expect(() => synth(withZone2Vtgate({ tls: { secretName: 'vtgate-tls', minVersion: VtgateTlsVersion.TLS_1_3 } }, v9Props()))).toThrow(
      "VitessCluster: 'cells[1].vtgate': Vtgate: 'tls.minVersion' ('TLSv1.3') needs the vtgate flag -mysql_server_tls_min_version, which Vitess v9.0.0 does not have; leave 'tls.minVersion' out on this release",
    );
    expect(() => synth({ ...props, vtgateMysqlService: { externalTrafficPolicy: 'Local' } })).toThrow(
      "VitessCluster: 'vtgateMysqlService': VtgateMysqlService: 'externalTrafficPolicy' needs 'serviceType' NODE_PORT or LOAD_BALANCER, got 'ClusterIP'",
    );
  });

  test('fails for a cell named mysql, whose Service of every port would be named like the cluster-wide MySQL Service', () => {
    const props = twoCellProps();
    expect(() => synth({ ...props, cells: [props.cells[0], { name: 'mysql' }], keyspaces: [] })).toThrow(
      "VitessCluster: 'cells[1].name' is 'mysql', which would name the cell's vtgate Service 'vtgate-mysql', the name of the cluster-wide MySQL Service; give the cell another name",
    );
    expect(() => synth({ ...props, name: 'blue', cells: [{ name: 'mysql' }], keyspaces: [] })).toThrow(
      "VitessCluster: 'cells[0].name' is 'mysql', which would name the cell's vtgate Service 'blue-vtgate-mysql', the name of the cluster-wide MySQL Service; give the cell another name",
    );
  });
});

describe('VitessCluster rejects bad input, naming the prop path and the value', () => {
  const base = twoCellProps();
  const withKeyspace = (change: Partial<KeyspaceSpec>): VitessClusterProps => ({
    ...base,
    keyspaces: [{ ...base.keyspaces![0], ...change }],
  });
  const build = (props: VitessClusterProps) => () => new VitessCluster(newApp(), 'Cluster', props);

  test('fails without a release', () => {
    expect(build({ ...base, release: undefined as unknown as VitessRelease })).toThrow("VitessCluster: 'release' is required");
  });

  test('fails without cells', () => {
    expect(build({ ...base, cells: [] })).toThrow("VitessCluster: 'cells' must hold at least one cell, got []");
  });

  test('fails on a repeated cell', () => {
    expect(build({ ...base, cells: [base.cells[0], base.cells[0]] })).toThrow("VitessCluster: 'cells[1].name' repeats cell 'zone1'");
  });

  test('fails on a pool in an unknown cell', () => {
    expect(build(withKeyspace({ tabletPools: [{ cell: 'zone9', type: REPLICA, replicas: 1 }] }))).toThrow(
      "VitessCluster: 'keyspaces[0].tabletPools[0].cell' is 'zone9', which is not one of the cells: zone1, zone2",
    );
  });

  test('fails on a cell whose shard has no primary-eligible replica', () => {
    expect(build(withKeyspace({ tabletPools: [{ cell: 'zone1', type: RDONLY, replicas: 1 }] }))).toThrow(
      "VitessCluster: 'keyspaces[0].tabletPools' give keyspace 'commerce' tablets in cell 'zone1' without a replica pool",
    );
  });

  test('fails on a v9 shard with tablets in two cells (InitShardMaster needs every tablet of the shard)', () => {
    expect(build({ ...base, release: VitessRelease.V9_0, vtorc: false })).toThrow(
      "VitessCluster: keyspace 'commerce' shard '0' has tablets in the cells zone1, zone2, but Vitess v9.0.0 elects the first primary with InitShardMaster",
    );
  });

  test('fails on a keyspace whose shards leave a gap', () => {
    expect(build(withKeyspace({ partitionings: [Partitioning.keyRanges(['-40', '80-'])] }))).toThrow(
      "VitessCluster: 'keyspaces[0].partitionings[0]' of keyspace 'commerce' leaves a gap between -40 and 80- (shards: -40, 80-)",
    );
    expect(build(withKeyspace({ partitionings: [Partitioning.keyRanges(['-40', '40-80'])] }))).toThrow(
      "VitessCluster: 'keyspaces[0].partitionings[0]' of keyspace 'commerce' leaves a gap after 40-80 (shards: -40, 40-80)",
    );
    expect(build(withKeyspace({ partitionings: [Partitioning.keyRanges(['40-'])] }))).toThrow(
      "leaves a gap between (start of the key space) and 40-",
    );
  });

  test('fails on a keyspace whose shards overlap', () => {
    expect(build(withKeyspace({ partitionings: [Partitioning.keyRanges(['-80', '40-'])] }))).toThrow(
      "VitessCluster: 'keyspaces[0].partitionings[0]' of keyspace 'commerce' leaves an overlap between -80 and 40- (shards: -80, 40-)",
    );
    expect(build(withKeyspace({ partitionings: [Partitioning.keyRanges(['0', '-80', '80-'])] }))).toThrow('leaves an overlap');
  });

  test('accepts key ranges of different widths that meet', () => {
    expect(build(withKeyspace({ partitionings: [Partitioning.keyRanges(['-80', '8000-c0', 'c0-'])] }))).not.toThrow();
  });

  test('fails on colliding UIDs', () => {
    const keyspaces = [{ ...base.keyspaces![0], uidBase: 100 }, { ...base.keyspaces![1], uidBase: 101 }];
    expect(build({ ...base, keyspaces })).toThrow(
      "VitessCluster: 'keyspaces[1].uidBase' gives shard -80 of keyspace 'customer' in cell zone1 UIDs 101-103, which collide with 100-101 of keyspaces[0] shard 0 cell zone1; give 'keyspaces[1].uidBase' a free range",
    );
  });

  test('fails on a uidBase that meets a hashed block', () => {
    // commerce/0/zone1 hashes to 3772060000.
    const keyspaces = [base.keyspaces![0], { ...base.keyspaces![1], uidBase: 3772059999 }];
    expect(build({ ...base, keyspaces })).toThrow(
      "VitessCluster: 'keyspaces[1].uidBase' gives shard -80 of keyspace 'customer' in cell zone1 UIDs 3772059999-3772060001, which collide with 3772060000-3772060001 of keyspaces[0] shard 0 cell zone1; give 'keyspaces[1].uidBase' a free range",
    );
  });

  test('fails on UIDs above uint32', () => {
    expect(build(withKeyspace({ uidBase: 4294967295 }))).toThrow(
      "VitessCluster: 'keyspaces[0]' tablet UIDs of shard 0 in cell zone1 would reach 4294967296, above 4294967295",
    );
  });

  test('fails on more than 100 tablets per shard and cell', () => {
    expect(build(withKeyspace({ tabletPools: [{ cell: 'zone1', type: REPLICA, replicas: 101 }] }))).toThrow(
      "VitessCluster: 'keyspaces[0].tabletPools' put 101 tablets in shard 0 of cell zone1; a block holds at most 100",
    );
  });

  test('fails on a flag the release does not know, naming the prop path and the closest flag', () => {
    const cells = [base.cells[0], { ...base.cells[1], vtgate: { extraFlags: { vtgate: { tablet_refresh_intervall: '10s' } } } }];
    expect(build({ ...base, cells })).toThrow(
      "VitessCluster: 'cells[1].vtgate': Vtgate: 'extraFlags.vtgate.tablet_refresh_intervall' is not a flag of vtgate in Vitess v22.0.3; the closest are --tablet_refresh_interval",
    );
    const pools = [{ ...base.keyspaces![0].tabletPools[0], extraFlags: { mysqlctld: { mysql_portt: 1 } } }];
    expect(build(withKeyspace({ tabletPools: pools }))).toThrow(
      "VitessCluster: 'keyspaces[0].tabletPools[0]': TabletShard: 'extraFlags.mysqlctld.mysql_portt' is not a flag of mysqlctld in Vitess v22.0.3; the closest are --mysql_port",
    );
  });

  test('fails on replica and rdonly pools of a cell that differ in extensions or image', () => {
    const tabletPools = [
      { cell: 'zone1', type: REPLICA, replicas: 2, mysqldImage: 'vitess/lite:v22.0.3-mysql84' },
      { cell: 'zone1', type: RDONLY, replicas: 1 },
    ];
    expect(build(withKeyspace({ tabletPools }))).toThrow(
      "VitessCluster: 'keyspaces[0].tabletPools' of cell 'zone1' differ in storage, resources, image, mysqldExporter or extensions between the replica and rdonly pools; they must agree",
    );
  });

  test('fails on a pool of no tablets', () => {
    expect(build(withKeyspace({ tabletPools: [{ cell: 'zone1', type: REPLICA, replicas: 0 }] }))).toThrow(
      "VitessCluster: 'keyspaces[0].tabletPools[0].replicas' must be a whole number of at least 1, got 0",
    );
  });
});

/** The guide's sharded VSchema of `customer`: `corder` by a hash of `customer_id`. */
const CUSTOMER_VSCHEMA = {
  sharded: true,
  vindexes: { hash: { type: 'hash' } },
  tables: {
    customer: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] },
    corder: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] },
  },
};

/** The files of the two-cell cluster with customer's `-80` resharded with VReplication. */
const RESHARDED_CUSTOMER_FILES = [
  '00-cluster',
  '01-tablets-commerce-0',
  '01-tablets-customer--80',
  '01-tablets-customer-80-',
  '02-init',
  '10-reshard-new-shards',
  '11-reshard-create',
  '12-reshard-vdiff',
  '13-reshard-switch-reads',
  '14-reshard-switch-primary',
  '15-reshard-complete',
  '16-reshard-delete-shard',
];

/**
 * twoCellProps with customer's `-80` split further by a second partitioning; on v9 with the two
 * rdonly tablets per shard that vtworker needs.
 */
function reshardProps(release: VitessRelease = VitessRelease.V22_0): VitessClusterProps {
  const legacy = release === VitessRelease.V9_0;
  const props = legacy ? v9Props() : twoCellProps(release);
  const [commerce, customer] = props.keyspaces!;
  const tabletPools = legacy ? customer.tabletPools.map((p) => (p.type === RDONLY ? { ...p, replicas: 2 } : p)) : customer.tabletPools;
  return {
    ...props,
    keyspaces: [commerce, { ...customer, tabletPools, partitionings: [...customer.partitionings, Partitioning.keyRanges(['-40', '40-80', '80-'])] }],
  };
}

/** The cluster of `props` resharded as `options` say, with a rollback app; charts by id. */
function synthReshard(props: VitessClusterProps, options: Omit<ReshardOptions, 'rollbackApp'>) {
  const app = newApp();
  const rollbackApp = newApp();
  const cluster = new VitessCluster(app, 'Cluster', props);
  const phases = cluster.reshard('customer', { ...options, rollbackApp });
  const files = new Map(app.charts.map((chart) => [chart.node.id, chart.toJson()]));
  const rollbacks = new Map(rollbackApp.charts.map((chart) => [chart.node.id, chart.toJson()]));
  return { cluster, phases, files, rollbacks };
}

describe('VitessCluster.reshard with VReplication (v22)', () => {
  const { cluster, phases, files, rollbacks } = synthReshard(reshardProps(), { from: ['-80'], to: ['-40', '40-80'], vschema: CUSTOMER_VSCHEMA });
  const all = [...files.values(), ...rollbacks.values()].flat();

  test('a later partitioning gets no tablets when the cluster is created, but its UIDs', () => {
    const { cluster: plain } = synth(reshardProps());
    expect(plain.shards.map((s) => `${s.keyspace}/${s.shard}`)).toEqual(['commerce/0', 'customer/-80', 'customer/80-']);
    // -40 and 40-80 have their hashed blocks; 80- is not repeated.
    expect(phases.targets.map((t) => [t.shard, t.tabletShards.map((ts) => ts.tablets.map((tab) => tab.uid))])).toEqual([
      ['-40', [[2266183700, 2266183701, 2266183702]]],
      ['40-80', [[3404809800, 3404809801, 3404809802]]],
    ]);
  });

  test('one file per phase of the VReplication flow, after the cluster files; the rollbacks apart', () => {
    expect([...files.keys()]).toEqual(RESHARDED_CUSTOMER_FILES);
    expect([...rollbacks.keys()]).toEqual(['reverse-primary', 'reverse-reads']);
    expect(phases.charts.map((c) => c.node.id)).toEqual([...files.keys()].slice(5));
    expect(phases.flow).toBeInstanceOf(VReplicationResharding);
  });

  test('the first phase applies the VSchema, runs the new tablets and elects their primaries', () => {
    const objects = files.get('10-reshard-new-shards')!;
    expect(names(objects).filter((n) => n.startsWith('StatefulSet/') || n.startsWith('Job/'))).toEqual([
      'Job/vtctl-applyvschema-customer',
      'StatefulSet/vttablet-2266183700',
      'StatefulSet/vttablet-2266183701',
      'StatefulSet/vttablet-2266183702',
      'StatefulSet/vttablet-3404809800',
      'StatefulSet/vttablet-3404809801',
      'StatefulSet/vttablet-3404809802',
      'Job/vtctl-plannedreparentshard-customer-xx-40',
      'Job/vtctl-plannedreparentshard-customer-40-80',
    ]);
    const applyVSchema = vitessInvocations([findObject(objects, 'Job', 'vtctl-applyvschema-customer')]).find((i) => i.args.includes('ApplyVSchema'))!;
    expect(applyVSchema.args).toContain(`--vschema=${JSON.stringify(CUSTOMER_VSCHEMA)}`);
    // Done once GetVSchema shows both tables sharded by hash on customer_id.
    const script: string = findObject(objects, 'Job', 'vtctl-applyvschema-customer').spec.template.spec.containers[0].command[2];
    expect(script).toContain('already_done_1 && already_done_2');
    expect(script).toContain(String.raw`grep -Eq '"customer":\{"type":"","column_vindexes":\[\{"column":"customer_id","name":"hash"[,}]'`);
    expect(script).toContain(String.raw`grep -Eq '"corder":\{"type":"","column_vindexes":\[\{"column":"customer_id","name":"hash"[,}]'`);
  });

  test('the flow splits -80 into -40 and 40-80', () => {
    const create = vitessInvocations(files.get('11-reshard-create')!).find((i) => i.args.includes('Reshard'))!;
    expect(create.args).toEqual(expect.arrayContaining(['--source-shards=-80', '--target-shards=-40,40-80']));
  });

  test('every object is in the namespace, with a unique name per kind', () => {
    expect(all.filter((o) => o.metadata.namespace !== 'vitess').map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
    const seen = names([...files.values()].flat());
    expect(seen.filter((n, i) => seen.indexOf(n) !== i)).toEqual([]);
  });

  test('every Vitess flag and command is known to Vitess v22', () => {
    expect(checkInvocations(vitessInvocations(all), 'modern')).toEqual([]);
  });

  test.each(KUBERNETES_VERSIONS)('every object is valid Kubernetes %s', (version) => {
    expect(validateManifests(all, version)).toEqual([]);
  });

  test('a second resharding needs another firstPhase, and gets its files from there', () => {
    expect(() => cluster.reshard('customer', { from: ['80-'], to: ['80-c0', 'c0-'] })).toThrow(
      "VitessCluster.reshard('customer'): 'to' names shard '80-c0', which no partitioning of keyspaces[1] declares; add a partitioning with it, so that its tablet UIDs are reserved",
    );
  });
});

describe('VitessCluster.reshard with vtworker (v9)', () => {
  const { phases, files, rollbacks } = synthReshard(reshardProps(VitessRelease.V9_0), { from: ['-80'], to: ['-40', '40-80'], firstPhase: 20 });
  const all = [...files.values(), ...rollbacks.values()].flat();

  test('one file per phase of the vtworker flow, numbered from firstPhase', () => {
    expect([...files.keys()].slice(5)).toEqual([
      '20-reshard-new-shards',
      '21-reshard-copy-schema',
      '22-reshard-split-clone',
      '23-reshard-split-diff',
      '24-reshard-migrate-rdonly',
      '25-reshard-migrate-replica',
      '26-reshard-migrate-master',
      '27-reshard-delete-shard',
    ]);
    expect([...rollbacks.keys()]).toEqual(['reverse-replica', 'reverse-rdonly']);
    expect(phases.flow).toBeInstanceOf(VtworkerResharding);
  });

  test('without a vschema the first phase holds only the tablets and their elections', () => {
    expect(names(files.get('20-reshard-new-shards')!).filter((n) => n.startsWith('Job/'))).toEqual([
      'Job/vtctl-initshardmaster-customer-xx-40',
      'Job/vtctl-initshardmaster-customer-40-80',
    ]);
  });

  test('every Vitess flag and command is known to Vitess v9', () => {
    expect(checkInvocations(vitessInvocations(all), 'legacy')).toEqual([]);
  });

  test.each(KUBERNETES_VERSIONS)('every object is valid Kubernetes %s', (version) => {
    expect(validateManifests(all, version)).toEqual([]);
  });
});

describe('VitessCluster with a keyspace VSchema', () => {
  const props = reshardProps();
  const customer = { ...props.keyspaces![1], vschema: CUSTOMER_VSCHEMA };
  const withVSchema = { ...props, keyspaces: [props.keyspaces![0], customer] };

  test('02-init applies it once the keyspace exists, done once every sharded table is', () => {
    const { files } = synth(withVSchema);
    const job = findObject(files.get('02-init')!, 'Job', 'vtctl-applyvschema-customer');
    const script: string = job.spec.template.spec.containers[0].command[2];
    expect(script).toContain('GetKeyspace customer');
    expect(script).toContain(`ApplyVSchema '--vschema=${JSON.stringify(CUSTOMER_VSCHEMA)}' customer`);
    expect(script).toContain('already_done_1 && already_done_2');
  });

  test("a resharding's own VSchema gets a Job of its own name", () => {
    const { files } = synthReshard(withVSchema, { from: ['-80'], to: ['-40', '40-80'], vschema: CUSTOMER_VSCHEMA });
    expect(files.get('10-reshard-new-shards')!.filter((o) => o.kind === 'Job').map((o) => baseName(o))[0]).toBe('vtctl-applyvschema-customer-reshard-10');
  });

  test('fails on an unsharded VSchema, naming the prop path', () => {
    const bad = { ...props, keyspaces: [props.keyspaces![0], { ...customer, vschema: { sharded: false } }] };
    expect(() => synth(bad)).toThrow(
      "VitessCluster: 'keyspaces[1].vschema' must be sharded ('sharded: true') for a keyspace of several shards, got sharded: false",
    );
  });
});

describe('VitessCluster init after the schema: first backups and RebuildVSchemaGraph', () => {
  const props = twoCellProps();
  const [commerce, customer] = props.keyspaces!;
  const withBackup = {
    ...props,
    keyspaces: [{ ...commerce, initialBackup: true, partitionings: [Partitioning.equal(1), Partitioning.equal(2)] }, { ...customer, initialBackup: true }],
  };
  const { cluster, files } = synth(withBackup);
  const init = files.get('02-init')!;
  const script = (job: string): string => findObject(init, 'Job', job).spec.template.spec.containers[0].command[2];

  test("a backup per shard, of its last rdonly tablet, or of its last replica that is not the primary candidate", () => {
    // commerce/0 has replicas only in zone1 (the first one is the primary candidate); customer's shards an rdonly each
    const commerceTablets = cluster.shards[0].tabletShards[0].aliases;
    const customerRdonly = cluster.shards.slice(1).map((s) => s.tabletShards[0].rdonlyAliases[0]);
    const backups = init.filter((o) => o.kind === 'Job' && baseName(o).startsWith('vtctl-backup-')).map((o) => baseName(o));
    expect(backups).toEqual([`vtctl-backup-${commerceTablets[1]}`, ...customerRdonly.map((a) => `vtctl-backup-${a}`)]);
    // commerce waits for its schema on the backup tablet; customer, without schema, for a primary
    expect(script(`vtctl-backup-${commerceTablets[1]}`)).toContain(`GetSchema --table-names-only ${commerceTablets[1]}`);
    expect(script(`vtctl-backup-${customerRdonly[0]}`)).toContain('GetShard customer/-80');
    expect(script(`vtctl-backup-${customerRdonly[0]}`)).toContain(`Backup ${customerRdonly[0]}`);
  });

  test("the schema Job of a keyspace of one shard is also done once its next partitioning serves the primary", () => {
    expect(script('vtctl-applyschema-commerce-product')).toContain('GetSrvKeyspaces commerce zone1');
  });

  test('RebuildVSchemaGraph last, after the backups, done once every cell serves every keyspace', () => {
    const jobs = init.filter((o) => o.kind === 'Job').map((o) => baseName(o));
    expect(jobs[jobs.length - 1]).toBe('vtctl-rebuildvschemagraph');
    const rebuild = script('vtctl-rebuildvschemagraph');
    for (const cell of ['zone1', 'zone2']) {
      expect(rebuild).toContain(`GetSrvVSchema ${cell}`);
    }
    expect(rebuild.match(/^already_done_\d+\(\) \{$/gm)).toHaveLength(4);
    for (const shard of ['commerce/0', 'customer/-80', 'customer/80-']) {
      expect(rebuild).toContain(`a complete backup of ${shard} (with its MANIFEST) exists`);
    }
  });

  test('every Vitess flag and command of the backups and RebuildVSchemaGraph is known to Vitess v22', () => {
    expect(checkInvocations(vitessInvocations([...files.values()].flat()), 'modern')).toEqual([]);
  });

  test('fails without a backup storage, or without a tablet to take the backup from', () => {
    expect(() => synth({ ...withBackup, backup: undefined })).toThrow(
      "VitessCluster: 'keyspaces[0].initialBackup' of keyspace 'commerce' needs the cluster's 'backup' storage, which is not set",
    );
    const lonely = { ...withBackup, keyspaces: [{ ...withBackup.keyspaces[0], tabletPools: [{ cell: 'zone1', type: REPLICA, replicas: 1 }] }] };
    expect(() => synth(lonely)).toThrow(
      "VitessCluster: 'keyspaces[0].initialBackup' needs a tablet other than the primary candidate in shard 0 of cell zone1 (an rdonly tablet, or a second replica) to take the backup from",
    );
  });
});

describe('VitessCluster.reshard of a keyspace with tablets in two cells (VReplication)', () => {
  const props = twoCellProps();
  const commerce = { ...props.keyspaces![0], partitionings: [Partitioning.equal(1), Partitioning.equal(2)] };
  const app = newApp();
  const cluster = new VitessCluster(app, 'Cluster', { ...props, keyspaces: [commerce, props.keyspaces![1]] });
  const phases = cluster.reshard('commerce', { from: ['0'], to: ['-80', '80-'] });
  const files = new Map(app.charts.map((chart) => [chart.node.id, chart.toJson()]));
  const script = (file: string, job: string): string => findObject(files.get(file)!, 'Job', job).spec.template.spec.containers[0].command[2];

  test('the targets get tablets in every cell where the source has them; one election per target, in the first cell', () => {
    expect(phases.targets.map((t) => [t.shard, t.tabletShards.map((ts) => [ts.cell, ts.tablets.length])])).toEqual([
      ['-80', [['zone1', 2], ['zone2', 1]]],
      ['80-', [['zone1', 2], ['zone2', 1]]],
    ]);
    const jobs = files.get('10-reshard-new-shards')!.filter((o) => o.kind === 'Job').map((o) => baseName(o));
    expect(jobs).toEqual(['vtctl-plannedreparentshard-commerce-xx-80', 'vtctl-plannedreparentshard-commerce-80-xx']);
    expect((phases.flow as VReplicationResharding).cells).toEqual(['zone1', 'zone2']);
  });

  test("switching and completing wait for and check every cell's serving graph", () => {
    const switchPrimary = script('14-reshard-switch-primary', 'vtctl-commerce-reshard-switchtraffic-primary');
    for (const cell of ['zone1', 'zone2']) {
      expect(switchPrimary).toContain(`GetSrvKeyspaces commerce ${cell}`);
    }
    expect(script('15-reshard-complete', 'vtctl-commerce-reshard-complete')).toContain('GetSrvKeyspaces commerce zone2');
  });

  test("the source shard is deleted only once its tablets in every cell are gone and no cell serves it", () => {
    const deleteShards = script('16-reshard-delete-shard', 'vtctl-deleteshards-commerce-0');
    const sourceAliases = cluster.shards[0].tabletShards.flatMap((t) => t.aliases);
    expect(sourceAliases).toHaveLength(3);
    for (const alias of sourceAliases) {
      expect(deleteShards).toContain(`PingTablet ${alias}`);
    }
    for (const cell of ['zone1', 'zone2']) {
      expect(deleteShards).toContain(String.raw`wait_for precondition_${cell === 'zone1' ? 3 : 4} 'cell '\''${cell}'\'' serves nothing of commerce from shard 0'`);
    }
  });

  test('every Vitess flag and command is known to Vitess v22', () => {
    expect(checkInvocations(vitessInvocations([...files.values()].flat()), 'modern')).toEqual([]);
  });
});

describe('VitessCluster derives the election Job of a one-shard keyspace that is resharded', () => {
  test("the election is also done once the next partitioning's shards serve the primary", () => {
    const props = twoCellProps();
    const commerce = { ...props.keyspaces![0], partitionings: [Partitioning.equal(1), Partitioning.equal(2)] };
    const { files } = synth({ ...props, keyspaces: [commerce, props.keyspaces![1]] });
    const election = JSON.stringify(findObject(files.get('02-init')!, 'Job', 'vtctl-plannedreparentshard-commerce-0'));
    expect(election).toContain('GetSrvKeyspaces commerce zone1');
    expect(election).toContain('serves primary of commerce from shards -80, 80-): nothing to do');
    const { files: plain } = synth(twoCellProps());
    expect(JSON.stringify(findObject(plain.get('02-init')!, 'Job', 'vtctl-plannedreparentshard-commerce-0'))).not.toContain('GetSrvKeyspaces');
  });
});

describe('VitessCluster.reshard rejects bad input, naming the prop and the value', () => {
  const reshard = (options: ReshardOptions, keyspace = 'customer', props = reshardProps()) => () =>
    new VitessCluster(newApp(), 'Cluster', props).reshard(keyspace, options);
  const context = "VitessCluster.reshard('customer')";

  test('fails on an unknown keyspace', () => {
    expect(reshard({ from: ['0'], to: ['-80', '80-'] }, 'orders')).toThrow(
      "VitessCluster.reshard('orders'): 'keyspace' must be one of the cluster's keyspaces (commerce, customer), got 'orders'",
    );
  });

  test('fails on more than one source shard', () => {
    expect(reshard({ from: ['-80', '80-'], to: ['-40', '40-80', '80-'] })).toThrow(
      `${context}: 'from' must name exactly one shard (the flows split one shard; merging is not supported), got [-80, 80-]`,
    );
  });

  test('fails on a source shard without tablets', () => {
    expect(reshard({ from: ['-40'], to: ['-20', '20-40'] })).toThrow(
      `${context}: 'from' names shard '-40', which has no tablets; the keyspace's shards with tablets are -80, 80-`,
    );
  });

  test('fails on targets that do not cover the source', () => {
    expect(reshard({ from: ['-80'], to: ['-40'] })).toThrow(`${context}: 'to' must be shards that follow one another without gaps or overlaps`);
  });

  test('fails on no targets', () => {
    expect(reshard({ from: ['-80'], to: [] })).toThrow(`${context}: 'to' must name the shards that replace '-80', got []`);
  });

  test('fails on targets that already have tablets', () => {
    const props = reshardProps();
    const app = newApp();
    const cluster = new VitessCluster(app, 'Cluster', props);
    cluster.reshard('customer', { from: ['-80'], to: ['-40', '40-80'] });
    expect(() => cluster.reshard('customer', { from: ['-80'], to: ['-40', '40-80'], firstPhase: 20 })).toThrow(
      `${context}: 'to' names shard '-40', which already has tablets`,
    );
  });

  test('fails on a second resharding with the same firstPhase', () => {
    const props = twoCellProps();
    const customer = { ...props.keyspaces![1], partitionings: [Partitioning.keyRanges(['-80', '80-']), Partitioning.equal(4)] };
    const cluster = new VitessCluster(newApp(), 'Cluster', { ...props, keyspaces: [props.keyspaces![0], customer] });
    cluster.reshard('customer', { from: ['-80'], to: ['-40', '40-80'] });
    expect(() => cluster.reshard('customer', { from: ['80-'], to: ['80-c0', 'c0-'] })).toThrow(
      `${context}: the file 10-reshard-new-shards exists already (an earlier reshard); give this one another 'firstPhase'`,
    );
  });

  test('fails on a firstPhase that is not a file number after the cluster files', () => {
    expect(reshard({ from: ['-80'], to: ['-40', '40-80'], firstPhase: 2 })).toThrow(
      `${context}: 'firstPhase' must be a whole number from 3 to 90 (files 00 to 02 are the cluster's), got 2`,
    );
  });

  test('fails on an unsharded VSchema', () => {
    expect(reshard({ from: ['-80'], to: ['-40', '40-80'], vschema: { sharded: false } })).toThrow(
      `${context}: 'vschema' must be sharded ('sharded: true') for a keyspace of several shards, got sharded: false`,
    );
  });

  test('fails on a VSchema table whose vindex is not declared', () => {
    const vschema = { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { corder: { column_vindexes: [{ column: 'customer_id', name: 'xxhash' }] } } };
    expect(reshard({ from: ['-80'], to: ['-40', '40-80'], vschema })).toThrow(
      `${context}: 'vschema': table 'corder' uses vindex 'xxhash', which is not one of 'vindexes' (hash)`,
    );
  });

  test('fails on a VSchema that shards no table', () => {
    expect(reshard({ from: ['-80'], to: ['-40', '40-80'], vschema: { sharded: true, vindexes: { hash: { type: 'hash' } } } })).toThrow(
      `${context}: 'vschema' must shard at least one table by a column vindex ('tables.<name>.column_vindexes'), got none`,
    );
  });
});

describe("the README's VitessCluster sample", () => {
  test('runs and writes the files and UIDs the README names', () => {
    // GIVEN the sample of the section, importing the library from lib/ and without synth()
    const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    const section = readme.split(/^## /m).find((s) => s.startsWith('Describing a whole cluster: VitessCluster\n'))!;
    const sample = /```ts\n([\s\S]*?)```/.exec(section)![1];
    const source = sample
      .replace("from 'cdk8s-vitess'", "from '../lib'")
      .replace('app.synth();\nrollbackApp.synth();', 'module.exports = { app, cluster, rollbackApp };')
      .replace(/outdir: 'dist\/rollback', /, '')
      .replace(/new App\(\{/g, "new App({ outdir: require('path').join(require('os').tmpdir(), 'cdk8s-vitess-test-readme-never-written'),");
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS } }).outputText;
    const module = { exports: {} as { app: App; cluster: VitessCluster; rollbackApp: App } };

    // WHEN
    new Function('require', 'module', 'exports', js)(require, module, module.exports);

    // THEN
    const { app, cluster, rollbackApp } = module.exports;
    expect(app.charts.map((c) => c.node.id)).toEqual(RESHARDED_CUSTOMER_FILES);
    expect(rollbackApp.charts.map((c) => c.node.id)).toEqual(['reverse-primary', 'reverse-reads']);
    expect(cluster.shards.map((s) => s.tabletShards.map((t) => t.tablets.map((tab) => tab.uid)))).toEqual([
      [[3772060000, 3772060001], [1154854800]],
      [[3542795600, 3542795601, 3542795602]],
      [[1598922500, 1598922501, 1598922502]],
    ]);
    const newShards = app.charts.find((c) => c.node.id === '10-reshard-new-shards')!.toJson();
    expect(newShards.filter((o: any) => o.kind === 'StatefulSet').map((o: any) => o.metadata.name)).toEqual([
      'vttablet-2266183700',
      'vttablet-2266183701',
      'vttablet-2266183702',
      'vttablet-3404809800',
      'vttablet-3404809801',
      'vttablet-3404809802',
    ]);
  });
});

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
  TabletPoolType,
  VitessCluster,
  VitessClusterProps,
  VitessRelease,
} from '../lib';
import { KUBERNETES_VERSIONS, validateManifests } from './util/k8s-schema';
import { checkInvocations, vitessInvocations } from './util/vitess-reference';
import { findObject } from './util/synth';

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
  return objects.map((o) => `${o.kind}/${o.metadata.name}`);
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

  test('tablet UIDs: a block of 100 per shard and cell, in declaration order', () => {
    const uids = cluster.shards.map((s) => [s.keyspace, s.shard, s.tabletShards.map((t) => [t.cell, t.tablets.map((tab) => tab.uid)])]);
    expect(uids).toEqual([
      ['commerce', '0', [['zone1', [100, 101]], ['zone2', [200]]]],
      ['customer', '-80', [['zone1', [300, 301, 302]]]],
      ['customer', '80-', [['zone1', [400, 401, 402]]]],
    ]);
    const statefulSets = all.filter((o) => o.kind === 'StatefulSet' && o.metadata.name.startsWith('vttablet-'));
    expect(statefulSets.map((o) => o.metadata.name)).toEqual(
      ['vttablet-100', 'vttablet-101', 'vttablet-200', 'vttablet-300', 'vttablet-301', 'vttablet-302', 'vttablet-400', 'vttablet-401', 'vttablet-402'],
    );
  });

  test('02-init: a registration per cell, keyspace and durability Jobs, one election per shard, the schema', () => {
    const jobs = files.get('02-init')!.filter((o) => o.kind === 'Job').map((o) => o.metadata.name);
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
    const tablet = findObject(all, 'StatefulSet', 'vttablet-200');
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
    const jobs = files.get('02-init')!.filter((o) => o.kind === 'Job').map((o) => o.metadata.name);
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

  test('explicit uidBase per keyspace', () => {
    const props = twoCellProps();
    const keyspaces = [props.keyspaces![0], { ...props.keyspaces![1], uidBase: 1000 }];
    const { cluster } = synth({ ...props, keyspaces });
    expect(cluster.shards.map((s) => s.tabletShards.map((t) => t.tablets[0].uid))).toEqual([[100, 200], [1000], [1100]]);
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
    const keyspaces = [base.keyspaces![0], { ...base.keyspaces![1], uidBase: 101 }];
    expect(build({ ...base, keyspaces })).toThrow(
      "VitessCluster: 'keyspaces[1].uidBase' gives shard -80 in cell zone1 UIDs 101-103, which collide with 100-101 of keyspaces[0] shard 0 cell zone1",
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

  test('fails on a pool of no tablets', () => {
    expect(build(withKeyspace({ tabletPools: [{ cell: 'zone1', type: REPLICA, replicas: 0 }] }))).toThrow(
      "VitessCluster: 'keyspaces[0].tabletPools[0].replicas' must be a whole number of at least 1, got 0",
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
      .replace('app.synth();', 'module.exports = { app, cluster };')
      .replace('new App({', "new App({ outdir: require('path').join(require('os').tmpdir(), 'cdk8s-vitess-test-readme-never-written'),");
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS } }).outputText;
    const module = { exports: {} as { app: App; cluster: VitessCluster } };

    // WHEN
    new Function('require', 'module', 'exports', js)(require, module, module.exports);

    // THEN
    const { app, cluster } = module.exports;
    expect(app.charts.map((c) => c.node.id)).toEqual(['00-cluster', '01-tablets-commerce-0', '01-tablets-customer--80', '01-tablets-customer-80-', '02-init']);
    expect(cluster.shards.map((s) => s.tabletShards.map((t) => t.tablets.map((tab) => tab.uid)))).toEqual([
      [[100, 101], [200]],
      [[300, 301, 302]],
      [[400, 401, 402]],
    ]);
  });
});

import * as path from 'path';
import { App, Chart, YamlOutputType } from 'cdk8s';
import {
  BackupStorage,
  CellTopology,
  GlobalTopology,
  JobCondition,
  Partitioning,
  ServedType,
  TabletShard,
  TabletPoolSpec,
  TabletPoolType,
  TabletShardProps,
  VitessCluster,
  VitessRelease,
  VtctlJob,
  Vtctld,
  VtworkerResharding,
  VReplicationResharding,
} from './lib';
import { k8s } from './imports/k8s';

/**
 * The example NFS export for backups. Replace both values with your own export; it must be
 * writable by UID 999 and mountable from every node.
 */
export const EXAMPLE_NFS = { server: 'nfs.example.internal', path: '/exports/vitess-backups' };

/** The guide's `messages` table. */
export const MESSAGES_SCHEMA = `CREATE TABLE messages (
  page BIGINT(20) UNSIGNED,
  time_created_ns BIGINT(20) UNSIGNED,
  message VARCHAR(10000),
  PRIMARY KEY (page, time_created_ns)
) ENGINE=InnoDB`;

/**
 * The guide's sharded VSchema: `messages` sharded by a hash of `page`. The guide prints it in the
 * VSchema format of its time (`Sharded`, `ColVindexes`, `Col`); Vitess v9 reads the same content
 * under the protobuf field names.
 */
export const MESSAGES_VSCHEMA = {
  sharded: true,
  vindexes: { hash: { type: 'hash' } },
  tables: { messages: { column_vindexes: [{ column: 'page', name: 'hash' }] } },
};

/** The shards that `test_keyspace/0` is resharded into, in key-range order. */
const TARGET_SHARDS: readonly string[] = ['-80', '80-'];

/**
 * The guide's steps after the primary election, in `scope`: ApplySchema (`messages`), a Backup of
 * the last rdonly tablet, RebuildVSchemaGraph, each waiting for the previous one's effect. A backup
 * counts once its MANIFEST is in `backup` (a listed backup may still be running, or aborted).
 * ApplySchema is also done once the targets serve the primary (resharding copied the schema to
 * them, and the old shard's tablets may be gone); RebuildVSchemaGraph once the cell's SrvVSchema
 * has the keyspace.
 */
function addSchemaAndBackupJobs(scope: Chart, vtctld: Vtctld, shard: TabletShard, backup: BackupStorage): void {
  const release = vtctld.release;
  const keyspace = shard.keyspace;
  const backupTablet = shard.rdonlyAliases[shard.rdonlyAliases.length - 1];
  new VtctlJob(scope, 'ApplySchema', {
    vtctld,
    jobName: `vtctl-applyschema-${keyspace.replace(/_/g, '-')}`,
    waitFor: [JobCondition.shardHasPrimary(keyspace, shard.shard)],
    skipIf: JobCondition.anyOf(
      JobCondition.tableExists(shard.primaryCandidate, 'messages'),
      JobCondition.servedBy(shard.cell, keyspace, ServedType.PRIMARY, TARGET_SHARDS),
    ),
    commands: [['ApplySchema', release.commandFlag('sql', MESSAGES_SCHEMA), keyspace]],
  });
  new VtctlJob(scope, 'Backup', {
    vtctld,
    jobName: `vtctl-backup-${backupTablet}`,
    waitFor: [JobCondition.tableExists(backupTablet, 'messages')],
    skipIf: JobCondition.backupComplete(keyspace, shard.shard, backup),
    commands: [['Backup', backupTablet]],
  });
  new VtctlJob(scope, 'RebuildVSchemaGraph', {
    vtctld,
    jobName: 'vtctl-rebuildvschemagraph',
    waitFor: [JobCondition.backupComplete(keyspace, shard.shard, backup)],
    skipIf: JobCondition.srvVSchemaHasKeyspace(shard.cell, keyspace),
    commands: [['RebuildVSchemaGraph']],
  });
}

/**
 * An app that writes one file per chart into `outdir`, and no construct metadata: with the
 * validation plugin configured, `cdk8s synth` would have each app write `construct-metadata.json`
 * beside its manifests, where `kubectl apply -f <folder>` would take it for one.
 */
function newApp(outdir: string): App {
  return new App({ outdir, yamlOutputType: YamlOutputType.FILE_PER_CHART, recordConstructMetadata: false });
}

/**
 * Changes a user may make to the example later, applied over a running cluster (the tests check
 * which ones Kubernetes accepts as updates). Each is left as in the guide when not given.
 */
export interface ExampleChanges {
  /** vtgate's replicas (the guide: 3). */
  readonly vtgateReplicas?: number;
  /** The vttablet containers' memory request (the library's default: 256Mi). */
  readonly vttabletMemoryRequest?: string;
  /** The rdonly tablets of `test_keyspace/0` (the guide: 2); one more adds tablet 105. */
  readonly rdonlyCount?: number;
  /** The size of each tablet's data volume of `test_keyspace/0` (the library's default: 10Gi). */
  readonly tabletStorageSize?: string;
  /**
   * The release of the VReplication flow (`dist/vreplication/`); the vtworker flow always runs
   * Vitess v9.0. It must have vtctldclient and VTOrc (v16 or later).
   * @default VitessRelease.V22_0
   */
  readonly modernRelease?: VitessRelease;
}

/**
 * The tablet pools of `test_keyspace/0` in cell `test`: 3 replicas and 2 rdonly tablets, as
 * {@link ExampleChanges} changes them.
 */
function examplePools(changes: ExampleChanges): TabletPoolSpec[] {
  const common = {
    cell: 'test',
    ...(changes.vttabletMemoryRequest !== undefined
      ? { vttabletResources: { requests: { cpu: k8s.Quantity.fromString('250m'), memory: k8s.Quantity.fromString(changes.vttabletMemoryRequest) }, limits: { memory: k8s.Quantity.fromString('1Gi') } } }
      : {}),
    ...(changes.tabletStorageSize !== undefined ? { storageSize: changes.tabletStorageSize } : {}),
  };
  return [
    { ...common, type: TabletPoolType.REPLICA, replicas: 3 },
    { ...common, type: TabletPoolType.RDONLY, replicas: changes.rdonlyCount ?? 2 },
  ];
}

/**
 * The guide's cluster as a {@link VitessCluster} in `app`: etcd for `global` and `test`, vtctld,
 * vtgate (and VTOrc on releases that have it) in `00-cluster`, the tablets of `test_keyspace/0`
 * (UIDs 100-104) in `01-tablets-test-keyspace-0`, and in `02-init` the cell's registration, the
 * keyspace's Jobs where the release uses them (durability `semi_sync`) and the election,
 * followed by the guide's ApplySchema, Backup and RebuildVSchemaGraph.
 */
function addExampleCluster(app: App, release: VitessRelease, backup: BackupStorage, changes: ExampleChanges, vtorc: boolean): VitessCluster {
  const cluster = new VitessCluster(app, 'Cluster', {
    release,
    vtorc,
    globalTopology: GlobalTopology.managed(),
    cells: [{ name: 'test', topology: CellTopology.managed(), vtgate: { replicas: changes.vtgateReplicas } }],
    backup,
    keyspaces: [
      {
        name: 'test_keyspace',
        durabilityPolicy: 'semi_sync',
        supersededBy: TARGET_SHARDS,
        partitionings: [Partitioning.equal(1)],
        tabletPools: examplePools(changes),
      },
    ],
  });
  addSchemaAndBackupJobs(cluster.initChart, cluster.vtctld, cluster.shards[0].tabletShards[0], backup);
  return cluster;
}

/**
 * Resharding's first phase, in `scope`: the guide's sharded VSchema, the tablets of `-80` (UIDs
 * 200-204) and `80-` (300-304), and a Job electing each new shard's primary.
 */
function addNewShards(scope: Chart, vtctld: Vtctld, shardProps: Omit<TabletShardProps, 'shard' | 'uidBase'>): TabletShard[] {
  const keyspace = shardProps.keyspace;
  new VtctlJob(scope, 'ApplyVSchema', {
    vtctld,
    jobName: `vtctl-applyvschema-${keyspace.replace(/_/g, '-')}`,
    waitFor: [JobCondition.keyspaceExists(keyspace)],
    skipIf: JobCondition.vschemaShardsTable(keyspace, { table: 'messages', column: 'page', vindex: 'hash', vindexType: 'hash' }),
    commands: [['ApplyVSchema', vtctld.release.commandFlag('vschema', JSON.stringify(MESSAGES_VSCHEMA)), keyspace]],
  });
  const targets = [
    new TabletShard(scope, 'TestKeyspaceShardXX80', { ...shardProps, shard: TARGET_SHARDS[0], uidBase: 200 }),
    new TabletShard(scope, 'TestKeyspaceShard80XX', { ...shardProps, shard: TARGET_SHARDS[1], uidBase: 300 }),
  ];
  targets[0].initPrimaryJob(scope, 'InitPrimaryXX80', vtctld);
  targets[1].initPrimaryJob(scope, 'InitPrimary80XX', vtctld);
  return targets;
}

/**
 * The source guide's cluster on Vitess v9.0 (the vtworker flow), one chart per file, named so that
 * their lexical order is the order the guide applies them in:
 * - `00-cluster`: etcd for `global` and `test`, vtctld, vtgate;
 * - `01-tablets-test-keyspace-0`: the tablets of `test_keyspace/0`, in a file of their own so that
 *   `kubectl delete -f` removes exactly them once the keyspace is resharded;
 * - `02-init`: the Jobs AddCellInfo, InitShardMaster, ApplySchema, Backup, RebuildVSchemaGraph,
 *   each waiting for the previous one's effect;
 * - `10-reshard-new-shards` to `17-reshard-delete-shard`: resharding `0` into `-80` and `80-`, one
 *   phase per file (see {@link VtworkerResharding}).
 *
 * The second app, in `rollback/`, holds the rollbacks of the rdonly and replica migrations, outside
 * the forward order.
 */
export function buildVtworkerFlow(outdir: string, changes: ExampleChanges = {}): App[] {
  const app = newApp(outdir);
  const chart = (id: string): Chart => new Chart(app, id, { disableResourceNameHashes: true });
  const release = VitessRelease.V9_0;
  const keyspace = 'test_keyspace';
  const cell = 'test';
  const backup = BackupStorage.nfs(EXAMPLE_NFS);

  const { vtctld, globalTopology, shards } = addExampleCluster(app, release, backup, changes, false);
  const shard0 = shards[0].tabletShards[0];
  const shardProps = { release, globalTopology, vtctld, cell, keyspace, backup };

  // (a) the sharded VSchema, the new shards' tablets and their masters.
  const newShards = chart('10-reshard-new-shards');
  const targets = addNewShards(newShards, vtctld, shardProps);

  const resharding = new VtworkerResharding({ vtctld, globalTopology, source: shard0, targets });
  // (b) to (h), one file each.
  resharding.copySchemaJob(chart('11-reshard-copy-schema'), 'CopySchemaShard');
  resharding.splitCloneJob(chart('12-reshard-split-clone'), 'SplitClone');
  resharding.splitDiffJob(chart('13-reshard-split-diff'), 'SplitDiff');
  resharding.migrateServedTypeJob(chart('14-reshard-migrate-rdonly'), 'MigrateRdonly', ServedType.RDONLY);
  resharding.migrateServedTypeJob(chart('15-reshard-migrate-replica'), 'MigrateReplica', ServedType.REPLICA);
  resharding.migrateServedTypeJob(chart('16-reshard-migrate-master'), 'MigrateMaster', ServedType.PRIMARY);
  resharding.deleteSourceShardJob(chart('17-reshard-delete-shard'), 'DeleteShard');

  const rollback = newApp(path.join(outdir, 'rollback'));
  const rollbackChart = (id: string): Chart => new Chart(rollback, id, { disableResourceNameHashes: true });
  resharding.reverseServedTypeJob(rollbackChart('reverse-replica'), 'ReverseReplica', ServedType.REPLICA);
  resharding.reverseServedTypeJob(rollbackChart('reverse-rdonly'), 'ReverseRdonly', ServedType.RDONLY);
  return [app, rollback];
}

/**
 * The same cluster on Vitess v22.0 (the current releases; {@link ExampleChanges.modernRelease}
 * for another one), one chart per file:
 * - `00-cluster`: etcd for `global` and `test`, vtctld, vtgate, VTOrc;
 * - `01-tablets-test-keyspace-0`: the tablets of `test_keyspace/0`;
 * - `02-init`: the Jobs AddCellInfo, CreateKeyspace, SetKeyspaceDurabilityPolicy `semi_sync`,
 *   PlannedReparentShard, ApplySchema, Backup, RebuildVSchemaGraph, each waiting for the previous
 *   one's effect;
 * - `10-reshard-new-shards` to `16-reshard-delete-shard`: resharding `0` into `-80` and `80-` with
 *   VReplication, one phase per file (see {@link VReplicationResharding}).
 *
 * The second app, in `rollback/`, holds the ReverseTraffic rollbacks, outside the forward order.
 */
export function buildVReplicationFlow(outdir: string, changes: ExampleChanges = {}): App[] {
  const app = newApp(outdir);
  const chart = (id: string): Chart => new Chart(app, id, { disableResourceNameHashes: true });
  const release = changes.modernRelease ?? VitessRelease.V22_0;
  const keyspace = 'test_keyspace';
  const cell = 'test';
  const backup = BackupStorage.nfs(EXAMPLE_NFS);

  const { vtctld, globalTopology, shards } = addExampleCluster(app, release, backup, changes, true);
  const shard0 = shards[0].tabletShards[0];

  // The sharded VSchema, the new shards' tablets and their primaries.
  const newShards = chart('10-reshard-new-shards');
  const targets = addNewShards(newShards, vtctld, { release, globalTopology, cell, keyspace, backup });

  const resharding = new VReplicationResharding({ vtctld, source: shard0, targets });
  resharding.createJob(chart('11-reshard-create'), 'ReshardCreate');
  resharding.vdiffJob(chart('12-reshard-vdiff'), 'VDiff');
  resharding.switchTrafficJob(chart('13-reshard-switch-reads'), 'SwitchReads', [ServedType.RDONLY, ServedType.REPLICA]);
  resharding.switchTrafficJob(chart('14-reshard-switch-primary'), 'SwitchPrimary', [ServedType.PRIMARY]);
  resharding.completeJob(chart('15-reshard-complete'), 'Complete');
  resharding.deleteSourceShardJob(chart('16-reshard-delete-shard'), 'DeleteShards');

  const rollback = newApp(path.join(outdir, 'rollback'));
  const rollbackChart = (id: string): Chart => new Chart(rollback, id, { disableResourceNameHashes: true });
  resharding.reverseTrafficJob(rollbackChart('reverse-primary'), 'ReversePrimary', [ServedType.PRIMARY]);
  resharding.reverseTrafficJob(rollbackChart('reverse-reads'), 'ReverseReads', [ServedType.RDONLY, ServedType.REPLICA]);
  return [app, rollback];
}

/** Every example app, each flow writing into its own folder of `outdir`. */
export function buildApps(outdir: string, changes: ExampleChanges = {}): App[] {
  return [
    ...buildVtworkerFlow(path.join(outdir, 'vtworker'), changes),
    ...buildVReplicationFlow(path.join(outdir, 'vreplication'), changes),
  ];
}

if (require.main === module) {
  for (const app of buildApps(process.env.CDK8S_OUTDIR ?? 'dist')) {
    app.synth();
  }
}

import * as path from 'path';
import { App, YamlOutputType } from 'cdk8s';
import {
  BackupStorage,
  CellTopology,
  GlobalTopology,
  KeyspaceVSchema,
  Partitioning,
  TabletPoolSpec,
  TabletPoolType,
  VitessCluster,
  VitessRelease,
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
export const MESSAGES_VSCHEMA: KeyspaceVSchema = {
  sharded: true,
  vindexes: { hash: { type: 'hash' } },
  tables: { messages: { column_vindexes: [{ column: 'page', name: 'hash' }] } },
};

/** The shards that `test_keyspace/0` is resharded into, in key-range order. */
const TARGET_SHARDS: readonly string[] = ['-80', '80-'];

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
  /**
   * The rdonly tablets of each shard of `test_keyspace` (the guide: 2); one more adds tablet 105
   * to `0` (and 205, 305 to the new shards).
   */
  readonly rdonlyCount?: number;
  /** The size of each tablet's data volume of `test_keyspace` (the library's default: 10Gi). */
  readonly tabletStorageSize?: string;
  /**
   * The release of the VReplication flow (`dist/vreplication/`); the vtworker flow always runs
   * Vitess v9.0. It must have vtctldclient and VTOrc (v16 or later).
   * @default VitessRelease.V22_0
   */
  readonly modernRelease?: VitessRelease;
}

/**
 * The tablet pools of `test_keyspace` in cell `test`, for each of its shards: 3 replicas and 2
 * rdonly tablets, as {@link ExampleChanges} changes them.
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
 * The guide's cluster on `release` (with VTOrc when `vtorc`), one chart per file, named so that their lexical order is the
 * order to apply them in (`outdir`), and the rollbacks outside that order (`outdir/rollback`):
 * - `00-cluster`: etcd for `global` and `test`, vtctld, vtgate (and VTOrc on releases that have it);
 * - `01-tablets-test-keyspace-0`: the tablets of `test_keyspace/0` (UIDs 100-104), in a file of
 *   their own so that `kubectl delete -f` removes exactly them once the keyspace is resharded;
 * - `02-init`: the cell's registration, the keyspace's Jobs where the release uses them
 *   (durability `semi_sync`), the election (InitShardMaster or PlannedReparentShard), then the
 *   guide's ApplySchema, Backup and RebuildVSchemaGraph, each waiting for the previous one's effect;
 * - from `10-reshard-new-shards`: the sharded VSchema, the tablets of `-80` (UIDs 200-204) and
 *   `80-` (300-304) and their elections, then resharding `0` into them, one phase per file, with
 *   the release's flow ({@link VitessCluster.reshard}).
 */
function buildFlow(outdir: string, release: VitessRelease, vtorc: boolean, changes: ExampleChanges): App[] {
  const app = newApp(outdir);
  const rollbackApp = newApp(path.join(outdir, 'rollback'));
  const backup = BackupStorage.nfs(EXAMPLE_NFS);
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
        // The guide's aliases: test-0000000100 to 104 for shard 0, then 200 and 300 for the new shards.
        uidBase: 100,
        partitionings: [Partitioning.equal(1), Partitioning.keyRanges(TARGET_SHARDS)],
        schema: { messages: MESSAGES_SCHEMA },
        initialBackup: true,
        tabletPools: examplePools(changes),
      },
    ],
  });
  cluster.reshard('test_keyspace', { from: ['0'], to: TARGET_SHARDS, vschema: MESSAGES_VSCHEMA, rollbackApp });
  return [app, rollbackApp];
}

/**
 * The source guide's cluster on Vitess v9.0, resharded with vtworker (`10-reshard-new-shards` to
 * `17-reshard-delete-shard`); its rollbacks undo the rdonly and replica migrations.
 */
export function buildVtworkerFlow(outdir: string, changes: ExampleChanges = {}): App[] {
  return buildFlow(outdir, VitessRelease.V9_0, false, changes);
}

/**
 * The same cluster on Vitess v22.0 (the current releases; {@link ExampleChanges.modernRelease} for
 * another one), resharded with VReplication (`10-reshard-new-shards` to `16-reshard-delete-shard`);
 * its rollbacks are ReverseTraffic.
 */
export function buildVReplicationFlow(outdir: string, changes: ExampleChanges = {}): App[] {
  return buildFlow(outdir, changes.modernRelease ?? VitessRelease.V22_0, true, changes);
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

import { App, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { k8s } from '../../imports/k8s';
import type { BackupStorage } from '../backup-storage';
import type { ITopologyServer, JobPodOptions } from '../interfaces';
import type { PodExtensions } from '../workload-options';
import { KeyRange } from '../key-range';
import { VitessRelease, VtctlClient } from '../release';
import { TopologyServer } from '../topology-server';
import { MAX_TABLET_UID, compareShardStarts, fnv1a32, inCluster, keyspaceObjectName, validateClusterName, validateKeyRangeCover } from '../internal/names';
import { AddCellInfoJob } from '../jobs/add-cell-info-job';
import { BackupSchedule, BackupScheduleOptions } from '../jobs/backup-schedule';
import { JobCondition } from '../jobs/job-condition';
import { VtctlJob } from '../jobs/vtctl-job';
import { EtcdCell } from '../constructs/etcd-cell';
import { TabletShard } from '../constructs/tablet-shard';
import type { MysqldExporterOptions } from '../constructs/tablet-shard';
import { Vtctld } from '../constructs/vtctld';
import { Vtgate, VtgateAutoscalingOptions, VtgateMysqlService, VtgateServiceOptions, VtgateServiceType, VtgateTlsOptions } from '../constructs/vtgate';
import { Vtorc } from '../constructs/vtorc';
import { Vtadmin, VtadminRbac } from '../constructs/vtadmin';
import { VReplicationResharding } from '../flows/vreplication-resharding';
import { VtworkerResharding } from '../flows/vtworker-resharding';
import { ServedType } from '../jobs/job-condition';

/** The first release with VTOrc and vtctldclient, where the cluster runs VTOrc. */
const FIRST_VTORC_RELEASE = 16;
/** Each shard and cell gets a block of this many tablet UIDs. */
const UID_BLOCK = 100;
/** The first UID of the first block. */
const FIRST_UID = 100;

/** The size, storage and resources of an etcd cluster the library runs, and its pods' extensions. */
export interface ManagedEtcdOptions extends PodExtensions {
  /**
   * etcd members.
   * @default 3
   */
  readonly replicas?: number;
  /**
   * The size of each member's data volume.
   * @default - the EtcdCell default
   */
  readonly storageSize?: string;
  /**
   * The StorageClass of the data volumes.
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
  /**
   * The etcd container's resources.
   * @default - the EtcdCell default
   */
  readonly resources?: k8s.ResourceRequirements;
}

/** Where the global topology lives: an etcd the cluster runs, or one it only reaches. */
export class GlobalTopology {
  /** An etcd cluster `etcd-global` in the cluster's first chart. */
  public static managed(options: ManagedEtcdOptions = {}): GlobalTopology {
    return new GlobalTopology(options, undefined);
  }

  /** An etcd cluster the library does not run, at `address` (`host:port`, comma-separated). */
  public static external(address: string): GlobalTopology {
    return new GlobalTopology(undefined, address);
  }

  private constructor(
    /** @internal */ public readonly _managed: ManagedEtcdOptions | undefined,
    /** @internal */ public readonly _address: string | undefined,
  ) {}
}

/** Where a cell's topology lives. */
export class CellTopology {
  /** Inside the global topology's etcd (the operator's default): no etcd of the cell's own. */
  public static global(): CellTopology {
    return new CellTopology('global', undefined, undefined);
  }

  /** An etcd cluster `etcd-<cell>` of the cell's own, in the cluster's first chart. */
  public static managed(options: ManagedEtcdOptions = {}): CellTopology {
    return new CellTopology('managed', options, undefined);
  }

  /** An etcd cluster the library does not run, at `address` (`host:port`, comma-separated). */
  public static external(address: string): CellTopology {
    return new CellTopology('external', undefined, address);
  }

  private constructor(
    /** @internal */ public readonly _kind: 'global' | 'managed' | 'external',
    /** @internal */ public readonly _managed: ManagedEtcdOptions | undefined,
    /** @internal */ public readonly _address: string | undefined,
  ) {}
}

/** A cell's vtgate, and its pods' extensions. */
export interface CellVtgateSpec extends PodExtensions {
  /**
   * vtgate replicas; not with `autoscaling`.
   * @default - the Vtgate default
   */
  readonly replicas?: number;
  /**
   * A HorizontalPodAutoscaler of the cell's vtgates instead of a fixed number
   * ({@link VtgateProps.autoscaling}); not with `replicas`.
   * @default - a fixed number of replicas
   */
  readonly autoscaling?: VtgateAutoscalingOptions;
  /**
   * The vtgate container's resources (the requests that `autoscaling` measures against).
   * @default - the Vtgate default
   */
  readonly resources?: k8s.ResourceRequirements;
  /**
   * TLS on the MySQL port, from a Secret ({@link VtgateProps.tls}).
   * @default - no TLS
   */
  readonly tls?: VtgateTlsOptions;
  /**
   * The type of the cell's MySQL Service `vtgate-<cell>-mysql` (the Service `vtgate-<cell>` with
   * every port is always ClusterIP).
   * @default VtgateServiceType.CLUSTER_IP
   */
  readonly serviceType?: VtgateServiceType;
  /**
   * The Secret holding vtgate's MySQL users (see {@link VtgateProps.mysqlAuthSecretName}).
   * @default - no MySQL authentication
   */
  readonly mysqlAuthSecretName?: string;
}

/** A cell of the cluster. */
export interface CellSpec {
  /** The cell's name, e.g. `zone1`. */
  readonly name: string;
  /**
   * The zone the cell's pods run in: a required node affinity on `topology.kubernetes.io/zone`.
   * @default - no zone: the pods run on any node
   */
  readonly zone?: string;
  /**
   * The cell-local topology.
   * @default CellTopology.global()
   */
  readonly topology?: CellTopology;
  /**
   * The cell's vtgate.
   * @default - one vtgate with the Vtgate defaults
   */
  readonly vtgate?: CellVtgateSpec;
}

/** The shards of a keyspace. Its shards must tile the whole key space, without gap or overlap. */
export class Partitioning {
  /** `parts` equal shards ({@link KeyRange.equalShards}): 1 is the unsharded `0`. */
  public static equal(parts: number): Partitioning {
    return new Partitioning(KeyRange.equalShards(parts));
  }

  /** Explicit key ranges, e.g. `['-40', '40-80', '80-']`. */
  public static keyRanges(shards: readonly string[]): Partitioning {
    return new Partitioning([...shards]);
  }

  private constructor(/** The shard names, as given. */ public readonly shards: readonly string[]) {}
}

/** The tablet types a pool can hold. */
export enum TabletPoolType {
  /** Primary-eligible replicas. */
  REPLICA = 'replica',
  /** Read-only tablets (batch, backups, resharding's copies). */
  RDONLY = 'rdonly',
}

/**
 * Tablets of one type in one cell, for every shard of the keyspace, and their pods' extensions
 * (`extraFlags` of `vttablet` and `mysqlctld`, ...). The replica and rdonly pools of a cell are one
 * {@link TabletShard} per shard: they must agree on resources, storage, image and extensions.
 */
export interface TabletPoolSpec extends PodExtensions {
  /** The cell, one of the cluster's `cells`. */
  readonly cell: string;
  /** The tablet type. */
  readonly type: TabletPoolType;
  /** Tablets of this type per shard in the cell. */
  readonly replicas: number;
  /**
   * The vttablet container's resources. Pools of one cell must agree on it.
   * @default - the TabletShard default
   */
  readonly vttabletResources?: k8s.ResourceRequirements;
  /**
   * The mysqld container's resources. Pools of one cell must agree on it.
   * @default - the TabletShard default
   */
  readonly mysqldResources?: k8s.ResourceRequirements;
  /**
   * The size of each tablet's data volume. Pools of one cell must agree on it.
   * @default - the TabletShard default
   */
  readonly storageSize?: string;
  /**
   * The StorageClass of the data volumes. Pools of one cell must agree on it.
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
  /**
   * The image of the mysql container ({@link TabletShardProps.mysqldImage}). Pools of one cell
   * must agree on it.
   * @default - the release's image
   */
  readonly mysqldImage?: string;
  /**
   * A Prometheus mysqld_exporter sidecar in every tablet pod
   * ({@link TabletShardProps.mysqldExporter}). Pools of one cell must agree on it.
   * @default - no exporter
   */
  readonly mysqldExporter?: MysqldExporterOptions;
}

/** vtctld's pods' extensions, and the pod options of the cluster's command Jobs. */
export interface ClusterVtctldSpec extends PodExtensions {
  /**
   * The pod options of every command Job of the cluster ({@link VtctldProps.jobOptions}).
   * @default - none
   */
  readonly jobOptions?: JobPodOptions;
}

/**
 * The cluster's VTAdmin ({@link Vtadmin}), which discovers its vtctld and every cell's vtgate, and
 * its pods' extensions.
 */
export interface ClusterVtadminSpec extends PodExtensions {
  /**
   * The RBAC rules ({@link VtadminProps.rbac}).
   * @default - read-only: `get` on every resource but VExplain, for every subject
   */
  readonly rbac?: VtadminRbac;
  /**
   * The number of pods.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * The image of the API and web containers.
   * @default - the release's {@link VitessRelease.vtadminImage}
   */
  readonly image?: string;
  /**
   * The API container's resources.
   * @default - the Vtadmin default
   */
  readonly apiResources?: k8s.ResourceRequirements;
  /**
   * The web container's resources.
   * @default - the Vtadmin default
   */
  readonly webResources?: k8s.ResourceRequirements;
  /**
   * Who may reach the web and API ports, as NetworkPolicy peers.
   * @default - every source
   */
  readonly clients?: readonly k8s.NetworkPolicyPeer[];
}

/** A keyspace of the cluster. */
export interface KeyspaceSpec {
  /** The keyspace's name, e.g. `commerce`. */
  readonly name: string;
  /**
   * The durability policy, set by the CreateKeyspace and SetKeyspaceDurabilityPolicy Jobs on
   * releases with vtctldclient (v22 and the later profiles); releases before have no such Jobs.
   * @default 'semi_sync'
   */
  readonly durabilityPolicy?: string;
  /**
   * Schema SQL by table name, each applied to the keyspace by an ApplySchema Job once every
   * shard has a primary; it does nothing once the table exists on the primary candidate of the
   * keyspace's first shard.
   * @default - none
   */
  readonly schema?: { readonly [table: string]: string };
  /**
   * Whether `02-init` takes a first backup of every shard once its schema is there: a Backup Job
   * `vtctl-backup-<alias>` per shard of the first partitioning, of the shard's last rdonly tablet in
   * its first cell (its last replica other than the primary candidate when it has none), once the
   * `schema` tables exist on that tablet (once the shard has a primary, without `schema`); done once
   * the backup storage holds a complete backup of the shard (a MANIFEST), or, with an object store
   * (S3, GCS, Azure Blob), once vtctld lists a backup of it ({@link JobCondition.backupListed}).
   * Needs `backup`.
   * @default false
   */
  readonly initialBackup?: boolean;
  /**
   * The keyspace's VSchema, applied by an ApplyVSchema Job `vtctl-applyvschema-<keyspace>` in
   * `02-init` once the keyspace exists (vtgate routes a sharded keyspace's queries only with it).
   * It must be sharded and shard at least one table by a column vindex: the Job is done once
   * `GetVSchema` shows every such table sharded by its primary vindex.
   * @default - no VSchema Job (an unsharded keyspace needs none)
   */
  readonly vschema?: KeyspaceVSchema;
  /**
   * The keyspace's shards; each partitioning must tile the key space. The first one is the
   * keyspace's shards when the cluster is created (their tablets are in the `01-tablets-...`
   * files); each later one is a resharding target, whose tablets {@link VitessCluster.reshard}
   * creates. Every shard of every partitioning gets its tablet UIDs here, so that they never
   * change when a resharding is added.
   */
  readonly partitionings: readonly Partitioning[];
  /** The tablets of every shard, per cell. Each cell with pools needs a replica pool. */
  readonly tabletPools: readonly TabletPoolSpec[];
  /**
   * The UID of the keyspace's first tablet; its blocks follow one another from there, in
   * declaration order (see {@link VitessCluster}).
   * @default - each block at a hash of the keyspace, shard and cell
   */
  readonly uidBase?: number;
  /**
   * Scheduled backups with retention ({@link BackupSchedule}): per schedule, a CronJob for each shard
   * of every partitioning, in the file `03-backup-schedules`. A shard's Jobs do nothing while it does
   * not exist or does not serve its primary, so that the schedules follow a resharding: the new
   * shards are backed up once they serve, the old one no longer. `stagger` spreads the shards of
   * each partitioning, in key-range order. Needs `backup`.
   * @default - none
   */
  readonly backupSchedules?: readonly BackupScheduleOptions[];
}

/** The props of a {@link VitessCluster}. */
export interface VitessClusterProps {
  /** The Vitess release of every component. */
  readonly release: VitessRelease;
  /**
   * The cluster's name: it prefixes the name of every object (`<name>-vtctld`,
   * `<name>-vttablet-<uid>`, `<name>-vtctl-addcellinfo-<cell>-<hash>`) and every file
   * (`<name>-00-cluster`), and labels every pod `app.kubernetes.io/instance: <name>`, which every
   * selector and NetworkPolicy peer includes, so that two clusters can share a namespace (and an
   * app). Tablet UIDs need to be unique only within the cluster.
   * @default - no prefix and no instance label: the names of the constructs
   */
  readonly name?: string;
  /**
   * The namespace of every object (the charts' namespace).
   * @default - none: the namespace of `kubectl apply`
   */
  readonly namespace?: string;
  /** The global topology. */
  readonly globalTopology: GlobalTopology;
  /** The cells; the first one hosts vtctld. At least one. */
  readonly cells: readonly CellSpec[];
  /**
   * The keyspaces.
   * @default - none
   */
  readonly keyspaces?: readonly KeyspaceSpec[];
  /**
   * Whether to run VTOrc (which elects and repairs primaries). `true` on a release without VTOrc
   * is the error of {@link Vtorc}.
   * @default - on releases with vtctldclient from v16 on (v22 and the later profiles)
   */
  readonly vtorc?: boolean;
  /**
   * The backup storage (a file volume, S3, GCS or Azure Blob): its flags, volumes, mounts and
   * environment go to vtctld and to every tablet of every pool.
   * @default - no backups
   */
  readonly backup?: BackupStorage;
  /**
   * vtctld's pods' extensions and the command Jobs' pod options.
   * @default - none
   */
  readonly vtctld?: ClusterVtctldSpec;
  /**
   * VTOrc's pods' extensions (where the cluster runs VTOrc).
   * @default - none
   */
  readonly vtorcPods?: PodExtensions;
  /**
   * VTAdmin (web UI and API, `<name>-vtadmin`) in `00-cluster`, in the first cell's zone, which
   * discovers vtctld and every cell's vtgate. Needs a release with VTAdmin
   * ({@link VitessRelease.vtadminImage}: v22 and later); `{}` runs it with the defaults.
   * @default - no VTAdmin
   */
  readonly vtadmin?: ClusterVtadminSpec;
  /**
   * The cluster-wide MySQL Service `vtgate-mysql` (prefixed with `name`), which selects the vtgates
   * of every cell of the cluster and has the MySQL port alone ({@link VtgateMysqlService}): its
   * type, annotations, source ranges and traffic policy.
   * @default - a ClusterIP Service
   */
  readonly vtgateMysqlService?: VtgateServiceOptions;
}

/** The tablets of one shard: its chart and its TabletShard per cell with pools. */
export interface ClusterShard {
  /** The keyspace. */
  readonly keyspace: string;
  /** The shard name. */
  readonly shard: string;
  /** The chart `01-tablets-<keyspace>-<shard>`. */
  readonly chart: Chart;
  /** The shard's tablets per cell, in the order of `cells`. */
  readonly tabletShards: readonly TabletShard[];
}

/** A vindex of a {@link KeyspaceVSchema}, in the protobuf JSON names Vitess reads. */
export interface VSchemaVindex {
  /** The vindex type, e.g. `hash`. */
  readonly type: string;
  /**
   * The vindex's parameters.
   * @default - none
   */
  readonly params?: { readonly [name: string]: string };
  /**
   * The table that owns a lookup vindex.
   * @default - none
   */
  readonly owner?: string;
}

/** A column vindex of a table in a {@link KeyspaceVSchema}. */
export interface VSchemaColumnVindex {
  /** The column, e.g. `page`. */
  readonly column: string;
  /** The vindex's name in `vindexes`, e.g. `hash`. */
  readonly name: string;
}

/** A table of a {@link KeyspaceVSchema}; fields beyond `column_vindexes` are passed as given. */
export interface VSchemaTable {
  /**
   * The table's column vindexes, the primary one first.
   * @default - none
   */
  readonly column_vindexes?: readonly VSchemaColumnVindex[];
  readonly [field: string]: unknown;
}

/**
 * A keyspace's VSchema as `ApplyVSchema --vschema` takes it (the protobuf JSON names of
 * `proto/vschema.proto`, which v9's vtctl and v22's vtctldclient both read). Fields beyond these are
 * passed as given.
 */
export interface KeyspaceVSchema {
  /** Whether the keyspace is sharded. */
  readonly sharded: boolean;
  /**
   * The vindexes, by name.
   * @default - none
   */
  readonly vindexes?: { readonly [name: string]: VSchemaVindex };
  /**
   * The tables, by name.
   * @default - none
   */
  readonly tables?: { readonly [name: string]: VSchemaTable };
  readonly [field: string]: unknown;
}

/** Options of {@link VitessCluster.reshard}. */
export interface ReshardOptions {
  /** The shard to split, one shard with tablets, e.g. `['0']`. */
  readonly from: readonly string[];
  /**
   * The shards that replace it, e.g. `['-80', '80-']`: shards of a later partitioning of the
   * keyspace (which reserves their tablet UIDs), covering exactly the source's key range.
   */
  readonly to: readonly string[];
  /**
   * The VSchema the keyspace gets in the first phase, before the new shards' tablets start
   * (it must be sharded and shard at least one table by a column vindex: the Job is done once
   * `GetVSchema` shows every such table sharded by its primary vindex).
   * @default - the keyspace's VSchema is left as it is
   */
  readonly vschema?: KeyspaceVSchema;
  /**
   * The number of the first phase's file (`<n>-reshard-new-shards`); the other phases follow it.
   * A second resharding of the cluster needs another number.
   * @default 10
   */
  readonly firstPhase?: number;
  /**
   * The app that receives the rollback charts (typically one writing into `<outdir>/rollback`),
   * outside the forward order.
   * @default - no rollback charts
   */
  readonly rollbackApp?: App;
}

/** What {@link VitessCluster.reshard} made. */
export interface ReshardPhases {
  /** The flow's phases, whose methods can add more Jobs. */
  readonly flow: VtworkerResharding | VReplicationResharding;
  /** The new shards, with their tablets in the first phase's chart. */
  readonly targets: readonly ClusterShard[];
  /** The phase charts, in the order to apply them. */
  readonly charts: readonly Chart[];
  /** The rollback charts, in `rollbackApp`. */
  readonly rollbacks: readonly Chart[];
}

/**
 * A whole Vitess cluster described once, as the charts (ordered files) of `app`:
 * - `00-cluster`: the global etcd (when managed), each cell's etcd (when managed), vtctld in the
 *   first cell, a vtgate per cell (`vtgate-<cell>`, with its MySQL Service `vtgate-<cell>-mysql`), the
 *   cluster-wide MySQL Service `vtgate-mysql` over every cell's vtgates, VTOrc on v16 and later, VTAdmin
 *   when `vtadmin` is given;
 * - `01-tablets-<keyspace>-<shard>` per shard of every partitioning, `_` in the keyspace name
 *   becoming `-` (`01-tablets-customer--80`, `01-tablets-customer-80-`): a {@link TabletShard}
 *   per cell with pools, so that `kubectl delete -f` removes exactly one shard's tablets;
 * - `02-init`: per cell an {@link AddCellInfoJob}, per keyspace CreateKeyspace and
 *   SetKeyspaceDurabilityPolicy Jobs (releases with vtctldclient), one primary election per shard (of a
 *   replica in the first cell with pools: InitShardMaster on releases that have it,
 *   PlannedReparentShard on the others), the schema Jobs `vtctl-applyschema-<keyspace>-<table>`;
 * - `03-backup-schedules`, when a keyspace has `backupSchedules`: the CronJobs of its
 *   {@link BackupSchedule}s, in a file of their own so that they stay applied, and can be suspended
 *   or removed, apart from `02-init` (whose Jobs are done once and which a resharded cluster stops
 *   applying) and from `00-cluster` (whose objects run the cluster).
 *
 * Each chart is a direct child of `app` (cdk8s names a file after its chart's path), with
 * `disableResourceNameHashes` and the cluster's `namespace`. Object names are the constructs'
 * own (`vtctld`, `vtgate-<cell>`, `etcd-<cell>`, `vttablet-<uid>`), prefixed with the cluster's
 * `name` when it has one (which also prefixes the files and labels the pods, so that two clusters
 * can share a namespace).
 *
 * Without VTOrc, each replica hands the primary role off through vtctld before it stops
 * ({@link TabletShardProps.vtctld}); with VTOrc, VTOrc replaces a stopped primary.
 *
 * Tablet UIDs: each (shard, cell with pools) gets a block of 100 UIDs. A tablet's UID is its
 * StatefulSet's name and its MySQL server ID, so it must never change when the props grow: the
 * block is picked by a hash of the keyspace, shard and cell alone (the 32-bit FNV-1a hash of
 * `<keyspace>/<shard>/<cell>`, one of the blocks of 100 from 100 to 4294967199), whatever else
 * the props declare or in which order. A keyspace's `uidBase` puts its blocks one after the other
 * from there instead, in declaration order (partitionings and their shards, then cells in the
 * order of `cells`): there, a partitioning or a cell's pools declared before existing ones move
 * the UIDs after them. A block with more than 100 tablets, a UID above 4294967295 or two blocks
 * overlapping (rare with hashes; a `uidBase` then resolves it) is an error naming the prop path
 * and the value.
 */
export class VitessCluster extends Construct {
  /** The release of every component. */
  public readonly release: VitessRelease;
  /** The chart `00-cluster`. */
  public readonly clusterChart: Chart;
  /** The chart `02-init`: add Jobs here to run them after the cluster's own. */
  public readonly initChart: Chart;
  /** The global topology: an EtcdCell when managed, else a TopologyServer. */
  public readonly globalTopology: ITopologyServer;
  /** Each cell's topology, by cell name (the global one for `CellTopology.global()`). */
  public readonly cellTopologies: { readonly [cell: string]: ITopologyServer };
  /** vtctld. */
  public readonly vtctld: Vtctld;
  /** Each cell's vtgate, by cell name. */
  public readonly vtgates: { readonly [cell: string]: Vtgate };
  /** The cluster-wide MySQL Service `vtgate-mysql`, which selects every cell's vtgates. */
  public readonly vtgateMysqlService: VtgateMysqlService;
  /** VTOrc, on releases that have it. */
  public readonly vtorc: Vtorc | undefined;
  /** VTAdmin, when `vtadmin` is given. */
  public readonly vtadmin: Vtadmin | undefined;
  /** Each shard's tablets, in declaration order. */
  public readonly shards: readonly ClusterShard[];
  /** Each cell's registration Job, by cell name. */
  public readonly addCellInfoJobs: { readonly [cell: string]: AddCellInfoJob };
  /** Each shard's election Job, in the order of `shards`. */
  public readonly electionJobs: readonly VtctlJob[];
  /** The chart `03-backup-schedules`, when a keyspace has `backupSchedules`. */
  public readonly backupSchedulesChart: Chart | undefined;
  /** The backup schedules, per keyspace, schedule and partitioning (the shards not in an earlier one). */
  public readonly backupSchedules: readonly BackupSchedule[];

  /** The cluster's name, which prefixes every object and file name. */
  public readonly clusterName: string | undefined;

  private readonly app: App;
  private readonly props: VitessClusterProps;
  private readonly hasVtorc: boolean;
  private readonly blocks: readonly UidBlock[];
  /** The shards with tablets: those of `shards`, then the targets of each {@link reshard}. */
  private readonly allShards: ClusterShard[];

  public constructor(app: App, id: string, props: VitessClusterProps) {
    super(app, id);
    validate(props);
    const release = props.release;
    this.release = release;
    const clusterName = props.name;
    this.clusterName = clusterName;
    this.props = props;
    if (app.node.tryFindChild(inCluster(clusterName, '00-cluster'))) {
      throw new Error(
        `VitessCluster: the app has the files of a cluster ${clusterName === undefined ? 'without a name' : `named '${clusterName}'`} already; ` +
          "give each cluster of an app its own 'name'",
      );
    }
    const chart = (chartId: string): Chart => this.newChart(app, chartId);
    const backup = props.backup;

    this.clusterChart = chart('00-cluster');
    const g = props.globalTopology;
    this.globalTopology = g._managed
      ? atPath('globalTopology', () => new EtcdCell(this.clusterChart, 'EtcdGlobal', { cell: 'global', clusterName, ...g._managed }))
      : TopologyServer.fromAddress('global', g._address!);
    const globalTopology = this.globalTopology;

    const cellTopologies: { [cell: string]: ITopologyServer } = {};
    props.cells.forEach((cell, c) => {
      const t = cell.topology ?? CellTopology.global();
      cellTopologies[cell.name] =
        t._kind === 'managed'
          ? atPath(`cells[${c}].topology`, () => new EtcdCell(this.clusterChart, `Etcd${pascal(cell.name)}`, { cell: cell.name, clusterName, ...t._managed, affinity: zoneAffinity(cell.zone) }))
          : TopologyServer.fromAddress(cell.name, t._kind === 'external' ? t._address! : globalTopology.clientAddress);
    });
    this.cellTopologies = cellTopologies;

    const first = props.cells[0];
    this.vtctld = atPath('vtctld', () =>
      new Vtctld(this.clusterChart, 'Vtctld', {
        release,
        clusterName,
        globalTopology,
        cell: first.name,
        backup,
        affinity: zoneAffinity(first.zone),
        ...props.vtctld,
      }),
    );
    const vtgates: { [cell: string]: Vtgate } = {};
    for (const cell of props.cells) {
      vtgates[cell.name] = atPath(`cells[${props.cells.indexOf(cell)}].vtgate`, () => new Vtgate(this.clusterChart, `Vtgate${pascal(cell.name)}`, {
        release,
        clusterName,
        globalTopology,
        cell: cell.name,
        replicas: cell.vtgate?.replicas,
        autoscaling: cell.vtgate?.autoscaling,
        resources: cell.vtgate?.resources,
        tls: cell.vtgate?.tls,
        serviceType: cell.vtgate?.serviceType,
        mysqlAuthSecretName: cell.vtgate?.mysqlAuthSecretName,
        affinity: zoneAffinity(cell.zone),
        ...podExtensionsOf(cell.vtgate),
      }));
    }
    this.vtgates = vtgates;
    // The Service of every port of a cell 'mysql' is vtgate-mysql, the cluster-wide MySQL Service's name.
    const mysqlCell = props.cells.findIndex((cell) => cell.name === 'mysql');
    if (mysqlCell >= 0) {
      throw new Error(
        `VitessCluster: 'cells[${mysqlCell}].name' is 'mysql', which would name the cell's vtgate Service '${inCluster(clusterName, 'vtgate-mysql')}', ` +
          "the name of the cluster-wide MySQL Service; give the cell another name",
      );
    }
    this.vtgateMysqlService = atPath('vtgateMysqlService', () =>
      new VtgateMysqlService(this.clusterChart, 'VtgateMysqlService', { ...props.vtgateMysqlService, clusterName }),
    );
    const hasVtorc = props.vtorc ?? (release.majorVersion >= FIRST_VTORC_RELEASE && release.vtctlClient === VtctlClient.VTCTLDCLIENT);
    this.vtorc = hasVtorc ? atPath('vtorc', () => new Vtorc(this.clusterChart, 'Vtorc', { release, clusterName, globalTopology, ...props.vtorcPods })) : undefined;
    const vtadmin = props.vtadmin;
    this.vtadmin =
      vtadmin === undefined
        ? undefined
        : atPath('vtadmin', () =>
            new Vtadmin(this.clusterChart, 'Vtadmin', {
              release,
              clusterName,
              vtctlds: [this.vtctld],
              vtgates: props.cells.map((cell) => vtgates[cell.name]),
              affinity: zoneAffinity(first.zone),
              ...vtadmin,
            }),
          );

    this.app = app;
    this.hasVtorc = hasVtorc;
    this.blocks = uidBlocks(props);
    const shards: ClusterShard[] = [];
    for (const block of this.blocks.filter((b) => b.partitioning === 0)) {
      let entry = shards.find((s) => s.keyspace === block.keyspace.name && s.shard === block.shard);
      if (!entry) {
        const shardChart = chart(`01-tablets-${keyspaceObjectName(block.keyspace.name)}-${block.shard}`);
        entry = { keyspace: block.keyspace.name, shard: block.shard, chart: shardChart, tabletShards: [] };
        shards.push(entry);
      }
      (entry.tabletShards as TabletShard[]).push(this.tabletShard(entry.chart, block, `${pascal(block.keyspace.name)}Shard${pascal(block.shard)}${pascal(block.cell.name)}`));
    }
    this.shards = shards;
    this.allShards = [...shards];

    this.initChart = chart('02-init');
    const addCellInfoJobs: { [cell: string]: AddCellInfoJob } = {};
    for (const cell of props.cells) {
      addCellInfoJobs[cell.name] = new AddCellInfoJob(this.initChart, `AddCellInfo${pascal(cell.name)}`, {
        vtctld: this.vtctld,
        topology: cellTopologies[cell.name],
      });
    }
    this.addCellInfoJobs = addCellInfoJobs;
    const hasVtctldclient = release.vtctlClient === VtctlClient.VTCTLDCLIENT;
    for (const keyspace of props.keyspaces ?? []) {
      if (!hasVtctldclient) {
        continue;
      }
      const durability = keyspace.durabilityPolicy ?? 'semi_sync';
      const poolCell = keyspace.tabletPools[0].cell;
      new VtctlJob(this.initChart, `CreateKeyspace${pascal(keyspace.name)}`, {
        vtctld: this.vtctld,
        jobName: `vtctl-createkeyspace-${keyspaceObjectName(keyspace.name)}`,
        waitFor: [JobCondition.cellRegistered(poolCell)],
        skipIf: JobCondition.keyspaceExists(keyspace.name),
        commands: [['CreateKeyspace', release.commandFlag('durability_policy', durability), keyspace.name]],
      });
      new VtctlJob(this.initChart, `SetKeyspaceDurabilityPolicy${pascal(keyspace.name)}`, {
        vtctld: this.vtctld,
        jobName: `vtctl-setkeyspacedurabilitypolicy-${keyspaceObjectName(keyspace.name)}`,
        waitFor: [JobCondition.keyspaceExists(keyspace.name)],
        skipIf: JobCondition.keyspaceDurability(keyspace.name, durability),
        commands: [['SetKeyspaceDurabilityPolicy', release.commandFlag('durability_policy', durability), keyspace.name]],
      });
    }
    const electionJobs: VtctlJob[] = [];
    for (const shard of shards) {
      const elected = shard.tabletShards[0];
      // InitShardMaster makes every tablet of the shard, in every cell, replicate the new primary
      // (v0.9.0 go/vt/wrangler/reparent.go 276-320), while the election Job waits for the tablets
      // of one cell: a shard of such a release must have its tablets in one cell.
      if (release.vtctlCommands.includes('InitShardMaster') && shard.tabletShards.length > 1) {
        throw new Error(
          `VitessCluster: keyspace '${shard.keyspace}' shard '${shard.shard}' has tablets in the cells ` +
            `${shard.tabletShards.map((t) => t.cell).join(', ')}, but Vitess ${release.version} elects the first primary with ` +
            'InitShardMaster, which needs every tablet of the shard; give its tabletPools one cell on this release',
        );
      }
      const supersededBy = supersedingShards((props.keyspaces ?? []).find((k) => k.name === shard.keyspace)!, shard.shard);
      electionJobs.push(
        elected.initPrimaryJob(this.initChart, `InitPrimary${pascal(shard.keyspace)}${pascal(shard.shard)}`, this.vtctld, supersededBy ? { supersededBy } : {}),
      );
    }
    this.electionJobs = electionJobs;
    // Each keyspace's VSchema applied: what its ApplyVSchema Job is done on, and RebuildVSchemaGraph waits for.
    const vschemasApplied = (props.keyspaces ?? []).map((keyspace, k) =>
      keyspace.vschema === undefined
        ? undefined
        : this.applyVSchemaJob(this.initChart, `ApplyVSchema${pascal(keyspace.name)}`, `VitessCluster: 'keyspaces[${k}].vschema'`, keyspace.name, keyspace.vschema, ''),
    );
    const rebuildWaits: JobCondition[] = [];
    (props.keyspaces ?? []).forEach((keyspace, k) => {
      const keyspaceShards = shards.filter((s) => s.keyspace === keyspace.name);
      const candidate = keyspaceShards[0].tabletShards[0];
      // Once a keyspace of one shard has been resharded into its next partitioning, the shard and
      // its tablets are gone: the Jobs about them are then done too (as its election is).
      const successors = supersedingShards(keyspace, keyspaceShards[0].shard);
      const resharded = successors && JobCondition.servedBy(candidate.cell, keyspace.name, ServedType.PRIMARY, successors);
      const tables = Object.keys(keyspace.schema ?? {});
      const vschemaApplied = vschemasApplied[k];
      if (vschemaApplied !== undefined) {
        rebuildWaits.push(vschemaApplied);
      }
      for (const [table, sql] of Object.entries(keyspace.schema ?? {})) {
        const exists = JobCondition.tableExists(candidate.primaryCandidate, table);
        new VtctlJob(this.initChart, `ApplySchema${pascal(keyspace.name)}${pascal(table)}`, {
          vtctld: this.vtctld,
          jobName: `vtctl-applyschema-${keyspaceObjectName(keyspace.name)}-${table.replace(/_/g, '-')}`.toLowerCase(),
          waitFor: keyspaceShards.map((s) => JobCondition.shardHasPrimary(keyspace.name, s.shard)),
          skipIf: resharded ? JobCondition.anyOf(exists, resharded) : exists,
          commands: [['ApplySchema', release.commandFlag('sql', sql), keyspace.name]],
        });
      }
      if (keyspace.initialBackup) {
        if (backup === undefined) {
          throw new Error(`VitessCluster: 'keyspaces[${k}].initialBackup' of keyspace '${keyspace.name}' needs the cluster's 'backup' storage, which is not set`);
        }
        for (const shard of keyspaceShards) {
          const tablets = shard.tabletShards[0];
          const replicas = tablets.tablets.filter((t) => t.alias !== tablets.primaryCandidate && !tablets.rdonlyAliases.includes(t.alias)).map((t) => t.alias);
          const source = tablets.rdonlyAliases.length > 0 ? tablets.rdonlyAliases[tablets.rdonlyAliases.length - 1] : replicas[replicas.length - 1];
          if (source === undefined) {
            throw new Error(
              `VitessCluster: 'keyspaces[${k}].initialBackup' needs a tablet other than the primary candidate in shard ${shard.shard} of cell ${tablets.cell} ` +
                '(an rdonly tablet, or a second replica) to take the backup from',
            );
          }
          // A Job looks for the MANIFEST on a file volume; of an object store, only vtctld can list the backups.
          const complete =
            backup.mountPath !== undefined ? JobCondition.backupComplete(keyspace.name, shard.shard, backup) : JobCondition.backupListed(keyspace.name, shard.shard);
          new VtctlJob(this.initChart, `Backup${pascal(keyspace.name)}${pascal(shard.shard)}`, {
            vtctld: this.vtctld,
            jobName: `vtctl-backup-${source}`,
            waitFor:
              tables.length > 0 ? tables.map((table) => JobCondition.tableExists(source, table)) : [JobCondition.shardHasPrimary(keyspace.name, shard.shard)],
            skipIf: complete,
            commands: [['Backup', source]],
          });
          rebuildWaits.push(complete);
        }
      } else {
        rebuildWaits.push(...(tables.length > 0 ? tables.map((table) => JobCondition.tableExists(candidate.primaryCandidate, table)) : [JobCondition.keyspaceExists(keyspace.name)]));
      }
    });
    if ((props.keyspaces ?? []).length > 0) {
      const served = props.cells.flatMap((cell) => (props.keyspaces ?? []).map((keyspace) => JobCondition.srvVSchemaHasKeyspace(cell.name, keyspace.name)));
      new VtctlJob(this.initChart, 'RebuildVSchemaGraph', {
        vtctld: this.vtctld,
        jobName: 'vtctl-rebuildvschemagraph',
        waitFor: rebuildWaits,
        skipIf: served.length === 1 ? served[0] : JobCondition.allOf(...served),
        commands: [['RebuildVSchemaGraph']],
      });
    }
    const scheduled = (props.keyspaces ?? []).some((keyspace) => (keyspace.backupSchedules ?? []).length > 0);
    this.backupSchedulesChart = scheduled ? chart('03-backup-schedules') : undefined;
    this.backupSchedules = (props.keyspaces ?? []).flatMap((keyspace, k) => this.keyspaceBackupSchedules(keyspace, k));
  }

  /**
   * The BackupSchedules of a keyspace's `backupSchedules`, in the backup schedules chart: per
   * schedule, one for each partitioning's shards that no earlier partitioning has, in key-range order.
   */
  private keyspaceBackupSchedules(keyspace: KeyspaceSpec, k: number): BackupSchedule[] {
    const schedules = keyspace.backupSchedules ?? [];
    const backup = this.props.backup;
    if (schedules.length > 0 && backup === undefined) {
      throw new Error(`VitessCluster: 'keyspaces[${k}].backupSchedules' of keyspace '${keyspace.name}' needs the cluster's 'backup' storage, which is not set`);
    }
    return schedules.flatMap((schedule, s) => {
      const path = `keyspaces[${k}].backupSchedules[${s}]`;
      if (schedules.findIndex((other) => other.name === schedule.name) !== s) {
        throw new Error(`VitessCluster: '${path}.name' repeats schedule '${schedule.name}' of keyspace '${keyspace.name}'`);
      }
      const covered = new Set<string>();
      return keyspace.partitionings.flatMap((partitioning, p) => {
        const shards = [...partitioning.shards].filter((shard) => !covered.has(shard)).sort(compareShardStarts);
        shards.forEach((shard) => covered.add(shard));
        if (shards.length === 0) {
          return [];
        }
        const id = `BackupSchedule${pascal(keyspace.name)}${pascal(schedule.name)}${p === 0 ? '' : p}`;
        return [atPath(path, () => new BackupSchedule(this.backupSchedulesChart!, id, { ...schedule, vtctld: this.vtctld, backup: backup!, keyspace: keyspace.name, shards }))];
      });
    });
  }

  /**
   * Reshards `keyspace` from one shard into the shards of a later partitioning, as the release's
   * flow does it, one chart (so one file) per phase, numbered from `firstPhase`:
   * - `<n>-reshard-new-shards`: the `vschema` (an ApplyVSchema Job, when given), the targets'
   *   tablets (their UIDs are the blocks of {@link VitessCluster}) and a Job electing each target's
   *   first primary;
   * - on releases with vtworker (v9), {@link VtworkerResharding}: `copy-schema`, `split-clone`,
   *   `split-diff`, `migrate-rdonly`, `migrate-replica`, `migrate-master`, `delete-shard`; the
   *   rollbacks `reverse-replica` and `reverse-rdonly`;
   * - on releases with vtctldclient, {@link VReplicationResharding}: `create`, `vdiff`,
   *   `switch-reads`, `switch-primary`, `complete`, `delete-shard`; the rollbacks
   *   `reverse-primary` and `reverse-reads`.
   *
   * The source's tablets stay in their `01-tablets-<keyspace>-<shard>` file: delete it with
   * `kubectl delete -f` when the flow says so (after `migrate-master`, or right after `complete`).
   * The targets get tablets in every cell where the source has them (the keyspace's pools); the
   * first cell's replica is elected, and with VReplication every cell's serving graph is checked
   * and the source shard deleted only once its tablets in every cell are gone (a v9 shard has its
   * tablets in one cell).
   */
  public reshard(keyspace: string, options: ReshardOptions): ReshardPhases {
    const context = `VitessCluster.reshard('${keyspace}')`;
    const release = this.release;
    const k = (this.props.keyspaces ?? []).findIndex((ks) => ks.name === keyspace);
    if (k < 0) {
      throw new Error(`${context}: 'keyspace' must be one of the cluster's keyspaces (${(this.props.keyspaces ?? []).map((ks) => ks.name).join(', ') || 'none'}), got '${keyspace}'`);
    }
    if (options.from.length !== 1) {
      throw new Error(`${context}: 'from' must name exactly one shard (the flows split one shard; merging is not supported), got [${options.from.join(', ')}]`);
    }
    const from = options.from[0];
    const source = this.allShards.find((s) => s.keyspace === keyspace && s.shard === from);
    if (!source) {
      const have = this.allShards.filter((s) => s.keyspace === keyspace).map((s) => s.shard);
      throw new Error(`${context}: 'from' names shard '${from}', which has no tablets; the keyspace's shards with tablets are ${have.join(', ')}`);
    }
    if (options.to.length === 0) {
      throw new Error(`${context}: 'to' must name the shards that replace '${from}', got []`);
    }
    validateKeyRangeCover(context, 'to', from, options.to);
    for (const shard of options.to) {
      if (!this.blocks.some((b) => b.keyspace.name === keyspace && b.shard === shard)) {
        throw new Error(
          `${context}: 'to' names shard '${shard}', which no partitioning of keyspaces[${k}] declares; ` +
            'add a partitioning with it, so that its tablet UIDs are reserved',
        );
      }
      if (this.allShards.some((s) => s.keyspace === keyspace && s.shard === shard)) {
        throw new Error(`${context}: 'to' names shard '${shard}', which already has tablets`);
      }
    }
    const firstPhase = options.firstPhase ?? 10;
    if (!Number.isInteger(firstPhase) || firstPhase < 3 || firstPhase > 90) {
      throw new Error(`${context}: 'firstPhase' must be a whole number from 3 to 90 (files 00 to 02 are the cluster's), got ${firstPhase}`);
    }
    const legacy = release.vtctlClient !== VtctlClient.VTCTLDCLIENT;
    const phaseNames = legacy
      ? ['new-shards', 'copy-schema', 'split-clone', 'split-diff', 'migrate-rdonly', 'migrate-replica', 'migrate-master', 'delete-shard']
      : ['new-shards', 'create', 'vdiff', 'switch-reads', 'switch-primary', 'complete', 'delete-shard'];
    const phaseIds = phaseNames.map((name, i) => `${String(firstPhase + i).padStart(2, '0')}-reshard-${name}`);
    for (const id of phaseIds.map((phase) => inCluster(this.clusterName, phase))) {
      if (this.app.node.tryFindChild(id)) {
        throw new Error(`${context}: the file ${id} exists already (an earlier reshard); give this one another 'firstPhase'`);
      }
    }
    const rollbackNames = legacy ? ['reverse-replica', 'reverse-rdonly'] : ['reverse-primary', 'reverse-reads'];
    for (const id of rollbackNames.map((name) => inCluster(this.clusterName, name))) {
      if (options.rollbackApp?.node.tryFindChild(id)) {
        throw new Error(`${context}: 'rollbackApp' already has the file ${id} (an earlier reshard); give this one an app of its own`);
      }
    }
    const charts = phaseIds.map((id) => this.newChart(this.app, id));
    const [newShards] = charts;
    const vtctld = this.vtctld;
    if (options.vschema !== undefined) {
      // A keyspace with a VSchema of its own has the Job of that name in 02-init already.
      const suffix = this.props.keyspaces![k].vschema !== undefined ? `-reshard-${firstPhase}` : '';
      this.applyVSchemaJob(newShards, 'ApplyVSchema', `${context}: 'vschema'`, keyspace, options.vschema, suffix);
    }
    const cells = source.tabletShards.map((t) => t.cell);
    const targets: ClusterShard[] = options.to.map((shard) => {
      const tabletShards = cells.map((cell, c) => {
        const block = this.blocks.find((b) => b.keyspace.name === keyspace && b.shard === shard && b.cell.name === cell)!;
        return this.tabletShard(newShards, block, `${pascal(keyspace)}Shard${pascal(shard)}${c === 0 ? '' : pascal(cell)}`);
      });
      return { keyspace, shard, chart: newShards, tabletShards };
    });
    for (const target of targets) {
      target.tabletShards[0].initPrimaryJob(newShards, `InitPrimary${pascal(target.shard)}`, vtctld);
    }
    this.allShards.push(...targets);
    const sourceTablets = source.tabletShards[0];
    const targetTablets = targets.map((t) => t.tabletShards[0]);
    const otherCells = cells.slice(1).map((_, i) => ({ source: source.tabletShards[i + 1], targets: targets.map((t) => t.tabletShards[i + 1]) }));
    const rollbacks: Chart[] = [];
    const rollback = (index: number): Chart | undefined => {
      if (!options.rollbackApp) {
        return undefined;
      }
      const c = this.newChart(options.rollbackApp, rollbackNames[index]);
      rollbacks.push(c);
      return c;
    };
    let flow: VtworkerResharding | VReplicationResharding;
    if (legacy) {
      const vtworker = new VtworkerResharding({ vtctld, globalTopology: this.globalTopology, source: sourceTablets, targets: targetTablets });
      vtworker.copySchemaJob(charts[1], 'CopySchemaShard');
      vtworker.splitCloneJob(charts[2], 'SplitClone');
      vtworker.splitDiffJob(charts[3], 'SplitDiff');
      vtworker.migrateServedTypeJob(charts[4], 'MigrateRdonly', ServedType.RDONLY);
      vtworker.migrateServedTypeJob(charts[5], 'MigrateReplica', ServedType.REPLICA);
      vtworker.migrateServedTypeJob(charts[6], 'MigrateMaster', ServedType.PRIMARY);
      vtworker.deleteSourceShardJob(charts[7], 'DeleteShard');
      const reverseReplica = rollback(0);
      if (reverseReplica) vtworker.reverseServedTypeJob(reverseReplica, 'ReverseReplica', ServedType.REPLICA);
      const reverseRdonly = rollback(1);
      if (reverseRdonly) vtworker.reverseServedTypeJob(reverseRdonly, 'ReverseRdonly', ServedType.RDONLY);
      flow = vtworker;
    } else {
      const vreplication = new VReplicationResharding({
        vtctld,
        source: sourceTablets,
        targets: targetTablets,
        ...(otherCells.length > 0 ? { otherCells } : {}),
      });
      vreplication.createJob(charts[1], 'ReshardCreate');
      vreplication.vdiffJob(charts[2], 'VDiff');
      vreplication.switchTrafficJob(charts[3], 'SwitchReads', [ServedType.RDONLY, ServedType.REPLICA]);
      vreplication.switchTrafficJob(charts[4], 'SwitchPrimary', [ServedType.PRIMARY]);
      vreplication.completeJob(charts[5], 'Complete');
      vreplication.deleteSourceShardJob(charts[6], 'DeleteShards');
      const reversePrimary = rollback(0);
      if (reversePrimary) vreplication.reverseTrafficJob(reversePrimary, 'ReversePrimary', [ServedType.PRIMARY]);
      const reverseReads = rollback(1);
      if (reverseReads) vreplication.reverseTrafficJob(reverseReads, 'ReverseReads', [ServedType.RDONLY, ServedType.REPLICA]);
      flow = vreplication;
    }
    return { flow, targets, charts, rollbacks };
  }

  /**
   * A chart of `app`, one file: `id` with the cluster's name first, without resource name hashes,
   * in the cluster's namespace.
   */
  private newChart(app: App, id: string): Chart {
    return new Chart(app, inCluster(this.clusterName, id), { disableResourceNameHashes: true, namespace: this.props.namespace });
  }

  /**
   * The ApplyVSchema Job `vtctl-applyvschema-<keyspace><suffix>` of `vschema`, in `scope`, once the
   * keyspace exists; returns the condition it is done on (`vschema` checked under `context`).
   */
  private applyVSchemaJob(scope: Chart, id: string, context: string, keyspace: string, vschema: KeyspaceVSchema, suffix: string): JobCondition {
    const applied = vschemaApplied(context, keyspace, vschema);
    new VtctlJob(scope, id, {
      vtctld: this.vtctld,
      jobName: `vtctl-applyvschema-${keyspaceObjectName(keyspace)}${suffix}`,
      waitFor: [JobCondition.keyspaceExists(keyspace)],
      skipIf: applied,
      commands: [['ApplyVSchema', this.release.commandFlag('vschema', JSON.stringify(vschema)), keyspace]],
    });
    return applied;
  }

  /** The TabletShard of one UID block, in `scope`. */
  private tabletShard(scope: Chart, block: UidBlock, id: string): TabletShard {
    const pools = block.keyspace.tabletPools.filter((p) => p.cell === block.cell.name);
    const replica = pools.find((p) => p.type === TabletPoolType.REPLICA)!;
    const rdonly = pools.find((p) => p.type === TabletPoolType.RDONLY);
    const k = (this.props.keyspaces ?? []).indexOf(block.keyspace);
    const path = `keyspaces[${k}].tabletPools[${block.keyspace.tabletPools.indexOf(replica)}]`;
    return atPath(path, () => new TabletShard(scope, id, {
      release: this.release,
      clusterName: this.clusterName,
      globalTopology: this.globalTopology,
      ...(this.hasVtorc ? {} : { vtctld: this.vtctld }),
      cell: block.cell.name,
      keyspace: block.keyspace.name,
      shard: block.shard,
      uidBase: block.uidBase,
      replicaCount: replica.replicas,
      rdonlyCount: rdonly?.replicas ?? 0,
      backup: this.props.backup,
      storageSize: replica.storageSize,
      storageClassName: replica.storageClassName,
      vttabletResources: replica.vttabletResources,
      mysqldResources: replica.mysqldResources,
      mysqldImage: replica.mysqldImage,
      mysqldExporter: replica.mysqldExporter,
      affinity: zoneAffinity(block.cell.zone),
      ...podExtensionsOf(replica),
    }));
  }
}

interface UidBlock {
  readonly keyspace: KeyspaceSpec;
  /** The index of the first partitioning that has the shard. */
  readonly partitioning: number;
  readonly shard: string;
  readonly cell: CellSpec;
  readonly uidBase: number;
}

/**
 * The UID blocks of every shard and cell with pools, in declaration order (see VitessCluster): at
 * a hash of the keyspace, shard and cell, or, in a keyspace with `uidBase`, one after the other
 * from there.
 */
function uidBlocks(props: VitessClusterProps): UidBlock[] {
  const blocks: UidBlock[] = [];
  const taken: { from: number; to: number; path: string }[] = [];
  (props.keyspaces ?? []).forEach((keyspace, k) => {
    const path = `keyspaces[${k}]`;
    if (keyspace.uidBase !== undefined && (!Number.isInteger(keyspace.uidBase) || keyspace.uidBase < 1)) {
      throw new Error(`VitessCluster: '${path}.uidBase' must be a whole number of at least 1, got ${keyspace.uidBase}`);
    }
    let next = keyspace.uidBase;
    const seen = new Set<string>();
    keyspace.partitionings.forEach((partitioning, partitioningIndex) => {
      for (const shard of partitioning.shards) {
        if (seen.has(shard)) {
          continue;
        }
        seen.add(shard);
        for (const cell of props.cells) {
          const count = keyspace.tabletPools.filter((p) => p.cell === cell.name).reduce((sum, p) => sum + p.replicas, 0);
          if (count === 0) {
            continue;
          }
          if (count > UID_BLOCK) {
            throw new Error(`VitessCluster: '${path}.tabletPools' put ${count} tablets in shard ${shard} of cell ${cell.name}; a block holds at most ${UID_BLOCK}`);
          }
          const from = next ?? hashedBlockStart(keyspace.name, shard, cell.name);
          const to = from + count - 1;
          if (to > MAX_TABLET_UID) {
            throw new Error(`VitessCluster: '${path}' tablet UIDs of shard ${shard} in cell ${cell.name} would reach ${to}, above ${MAX_TABLET_UID}`);
          }
          const clash = taken.find((t) => from <= t.to && t.from <= to);
          if (clash) {
            const cause = next === undefined ? 'the hash of its keyspace, shard and cell gives' : `'${path}.uidBase' gives`;
            throw new Error(
              `VitessCluster: ${cause} shard ${shard} of keyspace '${keyspace.name}' in cell ${cell.name} UIDs ${from}-${to}, ` +
                `which collide with ${clash.from}-${clash.to} of ${clash.path}; give '${path}.uidBase' a free range`,
            );
          }
          taken.push({ from, to, path: `${path} shard ${shard} cell ${cell.name}` });
          blocks.push({ keyspace, partitioning: partitioningIndex, shard, cell, uidBase: from });
          if (next !== undefined) {
            next += UID_BLOCK;
          }
        }
      }
    });
  });
  return blocks;
}

/** The number of UID blocks from {@link FIRST_UID} up to {@link MAX_TABLET_UID}. */
const UID_BLOCK_COUNT = Math.floor((MAX_TABLET_UID - FIRST_UID + 1) / UID_BLOCK);

/**
 * The first UID of the block of a keyspace's shard in a cell when the keyspace has no `uidBase`:
 * the 32-bit FNV-1a hash of `<keyspace>/<shard>/<cell>` picks one of the blocks of 100 from 100
 * on, so that a block depends on nothing else in the props.
 */
function hashedBlockStart(keyspace: string, shard: string, cell: string): number {
  return FIRST_UID + (fnv1a32(`${keyspace}/${shard}/${cell}`) % UID_BLOCK_COUNT) * UID_BLOCK;
}

/**
 * The shards whose primary supersedes `shard` once the keyspace is resharded to its second
 * partitioning, for a keyspace of one shard (the election Job's `supersededBy`: the serving graph
 * then names exactly those shards); undefined otherwise.
 */
function supersedingShards(keyspace: KeyspaceSpec, shard: string): readonly string[] | undefined {
  const [first, next] = keyspace.partitionings;
  if (next === undefined || first.shards.length !== 1 || next.shards.includes(shard)) {
    return undefined;
  }
  return next.shards;
}

/**
 * The condition that `vschema` is applied to `keyspace`: every table with column vindexes is
 * sharded by its primary vindex ({@link JobCondition.vschemaShardsTable}).
 */
function vschemaApplied(context: string, keyspace: string, vschema: KeyspaceVSchema): JobCondition {
  if (vschema.sharded !== true) {
    throw new Error(`${context} must be sharded ('sharded: true') for a keyspace of several shards, got sharded: ${String(vschema.sharded)}`);
  }
  const conditions: JobCondition[] = [];
  for (const [table, spec] of Object.entries(vschema.tables ?? {})) {
    const primary = spec.column_vindexes?.[0];
    if (primary === undefined) {
      continue;
    }
    const vindex = vschema.vindexes?.[primary.name];
    if (vindex === undefined) {
      throw new Error(
        `${context}: table '${table}' uses vindex '${primary.name}', which is not one of 'vindexes' (${Object.keys(vschema.vindexes ?? {}).join(', ') || 'none'})`,
      );
    }
    conditions.push(JobCondition.vschemaShardsTable(keyspace, { table, column: primary.column, vindex: primary.name, vindexType: vindex.type }));
  }
  if (conditions.length === 0) {
    throw new Error(`${context} must shard at least one table by a column vindex ('tables.<name>.column_vindexes'), got none`);
  }
  return conditions.length === 1 ? conditions[0] : JobCondition.allOf(...conditions);
}

function validate(props: VitessClusterProps): void {
  if (!(props.release instanceof VitessRelease)) {
    throw new Error(`VitessCluster: 'release' is required (a VitessRelease such as VitessRelease.V22_0), got ${String(props.release)}`);
  }
  validateClusterName('VitessCluster', 'name', props.name);
  if (props.cells.length === 0) {
    throw new Error("VitessCluster: 'cells' must hold at least one cell, got []");
  }
  const cellNames = new Set<string>();
  props.cells.forEach((cell, c) => {
    if (cellNames.has(cell.name)) {
      throw new Error(`VitessCluster: 'cells[${c}].name' repeats cell '${cell.name}'`);
    }
    cellNames.add(cell.name);
  });
  const keyspaceNames = new Set<string>();
  (props.keyspaces ?? []).forEach((keyspace, k) => {
    if (keyspaceNames.has(keyspace.name)) {
      throw new Error(`VitessCluster: 'keyspaces[${k}].name' repeats keyspace '${keyspace.name}'`);
    }
    keyspaceNames.add(keyspace.name);
    if (keyspace.partitionings.length === 0) {
      throw new Error(`VitessCluster: 'keyspaces[${k}].partitionings' of keyspace '${keyspace.name}' must hold at least one partitioning, got []`);
    }
    keyspace.partitionings.forEach((partitioning, p) => validateTiling(`keyspaces[${k}].partitionings[${p}]`, keyspace.name, partitioning.shards));
    if (keyspace.tabletPools.length === 0) {
      throw new Error(`VitessCluster: 'keyspaces[${k}].tabletPools' of keyspace '${keyspace.name}' must hold at least one pool, got []`);
    }
    const poolKeys = new Set<string>();
    keyspace.tabletPools.forEach((pool, i) => {
      const path = `keyspaces[${k}].tabletPools[${i}]`;
      if (!cellNames.has(pool.cell)) {
        throw new Error(`VitessCluster: '${path}.cell' is '${pool.cell}', which is not one of the cells: ${[...cellNames].join(', ')}`);
      }
      if (!Number.isInteger(pool.replicas) || pool.replicas < 1) {
        throw new Error(`VitessCluster: '${path}.replicas' must be a whole number of at least 1, got ${pool.replicas}`);
      }
      const key = `${pool.cell}/${pool.type}`;
      if (poolKeys.has(key)) {
        throw new Error(`VitessCluster: '${path}' repeats the ${pool.type} pool of cell '${pool.cell}'`);
      }
      poolKeys.add(key);
    });
    for (const cell of new Set(keyspace.tabletPools.map((p) => p.cell))) {
      const pools = keyspace.tabletPools.filter((p) => p.cell === cell);
      if (!pools.some((p) => p.type === TabletPoolType.REPLICA)) {
        throw new Error(
          `VitessCluster: 'keyspaces[${k}].tabletPools' give keyspace '${keyspace.name}' tablets in cell '${cell}' without a replica pool; each cell with tablets needs primary-eligible replicas`,
        );
      }
      const [a, b] = pools;
      const shared = (p: TabletPoolSpec) =>
        JSON.stringify([p.storageSize, p.storageClassName, p.vttabletResources, p.mysqldResources, p.mysqldImage, podExtensionsOf(p), p.mysqldExporter]);
      if (b && shared(a) !== shared(b)) {
        throw new Error(
          `VitessCluster: 'keyspaces[${k}].tabletPools' of cell '${cell}' differ in storage, resources, image, mysqldExporter or extensions between the replica and rdonly pools; they must agree`,
        );
      }
    }
  });
}

/** Throws unless `shards` tile the key space without gap or overlap. */
function validateTiling(path: string, keyspace: string, shards: readonly string[]): void {
  if (shards.length === 0) {
    throw new Error(`VitessCluster: '${path}' of keyspace '${keyspace}' has no shards`);
  }
  const ranges = shards
    .map((shard) => {
      const bounds = KeyRange.parse(shard);
      return { shard, start: normalize(bounds.start), end: normalize(bounds.end) };
    })
    .sort((a, b) => compareBound(a.start, b.start));
  let at = '';
  let previous = '(start of the key space)';
  for (const range of ranges) {
    if (range.start !== at) {
      const what = compareBound(range.start, at) > 0 ? 'a gap' : 'an overlap';
      throw new Error(
        `VitessCluster: '${path}' of keyspace '${keyspace}' leaves ${what} between ${previous} and ${range.shard} (shards: ${shards.join(', ')}); the shards must tile the key space`,
      );
    }
    at = range.end;
    previous = range.shard;
    if (at === '') {
      if (range !== ranges[ranges.length - 1]) {
        const after = ranges[ranges.indexOf(range) + 1];
        throw new Error(
          `VitessCluster: '${path}' of keyspace '${keyspace}' leaves an overlap between ${range.shard} and ${after.shard} (shards: ${shards.join(', ')}); the shards must tile the key space`,
        );
      }
      return;
    }
  }
  throw new Error(
    `VitessCluster: '${path}' of keyspace '${keyspace}' leaves a gap after ${previous} (shards: ${shards.join(', ')}); the shards must tile the key space`,
  );
}

/** A key bound without trailing zero bytes, so that `80` and `8000` compare equal. */
function normalize(bound: string): string {
  return bound.replace(/(00)+$/, '');
}

/** Orders bounds; an empty start is the lowest. */
function compareBound(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * `create()`, with an error of a construct it creates prefixed by the prop path that configured it:
 * `VitessCluster: 'cells[1].vtgate': Vtgate: 'extraFlags.vtgate.x' is not a flag ...`.
 */
function atPath<T>(path: string, create: () => T): T {
  try {
    return create();
  } catch (err) {
    if (err instanceof Error && !err.message.startsWith('VitessCluster')) {
      err.message = `VitessCluster: '${path}': ${err.message}`;
    }
    throw err;
  }
}

/** The {@link PodExtensions} fields of a spec, and none of its other fields. */
function podExtensionsOf(spec: PodExtensions | undefined): PodExtensions {
  if (spec === undefined) {
    return {};
  }
  const { extraFlags, extraEnv, extraVolumes, extraVolumeMounts, sidecars, initContainers, podAnnotations, podLabels } = spec;
  return { extraFlags, extraEnv, extraVolumes, extraVolumeMounts, sidecars, initContainers, podAnnotations, podLabels };
}

function zoneAffinity(zone: string | undefined): k8s.Affinity | undefined {
  if (zone === undefined) {
    return undefined;
  }
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: [zone] }] }],
      },
    },
  };
}

/** `test_keyspace` -> `TestKeyspace`, `-80` -> `XX80`, `80-` -> `80XX`. */
function pascal(name: string): string {
  return name
    .replace(/-/g, 'XX')
    .split(/[_]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

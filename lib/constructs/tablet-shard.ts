import { Construct } from 'constructs';
import { k8s } from '../../imports/k8s';
import type { BackupStorage } from '../backup-storage';
import type { ITopologyServer, IVtctld, SecretKeyRef } from '../interfaces';
import {
  MAX_TABLET_UID,
  claimObjectName,
  claimUnique,
  clusterLabels,
  compareShardStarts,
  inCluster,
  keyspaceObjectName,
  shardLabel,
  tabletAlias,
  validateCellName,
  validateClusterName,
  validateKeyspaceName,
  validateObjectName,
  validateShardName,
  validateDataKey,
  validateKeyRangeCover,
  validateSubdomainName,
} from '../internal/names';
import {
  APP_LABEL,
  DAEMON_READINESS_TIMING,
  TMP_MOUNT,
  TMP_VOLUME,
  clusterPods,
  createNetworkPolicy,
  fieldEnv,
  httpProbe,
  ingressRule,
  resources,
  scrapeAnnotations,
  validateQuantity,
  validateResources,
} from '../internal/pod';
import { backupContainerParts } from '../internal/backup';
import { createDisruptionBudget, vitessPodTemplate } from '../internal/pod-skeleton';
import { mysqldExporter, MYSQLD_EXPORTER_PATH, MYSQLD_EXPORTER_PORT_NAME } from '../internal/mysqld-exporter';
import { shellCommand } from '../internal/shell';
import { topologyFlags } from '../internal/topology';
import { JobCondition, ServedType } from '../jobs/job-condition';
import { clientPrefix } from '../jobs/job-script';
import { VtctlJob } from '../jobs/vtctl-job';
import { VitessRelease, VtctlClient } from '../release';
import type { WorkloadOptions } from '../workload-options';

/** vttablet's HTTP port (the legacy Kubernetes example's). */
export const VTTABLET_WEB_PORT = 15002;
/** vttablet's gRPC port (the legacy Kubernetes example's). */
export const VTTABLET_GRPC_PORT = 16002;
/** mysqld's port. */
export const MYSQL_PORT = 3306;

/** How often a failed first primary election is tried again. */
const ELECTION_RETRIES = 5;
/** How long a stopping replica tries to hand the primary role to another tablet. */
const HAND_OFF_SECONDS = 120;
/** How long mysqld waits for vttablet to exit before it stops itself. */
const MYSQL_STOP_WAIT_SECONDS = 300;
/**
 * The grace period of a tablet pod: the hand-off, then mysqld's wait for vttablet, then mysqld's
 * own shutdown (mysqlctld waits up to 5 minutes from v20, `--shutdown-wait-time`).
 */
const TABLET_GRACE_SECONDS = 900;
/** Where the `mysqlConfig` file is mounted in the mysql container. */
const EXTRA_MY_CNF_DIR = '/vt/config/extra';
/** Where the `initDbSql` Secret is mounted in the mysql container. */
const INIT_DB_SQL_DIR = '/vt/secrets/init-db';
/** The file name of the `initDbSql` key in {@link INIT_DB_SQL_DIR}. */
const INIT_DB_SQL_FILE = 'init_db.sql';
/** The default DNS domain of a Kubernetes cluster. */
const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
/** The longest DNS name. */
const DNS_NAME_MAX_LENGTH = 253;
/** The longest namespace name (a DNS-1123 label). */
const NAMESPACE_MAX_LENGTH = 63;

/**
 * The type a tablet starts as. None starts as primary: a command elects it.
 */
export enum TabletType {
  /** Serves live reads and can be elected primary. */
  REPLICA = 'replica',
  /** Serves batch reads, backups and resharding snapshots; never primary. */
  RDONLY = 'rdonly',
}

/**
 * One tablet of a {@link TabletShard}.
 */
export interface Tablet {
  /** The tablet UID. */
  readonly uid: number;
  /** The alias `<cell>-<uid as %010d>`, e.g. `test-0000000100`. */
  readonly alias: string;
  /** The type it starts as. */
  readonly type: TabletType;
  /** The StatefulSet name, `vttablet-<uid>`; its pod is `vttablet-<uid>-0`. */
  readonly name: string;
  /** The StatefulSet. */
  readonly statefulSet: k8s.KubeStatefulSet;
}

/**
 * The Prometheus mysqld_exporter sidecar of the tablet pods ({@link TabletShardProps.mysqldExporter}).
 */
export interface MysqldExporterOptions {
  /**
   * The exporter's image: a reference pinned by a tag or a digest, of mysqld_exporter v0.19.0 or
   * later (the first release that connects to a Unix socket given by `--mysqld.address`).
   * @default 'prom/mysqld-exporter:v0.19.0'
   */
  readonly image?: string;
  /**
   * The exporter container's resources.
   * @default - requests 10m CPU and 32Mi memory, memory limit 128Mi (the vitess-operator's, without its CPU limit)
   */
  readonly resources?: k8s.ResourceRequirements;
  /**
   * The port the exporter serves `/metrics` on, named `metrics`: from 1024 to 65535, and not a port
   * of the tablet pods (15002, 16002, 3306, the sidecars').
   * @default 9104
   */
  readonly port?: number;
  /**
   * The exporter's collector flags, by name without `--collect.` (e.g. `info_schema.processlist`):
   * `true` gives `--collect.<name>`, `false` `--no-collect.<name>` (a collector the exporter runs
   * by default), a string or number `--collect.<name>=<value>` (a collector's setting, e.g.
   * `'info_schema.tables.databases': 'sys,_vt'`). With the default image, each name must be one of
   * its flags, with a value of its kind.
   * @default - the exporter's default collectors
   */
  readonly collectors?: { readonly [name: string]: boolean | string | number };
  /**
   * The MySQL user the exporter connects as, over mysqld's Unix socket (so as `<user>@localhost`).
   * The default is the monitoring user that the release's init_db.sql creates without a password;
   * with `initDbSql`, create it there (or another user with `PROCESS, REPLICATION CLIENT, SELECT`).
   * @default 'vt_monitoring'
   */
  readonly username?: string;
  /**
   * The user's password, from a Secret, given to the exporter in the environment variable
   * `MYSQLD_EXPORTER_PASSWORD` (never on its command line).
   * @default - no password (vt_monitoring has none in the release's init_db.sql)
   */
  readonly passwordSecret?: SecretKeyRef;
  /**
   * Whether the pods' Prometheus scrape annotations name the exporter's port (and `podAnnotations`
   * may not change them). A pod's annotations can name one port only: with `true` an
   * annotation-driven Prometheus scrapes MySQL's metrics instead of vttablet's (vttablet still
   * serves them on its `web` port, for a PodMonitor or a scrape job of its own); with `false` the
   * annotations keep naming vttablet's port, and the exporter is found by its port name `metrics`
   * (in the pods and in the shard's Service).
   * @default true
   */
  readonly scrapeAnnotations?: boolean;
}

/**
 * Props of {@link TabletShard}.
 */
export interface TabletShardProps extends WorkloadOptions {
  /**
   * The Vitess release.
   * @default VitessRelease.V9_0 (the source guide's release)
   */
  readonly release?: VitessRelease;
  /**
   * The global topology: its {@link EtcdCell}, or {@link TopologyServer.fromAddress} for an etcd
   * cluster that the library does not run.
   */
  readonly globalTopology: ITopologyServer;
  /**
   * The vtctld that a stopping replica asks to move the primary role away from it
   * (`PlannedReparentShard` avoiding itself, a preStop hook), so that deleting or evicting the
   * primary's pod does not kill the primary abruptly. It must run the same release.
   * @default - no hand-off: a stopped primary is replaced by VTOrc (v16+) or by hand
   */
  readonly vtctld?: IVtctld;
  /** The cell the tablets run in; it must be registered in the global topology. */
  readonly cell: string;
  /**
   * The name of the Vitess cluster this belongs to: it prefixes the name of every object it creates
   * (`<clusterName>-vttablet-<uid>`) and labels its pods `app.kubernetes.io/instance: <clusterName>`, which its
   * selectors include, so that two clusters can share a namespace. Tablet UIDs need to be unique only within a cluster.
   * @default - no prefix and no instance label
   */
  readonly clusterName?: string;
  /** The keyspace, e.g. `test_keyspace`. */
  readonly keyspace: string;
  /** The shard: `0` (unsharded) or a key range such as `-80` or `80-`. */
  readonly shard: string;
  /**
   * The UID of the first tablet; tablet i gets `uidBase + i`. UIDs must be unique across all cells.
   * @default 100
   */
  readonly uidBase?: number;
  /**
   * The number of replica tablets (the first ones); the first replica is the one the guide elects
   * master.
   * @default 3
   */
  readonly replicaCount?: number;
  /**
   * The number of rdonly tablets (after the replicas). vtworker's SplitClone and SplitDiff need 2
   * healthy rdonly tablets in the source and in each destination shard.
   * @default 2
   */
  readonly rdonlyCount?: number;
  /**
   * The backup storage: every vttablet gets its flags, volumes, mounts and environment, the same as
   * vtctld's (a file volume is also mounted in the mysql container, at the same path).
   * @default - no backup storage
   */
  readonly backup?: BackupStorage;
  /**
   * Whether a tablet restores the latest backup when it starts with an empty data directory
   * (`-restore_from_backup`). Needs `backup`.
   * @default true when `backup` is set
   */
  readonly restoreFromBackup?: boolean;
  /**
   * Whether vttablet enables semi-synchronous replication (`-enable_semi_sync`, as the guide's
   * release did; ignored by releases that set it through the keyspace durability policy).
   * @default true
   */
  readonly semiSync?: boolean;
  /**
   * The size of each tablet's data volume (`/vt/vtdataroot`).
   * @default 10Gi
   */
  readonly storageSize?: string;
  /**
   * The StorageClass of the data volumes.
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
  /**
   * MySQL server settings added to the `[mysqld]` section of the tablets' my.cnf (through
   * `EXTRA_MY_CNF` and a ConfigMap `<Service name>-mycnf`), e.g.
   * `{ innodb_buffer_pool_size: '768M' }`. mysqlctld applies them when mysqld next starts: after a
   * change, restart the tablets one at a time (see `updateStrategy` OnDelete).
   * @default - Vitess's defaults
   */
  readonly mysqlConfig?: { readonly [name: string]: string | number };
  /**
   * The SQL that mysqlctld runs instead of the release's init_db.sql (`init_db_sql_file`), from a
   * Secret, since it usually holds passwords. The key is mounted read-only into the mysql container
   * only. The Secret is not generated: create it before the tablets start (their pods wait for it).
   *
   * Vitess runs this file only when it initialises an empty data directory (a tablet's first
   * start, or a start on an emptied volume): changing it later changes nothing in existing tablets.
   * It replaces Vitess's init_db.sql rather than adding to it, so it must also create what that file
   * creates: the `_vt` database and the `vt_*` users with the privileges Vitess needs. vttablet
   * connects as those users with the passwords of its `db_*_password` flags, which TabletShard
   * does not set (empty passwords).
   * @default - the release's init_db.sql: {@link VitessRelease.imageInitDbSqlPath}, or the copy
   * built into mysqlctld where the image has none
   */
  readonly initDbSql?: SecretKeyRef;
  /**
   * The DNS domain of the cluster, in the host name each tablet registers in the topology
   * (`tablet_hostname`): the pod's stable DNS name
   * `vttablet-<uid>-0.<Service name>.<namespace>.svc.<clusterDomain>`, which keeps pointing at the
   * tablet when its pod is replaced and gets another IP. Releases whose MySQL takes replication
   * source host names of fewer than 253 characters ({@link VitessRelease.mysqlHostnameMaxLength},
   * v9.0: 60) register `vttablet-<uid>-0.<Service name>` instead, which pods of the same namespace
   * resolve through their DNS search path; they ignore `clusterDomain`.
   * @default cluster.local
   */
  readonly clusterDomain?: string;
  /**
   * The vttablet container's resources.
   * @default - requests 250m CPU and 256Mi memory, memory limit 1Gi
   */
  readonly vttabletResources?: k8s.ResourceRequirements;
  /**
   * The mysqld container's resources.
   * @default - requests 500m CPU and 1Gi memory, memory limit 1Gi (the guide's limit)
   */
  readonly mysqldResources?: k8s.ResourceRequirements;
  /**
   * The image of the mysql container, which runs `/vt/bin/mysqlctld` and the `mysqld` it starts
   * (as the vitess-operator's `mysqld` image: the Vitess image with another MySQL, say).
   * @default - the release's image, as the vttablet container
   */
  readonly mysqldImage?: string;
  /**
   * A Prometheus mysqld_exporter in every tablet pod (container `mysqld-exporter`, port `metrics`,
   * 9104): it connects to the tablet's own mysqld over its Unix socket, mounting the data volume
   * read-only, as the user `vt_monitoring` of the release's init_db.sql, and serves MySQL's metrics
   * at `/metrics`. The pods' scrape annotations then name its port (see
   * {@link MysqldExporterOptions.scrapeAnnotations}), the shard's Service has the port, and the
   * NetworkPolicy opens it as it opens vttablet's web port. `{}` runs it with the defaults.
   * @default - no exporter
   */
  readonly mysqldExporter?: MysqldExporterOptions;
}

/**
 * The tablets of one keyspace/shard in one cell. A tablet is one pod with the containers
 * `vttablet` and `mysql` (mysqlctld), and `mysqld-exporter` with {@link TabletShardProps.mysqldExporter}, run by its own StatefulSet `vttablet-<uid>` so its alias,
 * UID and type are literal in its manifest, with its data on a PVC that outlives the StatefulSet.
 * A headless Service `vttablet-<keyspace>-<shard>-<cell>` names the tablets' pods, and a
 * PodDisruptionBudget lets only one tablet of the shard go down at a time.
 *
 * Production defaults: the tablets of a shard are spread across nodes and zones; the StatefulSets
 * use the `OnDelete` update strategy, so that a change to the manifests never restarts every tablet
 * of a shard at once (delete the pods one at a time, the primary last); a stopping replica first
 * hands the primary role to another tablet (with `vtctld`), and mysqld stops only after vttablet;
 * a NetworkPolicy admits the gRPC and MySQL ports only from Vitess pods.
 */
export class TabletShard extends Construct {
  /** The Vitess release. */
  public readonly release: VitessRelease;
  /** The cell. */
  public readonly cell: string;
  /** The keyspace. */
  public readonly keyspace: string;
  /** The shard. */
  public readonly shard: string;
  /** `<keyspace>/<shard>`. */
  public readonly keyspaceShard: string;
  /** The tablets, replicas first. */
  public readonly tablets: readonly Tablet[];

  public constructor(scope: Construct, id: string, props: TabletShardProps) {
    super(scope, id);
    const release = props.release ?? VitessRelease.V9_0;
    validateCellName('TabletShard', 'cell', props.cell);
    validateKeyspaceName('TabletShard', 'keyspace', props.keyspace);
    validateShardName('TabletShard', 'shard', props.shard);
    validateResources('TabletShard', 'vttabletResources', props.vttabletResources);
    validateResources('TabletShard', 'mysqldResources', props.mysqldResources);
    if (props.storageSize !== undefined) {
      validateQuantity('TabletShard', 'storageSize', props.storageSize);
    }
    const uidBase = props.uidBase ?? 100;
    const replicaCount = props.replicaCount ?? 3;
    const rdonlyCount = props.rdonlyCount ?? 2;
    if (!Number.isInteger(replicaCount) || replicaCount < 1) {
      throw new Error(
        `TabletShard: 'replicaCount' must be a whole number of at least 1 (a shard needs a tablet that can be elected primary), got ${replicaCount}`,
      );
    }
    if (!Number.isInteger(rdonlyCount) || rdonlyCount < 0) {
      throw new Error(`TabletShard: 'rdonlyCount' must be a whole number of at least 0, got ${rdonlyCount}`);
    }
    const count = replicaCount + rdonlyCount;
    if (!Number.isInteger(uidBase) || uidBase < 1 || uidBase + count - 1 > MAX_TABLET_UID) {
      throw new Error(
        `TabletShard: 'uidBase' must be a whole number from 1 to ${MAX_TABLET_UID - count + 1} ` +
          `(tablet UIDs are uint32 and this shard has ${count} tablets), got ${uidBase}`,
      );
    }
    if (props.vtctld && props.vtctld.release !== release) {
      throw new Error(
        `TabletShard: 'vtctld' runs Vitess ${props.vtctld.release.version} but 'release' is ${release.version}`,
      );
    }
    const mysqldImage = props.mysqldImage ?? release.image;
    if (!/^[a-z0-9][A-Za-z0-9._/:@-]*$/.test(mysqldImage)) {
      throw new Error(`TabletShard: 'mysqldImage' must be an image reference such as vitess/lite:v22.0.3-mysql84, got '${mysqldImage}'`);
    }
    const myCnf = renderMyCnf(props.mysqlConfig);
    if (props.initDbSql !== undefined) {
      validateSubdomainName('TabletShard', 'initDbSql.secretName', props.initDbSql.secretName);
      validateDataKey('TabletShard', 'initDbSql.key', props.initDbSql.key, 'Secret');
    }
    const clusterDomain = props.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
    validateSubdomainName('TabletShard', 'clusterDomain', clusterDomain);
    if (props.restoreFromBackup && !props.backup) {
      throw new Error("TabletShard: 'restoreFromBackup' is true but no 'backup' storage is set");
    }
    const exporter =
      props.mysqldExporter !== undefined
        ? mysqldExporter('TabletShard', 'mysqldExporter', props.mysqldExporter, [
          { port: VTTABLET_WEB_PORT, user: "vttablet's web port" },
          { port: VTTABLET_GRPC_PORT, user: "vttablet's gRPC port" },
          { port: MYSQL_PORT, user: "mysqld's MySQL port" },
          ...(props.sidecars ?? []).flatMap((sidecar) =>
            (sidecar.ports ?? []).map((p) => ({ port: p.containerPort, user: `a port of the sidecar '${sidecar.name}'` })),
          ),
        ])
        : undefined;
    this.release = release;
    this.cell = props.cell;
    this.keyspace = props.keyspace;
    this.shard = props.shard;
    this.keyspaceShard = `${props.keyspace}/${props.shard}`;

    validateClusterName('TabletShard', 'clusterName', props.clusterName);
    const cluster = clusterLabels(props.clusterName);
    const shardSelector = {
      app: 'vitess',
      component: 'vttablet',
      cell: props.cell,
      keyspace: props.keyspace,
      shard: shardLabel(props.shard),
      ...cluster,
    };
    const shardLabels = { ...APP_LABEL, ...shardSelector };
    const serviceName = inCluster(props.clusterName, `vttablet-${keyspaceObjectName(props.keyspace)}-${shardLabel(props.shard)}-${props.cell}`);
    validateObjectName('TabletShard', 'keyspace, shard and cell (in the Service name)', serviceName);
    claimObjectName(this, 'TabletShard', 'Service', serviceName);

    new k8s.KubeService(this, 'Service', {
      metadata: { name: serviceName, labels: shardLabels },
      spec: {
        clusterIp: 'None',
        publishNotReadyAddresses: true,
        selector: shardSelector,
        ports: [
          { name: 'web', port: VTTABLET_WEB_PORT, targetPort: k8s.IntOrString.fromNumber(VTTABLET_WEB_PORT) },
          { name: 'grpc', port: VTTABLET_GRPC_PORT, targetPort: k8s.IntOrString.fromNumber(VTTABLET_GRPC_PORT) },
          { name: 'mysql', port: MYSQL_PORT, targetPort: k8s.IntOrString.fromNumber(MYSQL_PORT) },
          ...(exporter !== undefined
            ? [{ name: MYSQLD_EXPORTER_PORT_NAME, port: exporter.port, targetPort: k8s.IntOrString.fromNumber(exporter.port) }]
            : []),
        ],
      },
    });

    const myCnfName = `${serviceName}-mycnf`;
    if (myCnf !== undefined) {
      new k8s.KubeConfigMap(this, 'MyCnf', {
        metadata: { name: myCnfName, labels: shardLabels },
        data: { 'extra.cnf': myCnf },
      });
    }
    const restore = props.restoreFromBackup ?? props.backup !== undefined;
    const semiSync = props.semiSync ?? true;
    // A given initDbSql replaces the release's init_db.sql; mysqlctld reads it from the Secret.
    const initDbSqlFile = props.initDbSql !== undefined ? `${INIT_DB_SQL_DIR}/${INIT_DB_SQL_FILE}` : release.imageInitDbSqlPath;
    const initDbSqlVolume: k8s.Volume | undefined =
      props.initDbSql !== undefined
        ? {
          name: 'init-db-sql',
          secret: { secretName: props.initDbSql.secretName, items: [{ key: props.initDbSql.key, path: INIT_DB_SQL_FILE }] },
        }
        : undefined;
    const backupParts = backupContainerParts('TabletShard', release, 'vttablet', props.backup);
    const tablets: Tablet[] = [];
    for (let i = 0; i < count; i++) {
      const uid = uidBase + i;
      const alias = tabletAlias(props.cell, uid);
      const type = i < replicaCount ? TabletType.REPLICA : TabletType.RDONLY;
      const name = inCluster(props.clusterName, `vttablet-${uid}`);
      registerTabletUid(this, props.clusterName, uid, alias);
      const labels = { ...shardLabels, 'tablet': alias, 'tablet-type': type };
      const backup = props.backup;
      const hostname = tabletHostname(release, `${name}-0`, serviceName, clusterDomain);

      const vttabletArgs = [
        ...topologyFlags(release, props.globalTopology),
        release.flag('tablet-path', alias),
        release.flag('tablet_hostname', hostname.name),
        release.flag('init_keyspace', props.keyspace),
        release.flag('init_shard', props.shard),
        release.flag('init_tablet_type', type),
        release.flag('port', VTTABLET_WEB_PORT),
        release.flag('grpc_port', VTTABLET_GRPC_PORT),
        release.flag('service_map', 'grpc-queryservice,grpc-tabletmanager,grpc-updatestream'),
        release.flag('mysqlctl_socket', '/vt/vtdataroot/mysqlctl.sock'),
        release.flag('health_check_interval', '5s'),
        release.flag('enable_replication_reporter'),
        ...(release.tabletSemiSyncFlag && semiSync ? [release.flag('enable_semi_sync')] : []),
        ...(release.v3ReshardingMode ? [release.flag('binlog_use_v3_resharding_mode')] : []),
        ...backupParts.flags,
        ...(restore ? [release.flag('restore_from_backup')] : []),
        ...release.logFlags(),
      ];
      const mysqlctldArgs = [
        release.flag('tablet_uid', uid),
        release.flag('mysql_port', MYSQL_PORT),
        release.flag('socket_file', '/vt/vtdataroot/mysqlctl.sock'),
        ...(initDbSqlFile !== undefined ? [release.flag('init_db_sql_file', initDbSqlFile)] : []),
        ...release.logFlags(),
      ];
      const dataMount = { name: 'vtdataroot', mountPath: '/vt/vtdataroot' };
      const handOff =
        props.vtctld && type === TabletType.REPLICA ? handOffHook(release, props.vtctld, this.keyspaceShard, alias) : undefined;

      const statefulSet = new k8s.KubeStatefulSet(this, `Tablet${uid}`, {
        metadata: { name, labels },
        spec: {
          serviceName,
          replicas: 1,
          selector: { matchLabels: { app: 'vitess', component: 'vttablet', tablet: alias, ...cluster } },
          persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
          updateStrategy: { type: 'OnDelete' },
          template: vitessPodTemplate('TabletShard', props, {
            labels,
            release,
            metricsPort: VTTABLET_WEB_PORT,
            ...(exporter?.scrapeAnnotations
              ? {
                fixedAnnotations: {
                  values: scrapeAnnotations(exporter.port, MYSQLD_EXPORTER_PATH),
                  purpose: "the scrape annotations of 'mysqldExporter' (with 'mysqldExporter.scrapeAnnotations' false they name vttablet's port, and 'podAnnotations' may replace them)",
                },
              }
              : {}),
            spreadAcross: shardSelector,
            terminationGracePeriodSeconds: TABLET_GRACE_SECONDS,
            containers: [
              {
                name: 'vttablet',
                image: release.image,
                command: ['/vt/bin/vttablet'],
                args: vttabletArgs,
                env: backupParts.env.length > 0 ? [...(hostname.env ?? []), ...backupParts.env] : hostname.env,
                ports: [
                  { name: 'web', containerPort: VTTABLET_WEB_PORT },
                  { name: 'grpc', containerPort: VTTABLET_GRPC_PORT },
                ],
                // A restore from backup can take long: up to an hour before liveness applies.
                startupProbe: httpProbe('/debug/vars', VTTABLET_WEB_PORT, {
                  periodSeconds: 10,
                  timeoutSeconds: 5,
                  failureThreshold: 360,
                }),
                readinessProbe: httpProbe('/healthz', VTTABLET_WEB_PORT, DAEMON_READINESS_TIMING),
                livenessProbe: httpProbe('/debug/vars', VTTABLET_WEB_PORT, {
                  periodSeconds: 10,
                  timeoutSeconds: 10,
                  failureThreshold: 30,
                }),
                lifecycle: handOff ? { preStop: handOff } : undefined,
                resources: props.vttabletResources ?? resources('250m', '256Mi', '1Gi'),
                volumeMounts: [dataMount, TMP_MOUNT, ...backupParts.volumeMounts],
              },
              {
                name: 'mysql',
                image: mysqldImage,
                command: ['/vt/bin/mysqlctld'],
                args: mysqlctldArgs,
                env: myCnf !== undefined ? [{ name: 'EXTRA_MY_CNF', value: `${EXTRA_MY_CNF_DIR}/extra.cnf` }] : undefined,
                ports: [{ name: 'mysql', containerPort: MYSQL_PORT }],
                readinessProbe: {
                  tcpSocket: { port: k8s.IntOrString.fromNumber(MYSQL_PORT) },
                  periodSeconds: 2,
                  timeoutSeconds: 1,
                  failureThreshold: 3,
                },
                lifecycle: { preStop: waitForVttabletHook() },
                resources: props.mysqldResources ?? resources('500m', '1Gi', '1Gi'),
                volumeMounts: [
                  dataMount,
                  TMP_MOUNT,
                  ...(backup?.volumeMount ? [backup.volumeMount] : []),
                  ...(myCnf !== undefined ? [{ name: 'mycnf', mountPath: EXTRA_MY_CNF_DIR, readOnly: true }] : []),
                  ...(initDbSqlVolume !== undefined ? [{ name: initDbSqlVolume.name, mountPath: INIT_DB_SQL_DIR, readOnly: true }] : []),
                ],
              },
              ...(exporter !== undefined ? [exporter.container(uid, dataMount)] : []),
            ],
            volumes: [
              TMP_VOLUME,
              ...backupParts.volumes,
              ...(myCnf !== undefined ? [{ name: 'mycnf', configMap: { name: myCnfName } }] : []),
              ...(initDbSqlVolume !== undefined ? [initDbSqlVolume] : []),
            ],
          }),
          volumeClaimTemplates: [
            {
              metadata: { name: 'vtdataroot', labels },
              spec: {
                accessModes: ['ReadWriteOnce'],
                storageClassName: props.storageClassName,
                resources: { requests: { storage: k8s.Quantity.fromString(props.storageSize ?? '10Gi') } },
              },
            },
          ],
        },
      });
      tablets.push({ uid, alias, type, name, statefulSet });
    }
    this.tablets = tablets;

    createDisruptionBudget(this, serviceName, shardLabels, shardSelector);

    if (props.networkPolicy ?? true) {
      createNetworkPolicy(this, serviceName, shardLabels, shardSelector, [
        ingressRule([VTTABLET_GRPC_PORT, MYSQL_PORT], [{ podSelector: clusterPods(props.clusterName) }]),
        ingressRule([VTTABLET_WEB_PORT, ...(exporter !== undefined ? [exporter.port] : [])]),
      ]);
    }
  }

  /** The aliases of all tablets. */
  public get aliases(): string[] {
    return this.tablets.map((t) => t.alias);
  }

  /** The aliases of the rdonly tablets. */
  public get rdonlyAliases(): string[] {
    return this.tablets.filter((t) => t.type === TabletType.RDONLY).map((t) => t.alias);
  }

  /** The alias of the first replica: the tablet the guide elects primary. */
  public get primaryCandidate(): string {
    return this.tablets[0].alias;
  }

  /**
   * A Job that elects the first replica primary of this new shard once every one of its tablets
   * can take part: `InitShardMaster -force <keyspace/shard> <alias>` on releases that have it (the
   * guide's v9), `PlannedReparentShard --new-primary=<alias> <keyspace/shard>` on later ones (which
   * also run VTOrc: whichever acts first elects, and the other finds a primary).
   *
   * The Job waits until every tablet answers and reports its MySQL port
   * ({@link JobCondition.tabletsReady}): a tablet registers while its mysqld is still starting (or
   * restoring), and both elections fail on such a tablet. On releases with durability policies it
   * also waits until the keyspace has one ({@link JobCondition.keyspaceDurabilitySet}):
   * PlannedReparentShard takes a missing policy as `none` and would elect a primary without
   * semi-sync. A failed election is tried again up to 5 times, 10 s to 60 s apart, each time only
   * if the shard still has no primary. `-force` is destructive on a shard that already has a
   * primary, so the Job never runs it on one: with PlannedReparentShard the Job does nothing when
   * the shard has a primary (VTOrc repairs replicas that do not replicate). InitShardMaster
   * records the primary in the shard before its replicas have replicated the election, and fails
   * after that when one cannot (v9.0.0 `go/vt/wrangler/reparent.go` 276-320): the Job does
   * nothing when the shard has a primary and every tablet has replicated an election
   * ({@link JobCondition.reparentJournalReplicated}), and fails, without acting, when the shard
   * has a primary but a tablet has not; such a shard needs its replication repaired by hand.
   *
   * With {@link InitPrimaryJobOptions.supersededBy} the Job also does nothing once the cell serves
   * the keyspace's primary from the shards that replaced this one: after resharding, this shard
   * and its tablets are gone, and the Job applied again would otherwise wait for them and fail.
   */
  public initPrimaryJob(scope: Construct, id: string, vtctld: IVtctld, options: InitPrimaryJobOptions = {}): VtctlJob {
    const release = vtctld.release;
    if (release !== this.release) {
      throw new Error(
        `TabletShard.initPrimaryJob: vtctld runs Vitess ${release.version} but the shard ${this.keyspaceShard} runs ${this.release.version}`,
      );
    }
    const supersededBy = this.validateSupersededBy(options.supersededBy);
    const hasPrimary = JobCondition.shardHasPrimary(this.keyspace, this.shard);
    const legacy = release.vtctlCommands.includes('InitShardMaster');
    const command = legacy
      ? ['InitShardMaster', release.commandFlag('force'), this.keyspaceShard, this.primaryCandidate]
      : ['PlannedReparentShard', release.commandFlag('new_primary', this.primaryCandidate), this.keyspaceShard];
    const durability = release.vtctlClient === VtctlClient.VTCTLDCLIENT ? [JobCondition.keyspaceDurabilitySet(this.keyspace)] : [];
    // InitShardMaster records the primary before the replicas have replicated the election, and
    // -force again would reset the primary's binary logs: done means a primary that every tablet
    // has replicated, and a primary without that is refused, not elected again.
    const elected = legacy ? JobCondition.allOf(hasPrimary, JobCondition.reparentJournalReplicated(this.cell, this.aliases)) : hasPrimary;
    return new VtctlJob(scope, id, {
      vtctld,
      jobName: `vtctl-${command[0].toLowerCase()}-${keyspaceObjectName(this.keyspace)}-${shardLabel(this.shard)}`,
      waitFor: [...durability, JobCondition.tabletsReady(this.cell, this.aliases)],
      skipIf:
        supersededBy === undefined
          ? elected
          : JobCondition.anyOf(elected, JobCondition.servedBy(this.cell, this.keyspace, ServedType.PRIMARY, supersededBy)),
      ...(legacy ? { refuseIf: hasPrimary } : {}),
      commands: [command],
      retries: ELECTION_RETRIES,
    });
  }

  /** The `supersededBy` option checked, in key-range order, or undefined when not given. */
  private validateSupersededBy(shards: readonly string[] | undefined): string[] | undefined {
    if (shards === undefined) {
      return undefined;
    }
    const context = 'TabletShard.initPrimaryJob';
    if (!Array.isArray(shards) || shards.length === 0) {
      throw new Error(`${context}: 'supersededBy' must name at least one shard that replaces ${this.keyspaceShard}, got none`);
    }
    for (const shard of shards) {
      validateShardName(context, 'supersededBy', shard);
      if (shard === this.shard) {
        throw new Error(
          `${context}: 'supersededBy' must name the shards that replace ${this.keyspaceShard}, not shard '${shard}' itself`,
        );
      }
      if (shards.indexOf(shard) !== shards.lastIndexOf(shard)) {
        throw new Error(`${context}: 'supersededBy' must name each shard once, got '${shard}' more than once`);
      }
    }
    validateKeyRangeCover(context, 'supersededBy', this.shard, shards);
    return [...shards].sort(compareShardStarts);
  }
}

/**
 * Options of {@link TabletShard.initPrimaryJob}.
 */
export interface InitPrimaryJobOptions {
  /**
   * The shards that replace this shard once it is resharded, e.g. `['-80', '80-']` for `0`: the
   * Job also does nothing when the cell serves the keyspace's primary from exactly these shards
   * ({@link JobCondition.servedBy}), which is true only after the primary has moved to them, so
   * that applying it again after resharding (when this shard and its tablets are gone) succeeds.
   * They must follow one another without gaps or overlaps and cover this shard's key range.
   * @default - the Job does nothing only when this shard has a primary
   */
  readonly supersededBy?: readonly string[];
}

/** Throws if another tablet in the same app already has this UID. */
function registerTabletUid(shard: TabletShard, clusterName: string | undefined, uid: number, alias: string): void {
  claimUnique(
    shard,
    `tablet-uid/${clusterName ?? ''}/${uid}`,
    `${alias} in ${shard.node.path}`,
    (other) =>
      `TabletShard ${shard.node.path}: tablet UID ${uid} (${alias}) is already used by ${other}; ` +
      "UIDs must be unique across all cells: give each shard its own 'uidBase'",
  );
}

/**
 * The preStop hook of a replica's vttablet: `PlannedReparentShard` avoiding this tablet, which
 * moves the primary role to another replica when this tablet is the primary and does nothing
 * otherwise; retried for up to {@link HAND_OFF_SECONDS}, after which the pod stops anyway. A shard
 * that no longer serves its primary (resharded away) is left alone, so that deleting its tablets
 * does not reparent it.
 */
function handOffHook(release: VitessRelease, vtctld: IVtctld, keyspaceShard: string, alias: string): k8s.LifecycleHandler {
  const legacy = release.primaryTypeName === 'master';
  const client = clientPrefix(release, vtctld.grpcAddress);
  const command = legacy
    ? ['PlannedReparentShard', release.commandFlag('keyspace_shard', keyspaceShard), release.commandFlag('avoid_master', alias)]
    : ['PlannedReparentShard', release.commandFlag('avoid_primary', alias), keyspaceShard];
  const serving = `"is_${release.primaryTypeName}_serving":true`;
  const script = [
    `if shard=$(${shellCommand([...client, 'GetShard', keyspaceShard])}); then`,
    `  case "$(printf '%s' "$shard" | tr -d ' \\t\\n')" in`,
    `    *'${serving}'*) ;;`,
    `    *) echo "${keyspaceShard} does not serve its ${release.primaryTypeName}: no hand-off"; exit 0 ;;`,
    '  esac',
    'fi',
    `deadline=$((SECONDS + ${HAND_OFF_SECONDS}))`,
    `until ${shellCommand([...client, ...command])}; do`,
    '  if [ "$SECONDS" -ge "$deadline" ]; then',
    `    echo "could not hand the ${release.primaryTypeName} role of ${keyspaceShard} away from ${alias}; stopping anyway" >&2`,
    '    exit 1',
    '  fi',
    '  sleep 5',
    'done',
  ].join('\n');
  return { exec: { command: ['/bin/bash', '-c', script] } };
}

/**
 * The preStop hook of the mysql container: wait (up to {@link MYSQL_STOP_WAIT_SECONDS}) until
 * vttablet no longer listens, so that a primary hand-off can still use mysqld.
 */
function waitForVttabletHook(): k8s.LifecycleHandler {
  const script = [
    `deadline=$((SECONDS + ${MYSQL_STOP_WAIT_SECONDS}))`,
    `while [ "$SECONDS" -lt "$deadline" ] && (exec 3<>/dev/tcp/127.0.0.1/${VTTABLET_WEB_PORT}) 2>/dev/null; do`,
    '  sleep 2',
    'done',
  ].join('\n');
  return { exec: { command: ['/bin/bash', '-c', script] } };
}

/** The `mysqlConfig` prop as a my.cnf `[mysqld]` section, or undefined when not set. */
function renderMyCnf(config: { readonly [name: string]: string | number } | undefined): string | undefined {
  if (config === undefined) {
    return undefined;
  }
  const lines = ['[mysqld]'];
  for (const [name, value] of Object.entries(config)) {
    if (!/^[a-z][a-z0-9_-]*$/.test(name)) {
      throw new Error(
        `TabletShard: 'mysqlConfig' names must be MySQL option names (lowercase letters, digits, '_' and '-'), got '${name}'`,
      );
    }
    const text = String(value);
    if (text === '' || /[\r\n]/.test(text)) {
      throw new Error(`TabletShard: 'mysqlConfig' value of '${name}' must be one non-empty line, got '${text}'`);
    }
    lines.push(`${name} = ${text}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The host name a tablet registers (`tablet_hostname`) and the downward API variables that its
 * `$(VAR)`s need.
 *
 * vttablet puts `tablet_hostname` as it is into its tablet record (go/vt/vttablet/tabletmanager/
 * tm_init.go lines 183-193 and 215-217 at v9.0.0, lines 228-238 and 277 at v22.0.4 and v22.0.1).
 * With mysqld on a socket (no `db_host`), the record's MySQL host name is that name too (checkMysql:
 * lines 514-528 at v9.0.0, lines 733-747 at v22.0.4 and v22.0.1), and replicas replicate from the
 * MySQL host name of their primary's record (go/vt/vttablet/tabletmanager/rpc_replication.go line
 * 568 at v9.0.0, line 890 at v22.0.4, line 838 at v22.0.1). So the name must be stable, unlike the
 * pod IP, and fit what the image's MySQL takes as a replication source host.
 *
 * The pod's DNS name `<pod>.<Service>.<namespace>.svc.<cluster domain>` exists while the headless
 * Service (which publishes not-ready addresses) selects the pod. It can be as long as any DNS name
 * (253 characters), so only a release whose MySQL takes that many registers it; the others register
 * `<pod>.<Service>`, which pods of the same namespace resolve through their DNS search path, and
 * which must fit the release's limit.
 */
function tabletHostname(
  release: VitessRelease,
  podName: string,
  serviceName: string,
  clusterDomain: string,
): { name: string; env: k8s.EnvVar[] } {
  const podNameEnv = fieldEnv('POD_NAME', 'metadata.name');
  if (release.mysqlHostnameMaxLength >= DNS_NAME_MAX_LENGTH) {
    // The namespace is only known in the pod; a name as long as a namespace can be must still fit.
    const longest = `${podName}.${serviceName}.${'n'.repeat(NAMESPACE_MAX_LENGTH)}.svc.${clusterDomain}`;
    if (longest.length > DNS_NAME_MAX_LENGTH) {
      throw new Error(
        `TabletShard: 'clusterDomain' '${clusterDomain}' is too long: the tablet host name ` +
          `'${podName}.${serviceName}.<namespace>.svc.${clusterDomain}' must fit in ${DNS_NAME_MAX_LENGTH} ` +
          `characters with a namespace of up to ${NAMESPACE_MAX_LENGTH}, and would have up to ${longest.length}`,
      );
    }
    return {
      name: `$(POD_NAME).${serviceName}.$(POD_NAMESPACE).svc.${clusterDomain}`,
      env: [podNameEnv, fieldEnv('POD_NAMESPACE', 'metadata.namespace')],
    };
  }
  const short = `${podName}.${serviceName}`;
  if (short.length > release.mysqlHostnameMaxLength) {
    throw new Error(
      `TabletShard: the tablet host name '${short}' has ${short.length} characters, but the MySQL of ` +
        `Vitess ${release.version} (${release.image}) takes replication source host names of at most ` +
        `${release.mysqlHostnameMaxLength}: shorten the keyspace, shard or cell (they make the Service name '${serviceName}')`,
    );
  }
  return { name: `$(POD_NAME).${serviceName}`, env: [podNameEnv] };
}

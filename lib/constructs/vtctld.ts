import { Construct } from 'constructs';
import { k8s } from '../../imports/k8s';
import type { BackupStorage } from '../backup-storage';
import type { ITopologyServer, IVtctld, JobPodOptions } from '../interfaces';
import { backupContainerParts } from '../internal/backup';
import { claimObjectName, clusterLabels, inCluster, validateCellName, validateClusterName, validateObjectName } from '../internal/names';
import {
  APP_LABEL,
  TMP_MOUNT,
  TMP_VOLUME,
  clusterPods,
  createNetworkPolicy,
  daemonProbes,
  debugHealthBodyProbe,
  ingressRule,
  resources,
  validateResources,
} from '../internal/pod';
import { createDisruptionBudget, vitessPodTemplate } from '../internal/pod-skeleton';
import { topologyFlags } from '../internal/topology';
import { VitessRelease, VtctlClient } from '../release';
import type { WorkloadOptions } from '../workload-options';

/** vtctld's HTTP port (web UI and `/api`). */
export const VTCTLD_WEB_PORT = 15000;
/** vtctld's gRPC port (vtctlclient and vtctldclient). */
export const VTCTLD_GRPC_PORT = 15999;

/**
 * Props of {@link Vtctld}.
 */
export interface VtctldProps extends WorkloadOptions {
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
   * The cell vtctld runs in (its `-cell` flag, which releases without
   * {@link VitessRelease.vtctldCellFlag}, v24 on, are not given).
   */
  readonly cell: string;
  /**
   * The backup storage of the tablets: vtctld lists and removes backups (`ListBackups`,
   * `GetBackups`, `RemoveBackup`), so it gets the same flags, volumes, mounts and environment.
   * @default - no backup storage
   */
  readonly backup?: BackupStorage;
  /**
   * The name of the Vitess cluster this belongs to: it prefixes the name of every object it creates
   * (`<clusterName>-vtctld` unless `name` is given) and labels its pods `app.kubernetes.io/instance: <clusterName>`, which its
   * selectors include, so that two clusters can share a namespace. Every command Job that talks to this vtctld takes it too.
   * @default - no prefix and no instance label
   */
  readonly clusterName?: string;
  /**
   * The Deployment and Service name; command Jobs reach vtctld at `<name>:15999`.
   * @default - `vtctld`, prefixed with `clusterName` when given
   */
  readonly name?: string;
  /**
   * The number of vtctld replicas.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * The vtctld container's resources.
   * @default - requests 100m CPU and 128Mi memory, memory limit 128Mi (the vitess-operator's)
   */
  readonly resources?: k8s.ResourceRequirements;
  /**
   * The pod options of the command Jobs that talk to this vtctld ({@link IVtctld.jobOptions}).
   * @default - vtctld's own node selector, tolerations, priority class, image pull secrets and user IDs
   */
  readonly jobOptions?: JobPodOptions;
}

/**
 * vtctld, the cluster management daemon: a Deployment and a ClusterIP Service `vtctld` with the
 * web port 15000 and the gRPC port 15999, a PodDisruptionBudget of one pod, and a NetworkPolicy
 * that admits gRPC (the commands) only from Vitess pods and leaves the web port (UI, `/api`,
 * `/metrics`) open. Command Jobs run with the node selector, tolerations, priority class, image pull
 * secrets and user IDs given here.
 *
 * vtctld is ready while its `/debug/health` says `ok`, which it does while it can list the keyspaces
 * of the global topology (go/vt/vtctld/debug_health.go:31-49 at v0.9.0, :32-50 at v0.22.4 and
 * v0.22.1; an empty topology is fine: go/vt/topo/keyspace.go:306-316 at v0.9.0, :432-446 at
 * v0.22.4 and v0.22.1). That page answers HTTP 200 with `not ok` too, so the readiness probe is a
 * bash script that checks the body, not an HTTP probe.
 */
export class Vtctld extends Construct implements IVtctld {
  /** The Vitess release. */
  public readonly release: VitessRelease;
  /** The Deployment and Service name. */
  public readonly name: string;
  /** `host:port` of the gRPC service, e.g. `vtctld:15999`. */
  public readonly grpcAddress: string;
  /** `host:port` of the web service, e.g. `vtctld:15000`. */
  public readonly webAddress: string;
  /** The pod options of the command Jobs. */
  public readonly jobOptions: JobPodOptions;
  /** The name of its cluster, which prefixes its Jobs' names. */
  public readonly clusterName: string | undefined;
  /** The Deployment. */
  public readonly deployment: k8s.KubeDeployment;

  public constructor(scope: Construct, id: string, props: VtctldProps) {
    super(scope, id);
    this.release = props.release ?? VitessRelease.V9_0;
    validateClusterName('Vtctld', 'clusterName', props.clusterName);
    this.clusterName = props.clusterName;
    this.name = props.name ?? inCluster(props.clusterName, 'vtctld');
    validateObjectName('Vtctld', 'name', this.name);
    claimObjectName(this, 'Vtctld', 'Deployment', this.name);
    validateCellName('Vtctld', 'cell', props.cell);
    validateResources('Vtctld', 'resources', props.resources);
    const replicas = props.replicas ?? 1;
    if (!Number.isInteger(replicas) || replicas < 1) {
      throw new Error(`Vtctld: 'replicas' must be a whole number of at least 1, got ${replicas}`);
    }
    this.grpcAddress = `${this.name}:${VTCTLD_GRPC_PORT}`;
    this.webAddress = `${this.name}:${VTCTLD_WEB_PORT}`;

    const release = this.release;
    this.jobOptions = props.jobOptions ?? {
      nodeSelector: props.nodeSelector,
      tolerations: props.tolerations,
      priorityClassName: props.priorityClassName,
      imagePullSecrets: props.imagePullSecrets,
      userIds: props.userIds,
    };
    const selector = { app: 'vitess', component: 'vtctld', vtctld: this.name, ...clusterLabels(props.clusterName) };
    const labels = { ...APP_LABEL, ...selector };

    new k8s.KubeService(this, 'Service', {
      metadata: { name: this.name, labels },
      spec: {
        type: 'ClusterIP',
        selector,
        ports: [
          { name: 'web', port: VTCTLD_WEB_PORT, targetPort: k8s.IntOrString.fromNumber(VTCTLD_WEB_PORT) },
          { name: 'grpc', port: VTCTLD_GRPC_PORT, targetPort: k8s.IntOrString.fromNumber(VTCTLD_GRPC_PORT) },
        ],
      },
    });

    const backup = backupContainerParts('Vtctld', release, 'vtctld', props.backup);
    this.deployment = new k8s.KubeDeployment(this, 'Resource', {
      metadata: { name: this.name, labels },
      spec: {
        replicas,
        selector: { matchLabels: selector },
        template: vitessPodTemplate('Vtctld', props, {
          labels,
          release,
          metricsPort: VTCTLD_WEB_PORT,
          spreadAcross: selector,
          containers: [
            {
              name: 'vtctld',
              image: release.image,
              command: ['/vt/bin/vtctld'],
              args: [
                ...topologyFlags(release, props.globalTopology),
                ...(release.vtctldCellFlag ? [release.flag('cell', props.cell)] : []),
                release.flag('port', VTCTLD_WEB_PORT),
                release.flag('grpc_port', VTCTLD_GRPC_PORT),
                release.flag('service_map', vtctldServices(release).join(',')),
                ...backup.flags,
                ...release.logFlags(),
              ],
              env: backup.env.length > 0 ? backup.env : undefined,
              ports: [
                { name: 'web', containerPort: VTCTLD_WEB_PORT },
                { name: 'grpc', containerPort: VTCTLD_GRPC_PORT },
              ],
              ...daemonProbes(VTCTLD_WEB_PORT, debugHealthBodyProbe(VTCTLD_WEB_PORT)),
              resources: props.resources ?? resources('100m', '128Mi', '128Mi'),
              volumeMounts: [TMP_MOUNT, ...backup.volumeMounts],
            },
          ],
          volumes: [TMP_VOLUME, ...backup.volumes],
        }),
      },
    });

    createDisruptionBudget(this, this.name, labels, selector);

    if (props.networkPolicy ?? true) {
      createNetworkPolicy(this, this.name, labels, selector, [
        ingressRule([VTCTLD_GRPC_PORT], [{ podSelector: clusterPods(props.clusterName) }]),
        ingressRule([VTCTLD_WEB_PORT]),
      ]);
    }
  }
}

/**
 * The gRPC services vtctld serves: vtctl's, and vtctld's own where the release's Jobs use
 * vtctldclient.
 */
function vtctldServices(release: VitessRelease): string[] {
  return release.vtctlClient === VtctlClient.VTCTLDCLIENT ? ['grpc-vtctl', 'grpc-vtctld'] : ['grpc-vtctl'];
}

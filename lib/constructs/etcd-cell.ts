import { Construct } from 'constructs';
import { k8s } from '../../imports/k8s';
import type { ITopologyServer, IVtctld } from '../interfaces';
import { claimObjectName, clusterLabels, inCluster, validateCellName, validateClusterName } from '../internal/names';
import {
  APP_LABEL,
  clusterPods,
  createNetworkPolicy,
  httpProbe,
  ingressRule,
  resources,
  validateQuantity,
  validateResources,
} from '../internal/pod';
import { createDisruptionBudget, vitessPodTemplate } from '../internal/pod-skeleton';
import { AddCellInfoJob } from '../jobs/add-cell-info-job';
import type { VtctlJob } from '../jobs/vtctl-job';
import type { WorkloadOptions } from '../workload-options';

/** The etcd client port. */
export const ETCD_CLIENT_PORT = 2379;
/** The etcd peer port. */
export const ETCD_PEER_PORT = 2380;
/** The etcd metrics port (`/metrics` and `/health`, open to scrapers). */
export const ETCD_METRICS_PORT = 2381;

/**
 * Props of {@link EtcdCell}.
 */
export interface EtcdCellProps extends WorkloadOptions {
  /**
   * The topology cell this etcd cluster serves: `global` for the global topology, or a cell name
   * such as `test` (lowercase letters and digits).
   */
  readonly cell: string;
  /**
   * The name of the Vitess cluster this belongs to: it prefixes the name of every object it creates
   * (`<clusterName>-etcd-<cell>`) and labels its pods `app.kubernetes.io/instance: <clusterName>`, which its
   * selectors include, so that two clusters can share a namespace.
   * @default - no prefix and no instance label
   */
  readonly clusterName?: string;
  /**
   * The number of etcd members; odd, so that a quorum survives the loss of (n-1)/2 members.
   * @default 3
   */
  readonly replicas?: number;
  /**
   * The etcd image.
   * @default quay.io/coreos/etcd:v3.5.17 (the vitess-operator's default)
   */
  readonly image?: string;
  /**
   * The size of each member's data volume.
   * @default 1Gi
   */
  readonly storageSize?: string;
  /**
   * The StorageClass of the data volumes.
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
  /**
   * The etcd container's resources.
   * @default - requests 100m CPU and 256Mi memory, memory limit 256Mi (the vitess-operator's)
   */
  readonly resources?: k8s.ResourceRequirements;
}

/**
 * The etcd cluster of one Vitess topology cell: a StatefulSet `etcd-<cell>` of three members that
 * bootstrap statically from their stable DNS names, a headless peer Service `etcd-<cell>`, a client
 * Service `etcd-<cell>-client` on port 2379, a data PVC per member (kept when the StatefulSet is
 * deleted or scaled down), a PodDisruptionBudget that keeps the quorum, members spread across nodes
 * and zones, and a NetworkPolicy that admits clients only from Vitess pods, peers only from the
 * cluster's own members, and metrics scrapers (port 2381) from anywhere.
 */
export class EtcdCell extends Construct implements ITopologyServer {
  /** The cell name (`global` or a cell). */
  public readonly cell: string;
  /** The StatefulSet name and the headless peer Service name, `etcd-<cell>`. */
  public readonly name: string;
  /** The client Service name, `etcd-<cell>-client`. */
  public readonly clientServiceName: string;
  /** The client address, `etcd-<cell>-client:2379`. */
  public readonly clientAddress: string;
  /** The number of members. */
  public readonly replicas: number;
  /** The StatefulSet. */
  public readonly statefulSet: k8s.KubeStatefulSet;

  public constructor(scope: Construct, id: string, props: EtcdCellProps) {
    super(scope, id);
    validateCellName('EtcdCell', 'cell', props.cell);
    validateClusterName('EtcdCell', 'clusterName', props.clusterName);
    validateResources('EtcdCell', 'resources', props.resources);
    if (props.storageSize !== undefined) {
      validateQuantity('EtcdCell', 'storageSize', props.storageSize);
    }
    const replicas = props.replicas ?? 3;
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 9 || replicas % 2 === 0) {
      throw new Error(`EtcdCell: 'replicas' must be an odd whole number from 1 to 9, got ${replicas}`);
    }
    this.cell = props.cell;
    this.name = inCluster(props.clusterName, `etcd-${props.cell}`);
    claimObjectName(this, 'EtcdCell', 'StatefulSet', this.name);
    this.clientServiceName = `${this.name}-client`;
    this.clientAddress = `${this.clientServiceName}:${ETCD_CLIENT_PORT}`;
    this.replicas = replicas;

    const selector = { app: 'vitess', component: 'etcd', cell: props.cell, ...clusterLabels(props.clusterName) };
    const labels = { ...APP_LABEL, ...selector };

    new k8s.KubeService(this, 'PeerService', {
      metadata: { name: this.name, labels },
      spec: {
        clusterIp: 'None',
        publishNotReadyAddresses: true,
        selector,
        ports: [
          { name: 'peer', port: ETCD_PEER_PORT, targetPort: k8s.IntOrString.fromNumber(ETCD_PEER_PORT) },
          { name: 'client', port: ETCD_CLIENT_PORT, targetPort: k8s.IntOrString.fromNumber(ETCD_CLIENT_PORT) },
        ],
      },
    });

    new k8s.KubeService(this, 'ClientService', {
      metadata: { name: this.clientServiceName, labels },
      spec: {
        type: 'ClusterIP',
        selector,
        ports: [{ name: 'client', port: ETCD_CLIENT_PORT, targetPort: k8s.IntOrString.fromNumber(ETCD_CLIENT_PORT) }],
      },
    });

    const members = Array.from({ length: replicas }, (_, i) => `${this.name}-${i}`);
    const initialCluster = members.map((m) => `${m}=http://${m}.${this.name}:${ETCD_PEER_PORT}`).join(',');

    this.statefulSet = new k8s.KubeStatefulSet(this, 'Resource', {
      metadata: { name: this.name, labels },
      spec: {
        serviceName: this.name,
        replicas,
        // All members must start together to form the first quorum.
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: selector },
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
        template: vitessPodTemplate('EtcdCell', props, {
          labels,
          metricsPort: ETCD_METRICS_PORT,
          spreadAcross: selector,
          containers: [
            {
              name: 'etcd',
              image: props.image ?? 'quay.io/coreos/etcd:v3.5.17',
              command: ['/usr/local/bin/etcd'],
              args: [
                '--name=$(POD_NAME)',
                '--data-dir=/var/lib/etcd/data',
                `--listen-peer-urls=http://$(POD_IP):${ETCD_PEER_PORT}`,
                `--listen-client-urls=http://$(POD_IP):${ETCD_CLIENT_PORT}`,
                `--listen-metrics-urls=http://$(POD_IP):${ETCD_METRICS_PORT}`,
                `--advertise-client-urls=http://$(POD_NAME).${this.name}:${ETCD_CLIENT_PORT}`,
                `--initial-advertise-peer-urls=http://$(POD_NAME).${this.name}:${ETCD_PEER_PORT}`,
                `--initial-cluster=${initialCluster}`,
                `--initial-cluster-token=${this.name}`,
                '--initial-cluster-state=new',
                '--auto-compaction-mode=revision',
                '--auto-compaction-retention=1000',
                '--quota-backend-bytes=8589934592',
                '--max-request-bytes=8388608',
              ],
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              ],
              ports: [
                { name: 'client', containerPort: ETCD_CLIENT_PORT },
                { name: 'peer', containerPort: ETCD_PEER_PORT },
                { name: 'metrics', containerPort: ETCD_METRICS_PORT },
              ],
              readinessProbe: httpProbe('/health', ETCD_CLIENT_PORT, {
                initialDelaySeconds: 1,
                periodSeconds: 5,
                timeoutSeconds: 5,
                failureThreshold: 3,
              }),
              // /health fails without a quorum; /version answers while the process serves, so a
              // lost quorum does not restart every member.
              livenessProbe: httpProbe('/version', ETCD_CLIENT_PORT, {
                initialDelaySeconds: 30,
                periodSeconds: 10,
                timeoutSeconds: 5,
                failureThreshold: 30,
              }),
              resources: props.resources ?? resources('100m', '256Mi', '256Mi'),
              volumeMounts: [{ name: 'data', mountPath: '/var/lib/etcd' }],
            },
          ],
        }),
        volumeClaimTemplates: [
          {
            metadata: { name: 'data', labels },
            spec: {
              accessModes: ['ReadWriteOnce'],
              storageClassName: props.storageClassName,
              resources: { requests: { storage: k8s.Quantity.fromString(props.storageSize ?? '1Gi') } },
            },
          },
        ],
      },
    });

    // Keep a quorum: at most (n-1)/2 members down, and never more than one at a time.
    createDisruptionBudget(this, this.name, labels, selector, Math.min(1, (replicas - 1) / 2));

    if (props.networkPolicy ?? true) {
      createNetworkPolicy(this, this.name, labels, selector, [
        ingressRule([ETCD_CLIENT_PORT], [{ podSelector: clusterPods(props.clusterName) }]),
        ingressRule([ETCD_PEER_PORT], [{ podSelector: { matchLabels: selector } }]),
        ingressRule([ETCD_METRICS_PORT]),
      ]);
    }
  }

  /**
   * A Job that registers this cell in the global topology with `AddCellInfo` (root and client
   * address as the release spells them) once vtctld answers, and does nothing when the cell is
   * already registered. Tablets of the cell cannot start until it has run. It is the
   * {@link AddCellInfoJob} of this cell; a cell whose etcd the library does not run is registered
   * with an AddCellInfoJob of {@link TopologyServer.fromAddress}.
   */
  public addCellInfoJob(scope: Construct, id: string, vtctld: IVtctld): VtctlJob {
    if (this.cell === 'global') {
      throw new Error("EtcdCell.addCellInfoJob: the 'global' topology is not a cell and is not registered");
    }
    return new AddCellInfoJob(scope, id, { vtctld, topology: this });
  }
}

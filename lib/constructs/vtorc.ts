import { Construct } from 'constructs';
import { k8s } from '../../imports/k8s';
import type { ITopologyServer } from '../interfaces';
import { claimObjectName, clusterLabels, inCluster, validateClusterName, validateKeyspaceName, validateObjectName } from '../internal/names';
import { APP_LABEL, TMP_MOUNT, TMP_VOLUME, daemonProbes, debugHealthStatusProbe, resources, validateResources } from '../internal/pod';
import { createDisruptionBudget, vitessPodTemplate } from '../internal/pod-skeleton';
import { topologyFlags } from '../internal/topology';
import type { VitessRelease } from '../release';
import type { WorkloadOptions } from '../workload-options';

/** VTOrc's HTTP port (its API, `/debug/health` and `/debug/vars`). */
export const VTORC_WEB_PORT = 15000;

/** The first release in which VTOrc is the only component that elects and repairs primaries. */
const FIRST_VTORC_RELEASE = 16;

/**
 * Props of {@link Vtorc}.
 */
export interface VtorcProps extends WorkloadOptions {
  /** The Vitess release (v16 or later: earlier releases elect primaries with vtctl commands). */
  readonly release: VitessRelease;
  /**
   * The global topology: its {@link EtcdCell}, or {@link TopologyServer.fromAddress} for an etcd
   * cluster that the library does not run.
   */
  readonly globalTopology: ITopologyServer;
  /**
   * The name of the Vitess cluster this belongs to: it prefixes the name of every object it creates
   * (`<clusterName>-vtorc` unless `name` is given) and labels its pods `app.kubernetes.io/instance: <clusterName>`, which its
   * selectors include, so that two clusters can share a namespace.
   * @default - no prefix and no instance label
   */
  readonly clusterName?: string;
  /**
   * The keyspaces VTOrc watches (`--clusters_to_watch`). VTOrc only manages keyspaces that have a
   * durability policy (`CreateKeyspace --durability-policy`).
   * @default - every keyspace
   */
  readonly keyspaces?: readonly string[];
  /**
   * The Deployment name.
   * @default - `vtorc`, prefixed with `clusterName` when given
   */
  readonly name?: string;
  /**
   * The container's resources.
   * @default - requests 100m CPU and 128Mi memory, memory limit 128Mi (the vitess-operator's)
   */
  readonly resources?: k8s.ResourceRequirements;
}

/**
 * VTOrc, which elects a primary for a new shard and repairs replication and failed primaries
 * (required from Vitess v16): a Deployment of one replica, as the vitess-operator runs it, and a
 * PodDisruptionBudget that lets a drain move it. It finds the tablets through the topology and
 * needs no Service; its web port serves only its API and metrics, so it has no NetworkPolicy.
 */
export class Vtorc extends Construct {
  /** The Deployment name. */
  public readonly name: string;
  /** The Deployment. */
  public readonly deployment: k8s.KubeDeployment;

  public constructor(scope: Construct, id: string, props: VtorcProps) {
    super(scope, id);
    const release = props.release;
    if (release.majorVersion < FIRST_VTORC_RELEASE) {
      throw new Error(
        `Vtorc: 'release' must be Vitess v${FIRST_VTORC_RELEASE} or later, got ${release.version}; ` +
          'earlier releases elect primaries with InitShardMaster (TabletShard.initPrimaryJob)',
      );
    }
    validateClusterName('Vtorc', 'clusterName', props.clusterName);
    this.name = props.name ?? inCluster(props.clusterName, 'vtorc');
    validateObjectName('Vtorc', 'name', this.name);
    validateResources('Vtorc', 'resources', props.resources);
    claimObjectName(this, 'Vtorc', 'Deployment', this.name);
    const keyspaces = props.keyspaces ?? [];
    for (const keyspace of keyspaces) {
      validateKeyspaceName('Vtorc', 'keyspaces', keyspace);
    }

    const selector = { app: 'vitess', component: 'vtorc', vtorc: this.name, ...clusterLabels(props.clusterName) };
    const labels = { ...APP_LABEL, ...selector };
    this.deployment = new k8s.KubeDeployment(this, 'Resource', {
      metadata: { name: this.name, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: selector },
        // One replica: no spread across nodes and zones.
        template: vitessPodTemplate('Vtorc', props, {
          labels,
          release,
          metricsPort: VTORC_WEB_PORT,
          containers: [
            {
              name: 'vtorc',
              image: release.image,
              command: ['/vt/bin/vtorc'],
              args: [
                ...topologyFlags(release, props.globalTopology),
                release.flag('port', VTORC_WEB_PORT),
                ...(keyspaces.length > 0 ? [release.flag('clusters_to_watch', keyspaces.join(','))] : []),
                ...release.logFlags(),
              ],
              ports: [{ name: 'web', containerPort: VTORC_WEB_PORT }],
              ...daemonProbes(VTORC_WEB_PORT, debugHealthStatusProbe(VTORC_WEB_PORT), '/debug/liveness'),
              resources: props.resources ?? resources('100m', '128Mi', '128Mi'),
              volumeMounts: [TMP_MOUNT],
            },
          ],
          volumes: [TMP_VOLUME],
        }),
      },
    });

    createDisruptionBudget(this, this.name, labels, selector);
  }
}

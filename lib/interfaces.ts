// How the constructs refer to one another: by what they need of each other, not by class, so that
// a component the library does not run (an external etcd, a vtctld elsewhere) can stand in.
import type { VitessRelease } from './release';
import type { WorkloadOptions } from './workload-options';

/**
 * What the other constructs need of a topology server: the etcd cluster of the global topology or
 * of a cell, and where its clients reach it. {@link EtcdCell} is one; {@link TopologyServer.fromAddress}
 * gives one for an etcd cluster that the library does not run.
 */
export interface ITopologyServer {
  /** The topology cell it serves: `global` for the global topology, or a cell name such as `test`. */
  readonly cell: string;
  /**
   * The client address: `host:port`, or a comma-separated list of them, without a scheme, e.g.
   * `etcd-global-client:2379`. It becomes the Vitess servers' `topo_global_server_address` and a
   * cell's `AddCellInfo` server address, as the release spells them
   * ({@link VitessRelease.topoServerAddress}).
   */
  readonly clientAddress: string;
}

/**
 * What command Jobs need to know about a vtctld: the release it runs and where its gRPC port is.
 */
export interface IVtctld {
  /** The Vitess release vtctld runs; command Jobs run the same image. */
  readonly release: VitessRelease;
  /** `host:port` of vtctld's gRPC service, e.g. `vtctld:15999`. */
  readonly grpcAddress: string;
  /**
   * The name of the cluster of this vtctld ({@link VtctldProps.clusterName}): every command Job
   * that talks to it takes it as the prefix of its name and its instance label.
   * @default - none
   */
  readonly clusterName?: string;
  /**
   * The pod options of the command Jobs that talk to this vtctld (node selector, tolerations,
   * priority class, image pull secrets, user IDs; not affinity).
   * @default - none: the defaults of {@link WorkloadOptions}
   */
  readonly jobOptions?: JobPodOptions;
}

/**
 * What {@link Vtadmin} needs to know about a vtgate: the release it runs, its cell and where its
 * gRPC port is. {@link Vtgate} is one.
 */
export interface IVtgate {
  /** The Vitess release vtgate runs. */
  readonly release: VitessRelease;
  /** The cell of the vtgate. */
  readonly cell: string;
  /** `host:port` of vtgate's gRPC service, e.g. `vtgate-test:15991`. */
  readonly grpcAddress: string;
}

/**
 * The pod options of command Jobs: {@link WorkloadOptions} without affinity, NetworkPolicy, daemon
 * flags, volumes and containers (a sidecar would keep a Job from completing).
 */
export type JobPodOptions = Omit<
  WorkloadOptions,
  'affinity' | 'networkPolicy' | 'extraFlags' | 'extraVolumes' | 'extraVolumeMounts' | 'sidecars' | 'initContainers'
>;

/**
 * One key of a Secret in the namespace the manifests are applied to.
 */
export interface SecretKeyRef {
  /** The name of the Secret (a DNS-1123 subdomain). */
  readonly secretName: string;
  /** The key in the Secret (letters, digits, '-', '_' and '.'). */
  readonly key: string;
}

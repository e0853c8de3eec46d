import { isIPv4, isIPv6 } from 'net';
import { Construct } from 'constructs';
import { k8s } from '../../imports/k8s';
import type { ITopologyServer, IVtgate } from '../interfaces';
import {
  claimObjectName,
  clusterLabels,
  inCluster,
  validateCellName,
  validateClusterName,
  validateDataKey,
  validateObjectName,
  validateSubdomainName,
} from '../internal/names';
import { daemonHasFlag } from '../internal/pod-extensions';
import {
  APP_LABEL,
  DAEMON_READINESS_TIMING,
  TMP_MOUNT,
  TMP_VOLUME,
  createNetworkPolicy,
  daemonProbes,
  httpBodyProbe,
  ingressRule,
  resources,
  validateResources,
} from '../internal/pod';
import { createDisruptionBudget, vitessPodTemplate } from '../internal/pod-skeleton';
import { topologyFlags } from '../internal/topology';
import { VitessRelease } from '../release';
import type { WorkloadOptions } from '../workload-options';

/** vtgate's HTTP port (the legacy Kubernetes example's). */
export const VTGATE_WEB_PORT = 15001;
/** vtgate's gRPC port (the legacy Kubernetes example's). */
export const VTGATE_GRPC_PORT = 15991;
/** vtgate's MySQL protocol port. */
export const VTGATE_MYSQL_PORT = 3306;

/** Where the MySQL users file is mounted in vtgate. */
const AUTH_MOUNT_PATH = '/vt/secrets/mysql-auth';
/** Where the TLS files of the MySQL port ({@link VtgateProps.tls}) are mounted in vtgate. */
const TLS_MOUNT_PATH = '/vt/secrets/mysql-tls';
/** The longest Service name: a DNS-1035 label. */
const SERVICE_NAME_MAX_LENGTH = 63;
/** The longest stabilization window of an HPA (Kubernetes' validation of `stabilizationWindowSeconds`). */
const MAX_STABILIZATION_SECONDS = 3600;

/**
 * The first release on which vtgate buffers primary traffic unless told otherwise. On Vitess v22
 * the buffer follows keyspace events, so it holds writes through a reparent and through a
 * resharding cutover and lets them go when the new primary serves; releases before it keep
 * Vitess's own default, off (see {@link VtgateProps.buffer}).
 */
const FIRST_DEFAULT_BUFFER_RELEASE = 22;

/** The buffer settings when {@link VtgateProps.buffer} leaves them out: Vitess v22's defaults. */
const BUFFER_DEFAULTS: Required<VtgateBufferOptions> = {
  windowSeconds: 10,
  maxFailoverDurationSeconds: 20,
  size: 1000,
  minTimeBetweenFailoversSeconds: 60,
};

/**
 * The line of vtgate's `/debug/vars` that counts its serving tablets, when it counts at least one:
 * `"HealthcheckConnections": {"<keyspace>.<shard>.<type>": <n>, ...}`, one line of the expvar
 * output, with only keys of at least one serving tablet.
 */
const SERVING_TABLETS_PATTERN = '^"HealthcheckConnections": *\\{.*": *[1-9]';

/**
 * The kind of the vtgate Service.
 */
export enum VtgateServiceType {
  /** Reachable inside the cluster only. */
  CLUSTER_IP = 'ClusterIP',
  /** Reachable on every node's port. */
  NODE_PORT = 'NodePort',
  /** Reachable through a cloud load balancer. */
  LOAD_BALANCER = 'LoadBalancer',
}

/**
 * How a vtgate MySQL Service is exposed: the per-cell `vtgate-<cell>-mysql` of a {@link Vtgate}
 * and the cluster-wide {@link VtgateMysqlService}. They carry the MySQL port alone, so that a
 * NodePort or LoadBalancer exposes neither vtgate's web port (`/debug`, which shows queries and
 * flags) nor its gRPC port.
 *
 * These options once applied to the Service `vtgate-<cell>` itself, which is now always
 * ClusterIP: `kubectl apply` (client-side or server-side) turns such a Service into ClusterIP
 * (Kubernetes drops its node ports), and the load balancer is made anew for
 * `vtgate-<cell>-mysql`, with a new address for the clients.
 */
export interface VtgateServiceOptions {
  /**
   * The kind of the MySQL Service.
   * @default VtgateServiceType.CLUSTER_IP
   */
  readonly serviceType?: VtgateServiceType;
  /**
   * Annotations of the MySQL Service, e.g. for a cloud load balancer (internal, static IP).
   * @default - none
   */
  readonly serviceAnnotations?: { readonly [key: string]: string };
  /**
   * The client CIDRs a LoadBalancer Service admits (`loadBalancerSourceRanges`). Only with
   * `serviceType` LOAD_BALANCER.
   * @default - every source the load balancer admits
   */
  readonly loadBalancerSourceRanges?: readonly string[];
  /**
   * `externalTrafficPolicy` of a NodePort or LoadBalancer Service: `Local` keeps the client's IP
   * and avoids a second hop.
   * @default - Kubernetes' default (`Cluster`)
   */
  readonly externalTrafficPolicy?: 'Cluster' | 'Local';
}

/**
 * The lowest TLS version vtgate's MySQL port negotiates (`--mysql_server_tls_min_version`), in the
 * spelling vtgate takes (go/vt/vttls/vttls.go:85-100 at v0.22.4, :86-101 at v0.24.4).
 */
export enum VtgateTlsVersion {
  /** TLS 1.0. */
  TLS_1_0 = 'TLSv1.0',
  /** TLS 1.1. */
  TLS_1_1 = 'TLSv1.1',
  /** TLS 1.2, vtgate's default from v22. */
  TLS_1_2 = 'TLSv1.2',
  /** TLS 1.3. */
  TLS_1_3 = 'TLSv1.3',
}

/**
 * TLS on vtgate's MySQL port, from a Secret (e.g. a cert-manager Certificate's, or a
 * `kubernetes.io/tls` Secret) that is mounted read-only into the vtgate container. The Secret is
 * not generated: create it before vtgate starts.
 *
 * vtgate serves TLS when it has both a certificate and a key
 * (go/vt/vtgate/plugin_mysql_server.go:430-432 at v0.9.0, :630-637 at v0.22.4, :897-901 and
 * 928-936 at v0.24.4), reads the files once at start and exits when it cannot load them (:363-367
 * at v0.9.0, :548-552 at v0.22.4, :831-836 at v0.24.4), and reads them again only on SIGHUP (:371-383
 * at v0.9.0, :556-573 at v0.22.4, :840-857 at v0.24.4). Kubernetes updates the mounted files when
 * the Secret changes, but vtgate keeps serving the old certificate until it gets SIGHUP or
 * restarts: roll the Deployment (`kubectl rollout restart`) after a renewal.
 */
export interface VtgateTlsOptions {
  /** The Secret that holds the certificate and key (and the client CA, with `caKey`). */
  readonly secretName: string;
  /**
   * The key of the Secret that holds the server certificate (PEM; with the intermediate
   * certificates after it, if any) (`--mysql_server_ssl_cert`).
   * @default 'tls.crt' (as in a `kubernetes.io/tls` Secret)
   */
  readonly certKey?: string;
  /**
   * The key of the Secret that holds the server's private key (PEM) (`--mysql_server_ssl_key`).
   * @default 'tls.key' (as in a `kubernetes.io/tls` Secret)
   */
  readonly keyKey?: string;
  /**
   * The key of the Secret that holds the CA certificates (PEM) that client certificates must be
   * signed by (`--mysql_server_ssl_ca`). With it, vtgate **requires** every TLS client to present a
   * certificate signed by them (`ClientAuth = RequireAndVerifyClientCert`:
   * go/vt/vttls/vttls.go:110-119 at v0.9.0, :204-213 at v0.22.4, :264-272 at v0.24.4); clients
   * without one fail the TLS handshake. It is not the CA clients use to verify vtgate.
   * @default - no client certificates asked for
   */
  readonly caKey?: string;
  /**
   * Whether vtgate refuses MySQL connections that do not start TLS
   * (`--mysql_server_require_secure_transport`): such a client gets the error `ERROR 1105 (HY000):
   * unknown error: Code: UNAVAILABLE server does not allow insecure connections, client must use
   * SSL/TLS` (with a line break after the code) after its handshake and the connection is closed
   * (go/mysql/server.go:455-458 at v0.22.4, :458-461 and go/mysql/conn.go:1034-1040 at v0.24.4).
   *
   * On Vitess v9 vtgate sends that error but does not close the connection: it goes on with the
   * authentication (go/mysql/server.go:349-352 at v0.9.0; fixed later by vitessio/vitess#8504).
   * Ordinary clients stop at the error, but a client that ignores it can still log in without
   * TLS and run queries (test/vtgate-tls.real.test.ts shows it with the real vtgate v9.0.0), so on
   * v9 this is no protection against a hostile client.
   * @default false
   */
  readonly requireSecureTransport?: boolean;
  /**
   * The lowest TLS version vtgate negotiates (`--mysql_server_tls_min_version`, from Vitess v22;
   * vtgate v9 has no such flag, and leaves the minimum to Go: go/vt/vttls/vttls.go:33-37 at
   * v0.9.0).
   * @default - vtgate's default: TLS 1.2 from v22 (go/vt/vttls/vttls.go:91-92 at v0.22.4, :92-93 at v0.24.4)
   */
  readonly minVersion?: VtgateTlsVersion;
}

/** How the HorizontalPodAutoscaler of {@link VtgateAutoscalingOptions} scales down. */
export interface VtgateAutoscalingBehavior {
  /**
   * How long, in seconds, the HPA looks back before it scales down: it takes the highest
   * recommendation of that window, so that a short dip in load does not remove vtgates that the
   * next peak needs (`behavior.scaleDown.stabilizationWindowSeconds`); 0 to 3600.
   * @default - Kubernetes' default (300)
   */
  readonly scaleDownStabilizationSeconds?: number;
}

/**
 * A HorizontalPodAutoscaler (autoscaling/v2) of vtgate's Deployment, on the average CPU and/or
 * memory utilization of the pods, which the HPA measures against the pods' resource requests.
 */
export interface VtgateAutoscalingOptions {
  /** The fewest replicas, at least 1. */
  readonly minReplicas: number;
  /** The most replicas, at least `minReplicas`. */
  readonly maxReplicas: number;
  /**
   * The average CPU use the HPA aims for, in percent of the pods' CPU requests.
   * @default 80 (Kubernetes' default metric) unless `targetMemoryUtilizationPercent` is given,
   * else none
   */
  readonly targetCpuUtilizationPercent?: number;
  /**
   * The average memory use the HPA aims for, in percent of the pods' memory requests.
   * @default - no memory target
   */
  readonly targetMemoryUtilizationPercent?: number;
  /**
   * How it scales down.
   * @default - Kubernetes' defaults
   */
  readonly behavior?: VtgateAutoscalingBehavior;
}

/**
 * How vtgate holds primary traffic while a shard has no serving primary for a moment: during a
 * PlannedReparentShard and during SwitchTraffic for the primary, vtgate buffers the requests
 * (`--enable_buffer`) instead of failing them, and sends them on once the new primary serves.
 *
 * The limits are vtgate's `--buffer_*` flags (go/vt/vtgate/buffer/flags.go:45-56 at v0.22.4 and
 * v0.22.1, go/vt/vtgate/buffer/flags.go:29-41 at v0.9.0) and are checked as vtgate checks them at
 * start (flags.go:63-100 at v0.22.4 and v0.22.1, :54-91 at v0.9.0), so that a bad value fails here
 * rather than in a crash-looping pod.
 */
export interface VtgateBufferOptions {
  /**
   * How long one request is held at most, in whole seconds (`--buffer_window`); at least 1 and at
   * most `maxFailoverDurationSeconds`. A request held that long is sent on, and fails if its shard
   * still has no serving primary (go/vt/vtgate/buffer/shard_buffer.go:424-444 at v0.22.4).
   * @default 10 (Vitess's default)
   */
  readonly windowSeconds?: number;
  /**
   * How long vtgate buffers one failover at most, in whole seconds
   * (`--buffer_max_failover_duration`); it then sends on every held request.
   * @default 20 (Vitess's default)
   */
  readonly maxFailoverDurationSeconds?: number;
  /**
   * How many requests are held at most, across all shards (`--buffer_size`); at least 1. When the
   * buffer is full, the oldest request held for the same shard fails to make room, or the new one
   * fails when that shard holds none (go/vt/vtgate/buffer/shard_buffer.go:317-340 at v0.22.4).
   * @default 1000 (Vitess v22's default)
   */
  readonly size?: number;
  /**
   * The shortest time, in whole seconds, between the end of one buffered failover of a shard and
   * the start of the next (`--buffer_min_time_between_failovers`); a failover that comes sooner is
   * not buffered. At least 1; before Vitess v22 at least twice `maxFailoverDurationSeconds`, which
   * vtgate v9 requires (go/vt/vtgate/buffer/flags.go:64-66 at v0.9.0; v22 asks only for 1 s,
   * flags.go:73-75 at v0.22.4 and v0.22.1).
   * @default 60 (Vitess's default)
   */
  readonly minTimeBetweenFailoversSeconds?: number;
}

/**
 * Props of {@link Vtgate}.
 */
export interface VtgateProps extends WorkloadOptions, VtgateServiceOptions {
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
  /** The cell vtgate serves (its `-cell` flag). */
  readonly cell: string;
  /**
   * The name of the Vitess cluster this belongs to: it prefixes the name of every object it creates
   * (`<clusterName>-vtgate-<cell>`) and labels its pods `app.kubernetes.io/instance: <clusterName>`, which its
   * selectors include, so that two clusters can share a namespace.
   * @default - no prefix and no instance label
   */
  readonly clusterName?: string;

  /**
   * The cells whose tablets vtgate routes to; must include `cell`.
   * @default - only `cell`
   */
  readonly cellsToWatch?: readonly string[];
  /**
   * The number of vtgate replicas; not with `autoscaling`.
   * @default 3 (without `autoscaling`)
   */
  readonly replicas?: number;
  /**
   * A HorizontalPodAutoscaler that sets the number of replicas (see
   * {@link VtgateAutoscalingOptions}); not with `replicas`. The Deployment then has no `replicas`
   * field, so that `kubectl apply` leaves the HPA's count alone. When an existing vtgate without
   * autoscaling gets it, the apply that drops the field sets the Deployment to 1 replica until the
   * HPA scales it up again (with client-side `kubectl apply`, and with `--server-side` unless
   * another manager, such as `kubectl scale`, changed the count since the last apply: checked with
   * kube-apiserver v1.34.4). With client-side apply, first remove `replicas` from the Deployment's
   * last applied configuration (`kubectl apply edit-last-applied deployment/<name>`): the count
   * then stays.
   *
   * The CPU and memory targets are percentages of the pods' requests: the vtgate container (and
   * every sidecar) needs a request of each resource that a target names (`resources` has both by
   * default).
   * @default - a fixed number of replicas (`replicas`)
   */
  readonly autoscaling?: VtgateAutoscalingOptions;
  /**
   * The Secret that holds vtgate's MySQL users, in vtgate's static auth file format
   * (`{"<user>": [{"UserData": "<user>", "Password": "<password>"}]}`), under the key `users.json`.
   * The Secret is not generated: create it before vtgate starts, so that no password is in the
   * manifests or on a command line.
   * @default vtgate-<cell>-mysql-auth, prefixed with `clusterName` when given
   */
  readonly mysqlAuthSecretName?: string;
  /**
   * Who may reach vtgate's MySQL and gRPC ports when `networkPolicy` is on, as NetworkPolicy peers
   * (pods, namespaces or IP blocks). The web port (`/debug`, `/metrics`) is open to all.
   * @default - every source
   */
  readonly mysqlClients?: readonly k8s.NetworkPolicyPeer[];
  /**
   * The vtgate container's resources.
   * @default - requests 500m CPU and 512Mi memory, memory limit 512Mi (the guide's limit)
   */
  readonly resources?: k8s.ResourceRequirements;
  /**
   * TLS on the MySQL port, from a Secret (see {@link VtgateTlsOptions}).
   * @default - no TLS: the MySQL port is plaintext
   */
  readonly tls?: VtgateTlsOptions;
  /**
   * Buffering of primary traffic during a reparent or a traffic switch (see
   * {@link VtgateBufferOptions}), or `false` for none: requests that reach a shard while it has no
   * serving primary then fail at once.
   *
   * On by default from Vitess v22. Its vtgate (tabletgateway) buffers a primary request that
   * failed with a cluster event, or that finds its shard being resharded or without a serving
   * primary, and ends the buffering on the keyspace event that shows the new primary serving or
   * the resharding done (go/vt/vtgate/tabletgateway.go:140-167 and 305-346,
   * go/vt/vtgate/buffer/buffer.go:69-135 and 210-218, go/vt/vtgate/buffer/shard_buffer.go:487-518
   * at v0.22.4); after a resharding the held requests are planned again against the new shards
   * (go/vt/vtgate/executorcontext/vcursor_impl.go:692-704 at v0.22.4). The same code is in v0.22.1,
   * so in v22.0.3 between them. PlannedReparentShard and SwitchTraffic for the primary then hold
   * writes for a few seconds instead of failing them.
   *
   * Off by default before v22, as in Vitess. vtgate v9 with `-gateway_implementation
   * discoverygateway`, as this library runs it, does buffer (go/vt/vtgate/discoverygateway.go:106-114,
   * 187-195 and 260-286 at v0.9.0), but it ends the buffering of a shard only when a new master of
   * that same shard reports a later reparent timestamp (go/vt/vtgate/buffer/shard_buffer.go:471-500
   * at v0.9.0), or when the window or the failover duration runs out. That covers
   * PlannedReparentShard and EmergencyReparentShard, which the library's v9 flow does not run
   * under traffic (it elects masters with InitShardMaster before any traffic), but not
   * MigrateServedTypes for the master: the source shard gets no new master, so the writes that the
   * cutover turns away (`operation not allowed in state NOT_SERVING`,
   * go/vt/vttablet/tabletserver/state_manager.go:349-352 and go/vt/vtgate/buffer/buffer.go:260-289
   * at v0.9.0) would be held for the whole window and then retried against the same shard. Give
   * options to buffer on v9 all the same, e.g. for reparents run by hand.
   * @default - on with the {@link VtgateBufferOptions} defaults from Vitess v22; off before
   */
  readonly buffer?: VtgateBufferOptions | false;
}

/**
 * vtgate, the query router of one cell: a Deployment; a ClusterIP Service `vtgate-<cell>` with the
 * web port 15001, the gRPC port 15991 and the MySQL port 3306, for use inside the Kubernetes
 * cluster; a Service `vtgate-<cell>-mysql` of `serviceType` with the MySQL port alone (a
 * {@link VtgateMysqlService}), the one to expose outside the cluster; replicas spread across nodes
 * and zones, fixed or set by a HorizontalPodAutoscaler (`autoscaling`); a PodDisruptionBudget of
 * one pod at a time; and a NetworkPolicy that admits `mysqlClients` to the MySQL and gRPC ports.
 *
 * A vtgate pod is ready while vtgate has at least one serving tablet, so that the Service sends
 * clients only to a vtgate that can answer queries. vtgate's `/debug/health` tells nothing: it
 * answers `ok` whenever the web port is up (`IsHealthy` returns nil: go/vt/vtgate/vtgate.go:228-247
 * at v0.9.0, :518-543 at v0.22.4 and v0.22.1). What does tell is the `HealthcheckConnections`
 * gauge of `/debug/vars`, the number of tablets per keyspace, shard and type that vtgate's health
 * check sees serving without error (go/vt/discovery/healthcheck.go:947-970 and 995-1008, registered
 * by go/vt/vtgate/tabletgateway.go:192-194 and go/vt/vtgate/vtgate.go:323 at v0.22.4 and v0.22.1;
 * go/vt/discovery/legacy_healthcheck.go:402-414 and 431-444, registered for discoverygateway by
 * go/cmd/vtgate/vtgate.go:76-81 at v0.9.0). The readiness probe is a bash script that reads it and
 * succeeds when it counts a serving tablet of any keyspace, shard and type.
 *
 * The MySQL port needs no check of its own: vtgate opens it in a start hook that runs before the
 * web port listens, and exits when it cannot (go/vt/vtgate/vtgate.go:406-419,
 * go/vt/vtgate/plugin_mysql_server.go:614-633 and go/vt/servenv/run.go:40-56 at v0.22.4, the
 * listener at plugin_mysql_server.go:612-630 at v0.22.1; plugin_mysql_server.go:423-425 and 544
 * and go/vt/servenv/run.go:36-47 at v0.9.0).
 *
 * The trade-off: before the first tablet serves (a new cluster, whose vtgate starts before the
 * tablets) and during an outage of every tablet, no vtgate pod is ready and the Service has no
 * endpoint, so clients get refused connections instead of vtgate's errors, a rolling update of
 * vtgate waits for tablets, and the PodDisruptionBudget counts the pods as disrupted. A vtgate
 * that loses its tablets while the others keep theirs (topology or network trouble of its own) is
 * taken out of the Service, which is what the probe is for. One shard without a serving tablet
 * does not make vtgate unready: it still serves the other shards.
 *
 * The PodDisruptionBudget is `maxUnavailable: 1` whatever the number of replicas, fixed or
 * autoscaled: an eviction (a node drain) never takes more than one vtgate of the cell at a time,
 * and never blocks for good, not even with a single replica, which a `minAvailable` budget would
 * (with 1 replica, that vtgate then goes while its replacement starts: run 2 or more, or
 * `autoscaling.minReplicas` 2 or more, for a cell that must not lose its vtgate in a drain).
 */
export class Vtgate extends Construct implements IVtgate {
  /** The Deployment's name and that of the ClusterIP Service with every port, `vtgate-<cell>`. */
  public readonly name: string;
  /** `host:port` of the MySQL protocol inside the cluster, e.g. `vtgate-test:3306`. */
  public readonly mysqlAddress: string;
  /** `host:port` of the gRPC service, e.g. `vtgate-test:15991`. */
  public readonly grpcAddress: string;
  /** The Vitess release. */
  public readonly release: VitessRelease;
  /** The cell. */
  public readonly cell: string;
  /** The Deployment. */
  public readonly deployment: k8s.KubeDeployment;
  /** The cell's MySQL Service, `vtgate-<cell>-mysql`, of `serviceType`. */
  public readonly mysqlService: VtgateMysqlService;
  /** The HorizontalPodAutoscaler, with `autoscaling`. */
  public readonly autoscaler: k8s.KubeHorizontalPodAutoscalerV2 | undefined;

  public constructor(scope: Construct, id: string, props: VtgateProps) {
    super(scope, id);
    const release = props.release ?? VitessRelease.V9_0;
    validateCellName('Vtgate', 'cell', props.cell);
    validateResources('Vtgate', 'resources', props.resources);
    const cellsToWatch = props.cellsToWatch ?? [props.cell];
    cellsToWatch.forEach((cell) => validateCellName('Vtgate', 'cellsToWatch', cell));
    if (!cellsToWatch.includes(props.cell)) {
      throw new Error(
        `Vtgate: 'cellsToWatch' must include the vtgate's own cell '${props.cell}', got [${cellsToWatch.join(', ')}]`,
      );
    }
    if (props.replicas !== undefined && props.autoscaling !== undefined) {
      throw new Error(
        `Vtgate: 'replicas' (${props.replicas}) and 'autoscaling' exclude each other: with 'autoscaling' the HorizontalPodAutoscaler sets the replicas; give one of them`,
      );
    }
    const replicas = props.autoscaling === undefined ? props.replicas ?? 3 : undefined;
    if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 1)) {
      throw new Error(`Vtgate: 'replicas' must be a whole number of at least 1, got ${replicas}`);
    }
    const containerResources = props.resources ?? resources('500m', '512Mi', '512Mi');
    const metrics = props.autoscaling !== undefined ? autoscalingMetrics(props.autoscaling, containerResources, props.sidecars ?? []) : undefined;
    validateServiceOptions('Vtgate', props);
    if (props.mysqlClients !== undefined && props.networkPolicy === false) {
      throw new Error("Vtgate: 'mysqlClients' takes effect only through the NetworkPolicy, but 'networkPolicy' is false");
    }
    if (props.mysqlClients !== undefined && props.mysqlClients.length === 0) {
      throw new Error("Vtgate: 'mysqlClients' must name at least one peer, got none (leave it out to admit every source)");
    }
    const bufferArgs = bufferFlags(release, props.buffer);
    const tls = props.tls !== undefined ? tlsSetup(release, props.tls) : undefined;
    validateClusterName('Vtgate', 'clusterName', props.clusterName);
    this.name = inCluster(props.clusterName, `vtgate-${props.cell}`);
    validateServiceName('Vtgate', this.name);
    validateServiceName('Vtgate', `${this.name}-mysql`);
    const secretName = props.mysqlAuthSecretName ?? `${this.name}-mysql-auth`;
    validateObjectName('Vtgate', 'mysqlAuthSecretName', secretName);
    claimObjectName(this, 'Vtgate', 'Deployment', this.name);
    claimObjectName(this, 'Vtgate', 'Service', this.name);
    this.mysqlAddress = `${this.name}:${VTGATE_MYSQL_PORT}`;
    this.grpcAddress = `${this.name}:${VTGATE_GRPC_PORT}`;
    this.release = release;
    this.cell = props.cell;

    const selector = { app: 'vitess', component: 'vtgate', cell: props.cell, ...clusterLabels(props.clusterName) };
    const labels = { ...APP_LABEL, ...selector };
    const primary = release.primaryTypeName.toUpperCase();

    // Inside the cluster only: the web and gRPC ports are not for clients outside it.
    new k8s.KubeService(this, 'Service', {
      metadata: { name: this.name, labels },
      spec: {
        type: VtgateServiceType.CLUSTER_IP,
        selector,
        ports: [
          { name: 'web', port: VTGATE_WEB_PORT, targetPort: k8s.IntOrString.fromNumber(VTGATE_WEB_PORT) },
          { name: 'grpc', port: VTGATE_GRPC_PORT, targetPort: k8s.IntOrString.fromNumber(VTGATE_GRPC_PORT) },
          { name: 'mysql', port: VTGATE_MYSQL_PORT, targetPort: k8s.IntOrString.fromNumber(VTGATE_MYSQL_PORT) },
        ],
      },
    });
    this.mysqlService = new VtgateMysqlService(this, 'MysqlService', {
      clusterName: props.clusterName,
      cell: props.cell,
      serviceType: props.serviceType,
      serviceAnnotations: props.serviceAnnotations,
      loadBalancerSourceRanges: props.loadBalancerSourceRanges,
      externalTrafficPolicy: props.externalTrafficPolicy,
    });

    this.deployment = new k8s.KubeDeployment(this, 'Resource', {
      metadata: { name: this.name, labels },
      spec: {
        replicas,
        selector: { matchLabels: selector },
        template: vitessPodTemplate('Vtgate', props, {
          labels,
          release,
          metricsPort: VTGATE_WEB_PORT,
          spreadAcross: selector,
          containers: [
            {
              name: 'vtgate',
              image: release.image,
              command: ['/vt/bin/vtgate'],
              args: [
                ...topologyFlags(release, props.globalTopology),
                release.flag('cell', props.cell),
                release.flag('cells_to_watch', cellsToWatch.join(',')),
                release.flag('tablet_types_to_wait', `${primary},REPLICA`),
                ...(release.vtgateGatewayFlag ? [release.flag('gateway_implementation', 'discoverygateway')] : []),
                ...bufferArgs,
                release.flag('port', VTGATE_WEB_PORT),
                release.flag('grpc_port', VTGATE_GRPC_PORT),
                release.flag('mysql_server_port', VTGATE_MYSQL_PORT),
                ...(tls?.args ?? []),
                release.flag('service_map', 'grpc-vtgateservice'),
                release.flag('mysql_auth_server_impl', 'static'),
                release.flag('mysql_auth_server_static_file', `${AUTH_MOUNT_PATH}/users.json`),
                ...release.logFlags(),
              ],
              ports: [
                { name: 'web', containerPort: VTGATE_WEB_PORT },
                { name: 'grpc', containerPort: VTGATE_GRPC_PORT },
                { name: 'mysql', containerPort: VTGATE_MYSQL_PORT },
              ],
              ...daemonProbes(
                VTGATE_WEB_PORT,
                httpBodyProbe(VTGATE_WEB_PORT, '/debug/vars', SERVING_TABLETS_PATTERN, DAEMON_READINESS_TIMING),
              ),
              resources: containerResources,
              volumeMounts: [
                TMP_MOUNT,
                { name: 'mysql-auth', mountPath: AUTH_MOUNT_PATH, readOnly: true },
                ...(tls !== undefined ? [tls.mount] : []),
              ],
            },
          ],
          volumes: [
            TMP_VOLUME,
            { name: 'mysql-auth', secret: { secretName, items: [{ key: 'users.json', path: 'users.json' }] } },
            ...(tls !== undefined ? [tls.volume] : []),
          ],
        }),
      },
    });

    if (props.autoscaling !== undefined) {
      const behavior = props.autoscaling.behavior;
      this.autoscaler = new k8s.KubeHorizontalPodAutoscalerV2(this, 'Autoscaler', {
        metadata: { name: this.name, labels },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.name },
          minReplicas: props.autoscaling.minReplicas,
          maxReplicas: props.autoscaling.maxReplicas,
          metrics,
          behavior:
            behavior?.scaleDownStabilizationSeconds !== undefined
              ? { scaleDown: { stabilizationWindowSeconds: behavior.scaleDownStabilizationSeconds } }
              : undefined,
        },
      });
    }

    createDisruptionBudget(this, this.name, labels, selector);

    if (props.networkPolicy ?? true) {
      // The rules admit to the pods' ports, whichever Service (or none) a client comes through.
      createNetworkPolicy(this, this.name, labels, selector, [
        ingressRule([VTGATE_MYSQL_PORT, VTGATE_GRPC_PORT], props.mysqlClients),
        ingressRule([VTGATE_WEB_PORT]),
      ]);
    }
  }
}

/**
 * Props of {@link VtgateMysqlService}.
 */
export interface VtgateMysqlServiceProps extends VtgateServiceOptions {
  /**
   * The name of the Vitess cluster whose vtgates the Service selects (see
   * {@link VtgateProps.clusterName}): it prefixes the Service's name, and the selector includes
   * the pods' `app.kubernetes.io/instance` label.
   * @default - no prefix and no instance label: every vtgate pod of the namespace that has none
   */
  readonly clusterName?: string;
  /**
   * The cell whose vtgates the Service selects.
   * @default - every cell's: the Service `vtgate-mysql` spreads clients over all of them
   */
  readonly cell?: string;
}

/**
 * A Service with vtgate's MySQL port 3306 alone, of a `serviceType` (ClusterIP, NodePort or
 * LoadBalancer): `vtgate-<cell>-mysql` for one cell's vtgates (every {@link Vtgate} has one), or
 * `vtgate-mysql` for those of every cell of the cluster (what {@link VitessCluster} creates), each
 * prefixed with `clusterName` when given. Exposing it does not expose vtgate's web and gRPC ports.
 */
export class VtgateMysqlService extends Construct {
  /** The Service name, e.g. `vtgate-test-mysql` or `vtgate-mysql`. */
  public readonly name: string;
  /** `host:port` of the MySQL protocol, e.g. `vtgate-mysql:3306`. */
  public readonly mysqlAddress: string;
  /** The Service. */
  public readonly service: k8s.KubeService;

  public constructor(scope: Construct, id: string, props: VtgateMysqlServiceProps = {}) {
    super(scope, id);
    validateClusterName('VtgateMysqlService', 'clusterName', props.clusterName);
    if (props.cell !== undefined) {
      validateCellName('VtgateMysqlService', 'cell', props.cell);
    }
    validateServiceOptions('VtgateMysqlService', props);
    this.name = inCluster(props.clusterName, props.cell === undefined ? 'vtgate-mysql' : `vtgate-${props.cell}-mysql`);
    validateServiceName('VtgateMysqlService', this.name);
    claimObjectName(this, 'VtgateMysqlService', 'Service', this.name);
    this.mysqlAddress = `${this.name}:${VTGATE_MYSQL_PORT}`;
    const selector = {
      app: 'vitess',
      component: 'vtgate',
      ...(props.cell !== undefined ? { cell: props.cell } : {}),
      ...clusterLabels(props.clusterName),
    };
    this.service = new k8s.KubeService(this, 'Resource', {
      metadata: {
        name: this.name,
        labels: { ...APP_LABEL, ...selector },
        annotations: props.serviceAnnotations ? { ...props.serviceAnnotations } : undefined,
      },
      spec: {
        type: props.serviceType ?? VtgateServiceType.CLUSTER_IP,
        loadBalancerSourceRanges: props.loadBalancerSourceRanges ? [...props.loadBalancerSourceRanges] : undefined,
        externalTrafficPolicy: props.externalTrafficPolicy,
        selector,
        ports: [{ name: 'mysql', port: VTGATE_MYSQL_PORT, targetPort: k8s.IntOrString.fromNumber(VTGATE_MYSQL_PORT) }],
      },
    });
  }
}

/** Throws, under `context`, unless the Service options go together and are well formed. */
function validateServiceOptions(context: string, options: VtgateServiceOptions): void {
  const serviceType = options.serviceType ?? VtgateServiceType.CLUSTER_IP;
  if (!Object.values(VtgateServiceType).includes(serviceType)) {
    throw new Error(`${context}: 'serviceType' must be one of ${Object.values(VtgateServiceType).join(', ')}, got '${serviceType}'`);
  }
  if (options.loadBalancerSourceRanges !== undefined) {
    if (serviceType !== VtgateServiceType.LOAD_BALANCER) {
      throw new Error(`${context}: 'loadBalancerSourceRanges' needs 'serviceType' LOAD_BALANCER, got '${serviceType}'`);
    }
    for (const cidr of options.loadBalancerSourceRanges) {
      if (!isCidr(cidr)) {
        throw new Error(`${context}: 'loadBalancerSourceRanges' must hold CIDRs such as '10.0.0.0/8', got '${cidr}'`);
      }
    }
  }
  if (options.externalTrafficPolicy !== undefined) {
    if (serviceType === VtgateServiceType.CLUSTER_IP) {
      throw new Error(`${context}: 'externalTrafficPolicy' needs 'serviceType' NODE_PORT or LOAD_BALANCER, got '${serviceType}'`);
    }
    if (!['Cluster', 'Local'].includes(options.externalTrafficPolicy)) {
      throw new Error(`${context}: 'externalTrafficPolicy' must be 'Cluster' or 'Local', got '${options.externalTrafficPolicy}'`);
    }
  }
}

/**
 * Throws unless `name` can name a Service: a DNS-1035 label (vtgate's Service names start with a
 * letter, `vtgate` or the cluster's name) of at most 63 characters.
 */
function validateServiceName(context: string, name: string): void {
  if (name.length > SERVICE_NAME_MAX_LENGTH) {
    throw new Error(
      `${context}: the Service name '${name}' is ${name.length} characters long, more than the ${SERVICE_NAME_MAX_LENGTH} ` +
        "Kubernetes allows; give a shorter 'cell' or 'clusterName'",
    );
  }
}

/** What {@link VtgateProps.tls} adds to the vtgate pod. */
interface TlsSetup {
  readonly args: string[];
  readonly volume: k8s.Volume;
  readonly mount: k8s.VolumeMount;
}

/**
 * The vtgate flags, the Secret volume and its mount for `tls`: the Secret's keys as the files
 * `tls.crt`, `tls.key` and `ca.crt` of {@link TLS_MOUNT_PATH}. Throws for bad input, and for a
 * flag that the release's vtgate lacks.
 */
function tlsSetup(release: VitessRelease, tls: VtgateTlsOptions): TlsSetup {
  if (typeof tls !== 'object' || tls === null || Array.isArray(tls)) {
    throw new Error(`Vtgate: 'tls' must be VtgateTlsOptions, got ${JSON.stringify(tls)}`);
  }
  validateSubdomainName('Vtgate', 'tls.secretName', tls.secretName);
  const certKey = tls.certKey ?? 'tls.crt';
  const keyKey = tls.keyKey ?? 'tls.key';
  validateDataKey('Vtgate', 'tls.certKey', certKey, 'Secret');
  validateDataKey('Vtgate', 'tls.keyKey', keyKey, 'Secret');
  if (tls.caKey !== undefined) {
    validateDataKey('Vtgate', 'tls.caKey', tls.caKey, 'Secret');
  }
  if (tls.requireSecureTransport !== undefined && typeof tls.requireSecureTransport !== 'boolean') {
    throw new Error(`Vtgate: 'tls.requireSecureTransport' must be true or false, got ${JSON.stringify(tls.requireSecureTransport)}`);
  }
  if (tls.minVersion !== undefined && !Object.values(VtgateTlsVersion).includes(tls.minVersion)) {
    throw new Error(`Vtgate: 'tls.minVersion' must be one of ${Object.values(VtgateTlsVersion).join(', ')}, got '${tls.minVersion}'`);
  }
  const items: k8s.KeyToPath[] = [
    { key: certKey, path: 'tls.crt' },
    { key: keyKey, path: 'tls.key' },
  ];
  // Each prop with the flag it sets and its value, in the order of the args.
  const flags: Array<{ prop: string; given: string; flag: string; value: string | true }> = [
    { prop: 'tls.certKey', given: certKey, flag: 'mysql_server_ssl_cert', value: `${TLS_MOUNT_PATH}/tls.crt` },
    { prop: 'tls.keyKey', given: keyKey, flag: 'mysql_server_ssl_key', value: `${TLS_MOUNT_PATH}/tls.key` },
  ];
  if (tls.caKey !== undefined) {
    items.push({ key: tls.caKey, path: 'ca.crt' });
    flags.push({ prop: 'tls.caKey', given: tls.caKey, flag: 'mysql_server_ssl_ca', value: `${TLS_MOUNT_PATH}/ca.crt` });
  }
  if (tls.requireSecureTransport === true) {
    flags.push({ prop: 'tls.requireSecureTransport', given: 'true', flag: 'mysql_server_require_secure_transport', value: true });
  }
  if (tls.minVersion !== undefined) {
    flags.push({ prop: 'tls.minVersion', given: tls.minVersion, flag: 'mysql_server_tls_min_version', value: tls.minVersion });
  }
  for (const { prop, given, flag } of flags) {
    if (!daemonHasFlag(release, 'vtgate', flag)) {
      throw new Error(
        `Vtgate: '${prop}' ('${given}') needs the vtgate flag ${release.flag(flag).split('=')[0]}, which Vitess ${release.version} does not have; leave '${prop}' out on this release`,
      );
    }
  }
  return {
    args: flags.map(({ flag, value }) => release.flag(flag, value)),
    volume: { name: 'mysql-tls', secret: { secretName: tls.secretName, items } },
    mount: { name: 'mysql-tls', mountPath: TLS_MOUNT_PATH, readOnly: true },
  };
}

/**
 * The HPA metrics of `autoscaling`: average CPU and/or memory utilization. Throws for bad input,
 * and when a container of the pod lacks a request of a resource that a target names: the HPA
 * computes a pod's utilization against the sum of its containers' requests and takes no action on
 * that metric when a container has none. A limit without a request counts, as Kubernetes then sets
 * the request to the limit.
 */
function autoscalingMetrics(
  autoscaling: VtgateAutoscalingOptions,
  vtgateResources: k8s.ResourceRequirements,
  sidecars: readonly k8s.Container[],
): k8s.MetricSpecV2[] {
  if (typeof autoscaling !== 'object' || autoscaling === null || Array.isArray(autoscaling)) {
    throw new Error(`Vtgate: 'autoscaling' must be VtgateAutoscalingOptions, got ${JSON.stringify(autoscaling)}`);
  }
  const { minReplicas, maxReplicas } = autoscaling;
  if (!Number.isInteger(minReplicas) || minReplicas < 1) {
    throw new Error(`Vtgate: 'autoscaling.minReplicas' must be a whole number of at least 1, got ${minReplicas}`);
  }
  if (!Number.isInteger(maxReplicas) || maxReplicas < minReplicas) {
    throw new Error(`Vtgate: 'autoscaling.maxReplicas' must be a whole number of at least minReplicas (${minReplicas}), got ${maxReplicas}`);
  }
  const targets: Array<{ prop: string; resource: 'cpu' | 'memory'; percent: number }> = [];
  const cpu = autoscaling.targetCpuUtilizationPercent ?? (autoscaling.targetMemoryUtilizationPercent === undefined ? 80 : undefined);
  if (cpu !== undefined) {
    targets.push({ prop: 'targetCpuUtilizationPercent', resource: 'cpu', percent: cpu });
  }
  if (autoscaling.targetMemoryUtilizationPercent !== undefined) {
    targets.push({ prop: 'targetMemoryUtilizationPercent', resource: 'memory', percent: autoscaling.targetMemoryUtilizationPercent });
  }
  for (const { prop, resource, percent } of targets) {
    if (!Number.isInteger(percent) || percent < 1) {
      throw new Error(`Vtgate: 'autoscaling.${prop}' must be a whole number of percent of at least 1, got ${percent}`);
    }
    const hasRequest = (r: k8s.ResourceRequirements | undefined): boolean => r?.requests?.[resource] !== undefined || r?.limits?.[resource] !== undefined;
    if (!hasRequest(vtgateResources)) {
      throw new Error(
        `Vtgate: 'autoscaling.${prop}' (${percent}) needs a ${resource} request in 'resources' (the HPA measures utilization against it), ` +
          `got resources without 'requests.${resource}'`,
      );
    }
    for (const sidecar of sidecars) {
      if (!hasRequest(sidecar.resources)) {
        throw new Error(
          `Vtgate: 'autoscaling.${prop}' (${percent}) needs a ${resource} request in every container of the pod (the HPA measures a pod ` +
            `against the sum of its containers' requests, and ignores the metric when one has none), but sidecar '${sidecar.name}' has none`,
        );
      }
    }
  }
  const stabilization = autoscaling.behavior?.scaleDownStabilizationSeconds;
  if (stabilization !== undefined && (!Number.isInteger(stabilization) || stabilization < 0 || stabilization > MAX_STABILIZATION_SECONDS)) {
    throw new Error(
      `Vtgate: 'autoscaling.behavior.scaleDownStabilizationSeconds' must be a whole number from 0 to ${MAX_STABILIZATION_SECONDS}, got ${stabilization}`,
    );
  }
  return targets.map(({ resource, percent }) => ({
    type: 'Resource',
    resource: { name: resource, target: { type: 'Utilization', averageUtilization: percent } },
  }));
}

/**
 * vtgate's buffer flags for `buffer` (see {@link VtgateProps.buffer}): none when it is off, else
 * `--enable_buffer` and every `--buffer_*` limit, written out so that the manifest shows them.
 */
function bufferFlags(release: VitessRelease, buffer: VtgateBufferOptions | false | undefined): string[] {
  if (buffer === false || (buffer === undefined && release.majorVersion < FIRST_DEFAULT_BUFFER_RELEASE)) {
    return [];
  }
  if (buffer !== undefined && (typeof buffer !== 'object' || buffer === null || Array.isArray(buffer))) {
    throw new Error(`Vtgate: 'buffer' must be VtgateBufferOptions or false, got ${JSON.stringify(buffer)}`);
  }
  const options = { ...BUFFER_DEFAULTS, ...buffer };
  for (const key of Object.keys(BUFFER_DEFAULTS) as Array<keyof VtgateBufferOptions>) {
    const value = options[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw new Error(`Vtgate: 'buffer.${key}' must be a whole number of at least 1, got ${value}`);
    }
  }
  // vtgate refuses to start otherwise: go/vt/vtgate/buffer/flags.go:67-69 at v0.22.4 and v0.22.1,
  // :58-60 at v0.9.0.
  if (options.windowSeconds > options.maxFailoverDurationSeconds) {
    throw new Error(
      `Vtgate: 'buffer.windowSeconds' (${options.windowSeconds}) must not exceed ` +
        `'buffer.maxFailoverDurationSeconds' (${options.maxFailoverDurationSeconds}): vtgate holds no request longer than it buffers a failover`,
    );
  }
  // vtgate v9 refuses to start otherwise (go/vt/vtgate/buffer/flags.go:64-66 at v0.9.0); v22 only
  // asks for at least 1s (flags.go:73-75 at v0.22.4 and v0.22.1), checked above.
  if (release.majorVersion < FIRST_DEFAULT_BUFFER_RELEASE && options.minTimeBetweenFailoversSeconds < 2 * options.maxFailoverDurationSeconds) {
    throw new Error(
      `Vtgate: 'buffer.minTimeBetweenFailoversSeconds' (${options.minTimeBetweenFailoversSeconds}) must be at least twice ` +
        `'buffer.maxFailoverDurationSeconds' (${options.maxFailoverDurationSeconds}) on Vitess ${release.version}`,
    );
  }
  return [
    release.flag('enable_buffer'),
    release.flag('buffer_window', `${options.windowSeconds}s`),
    release.flag('buffer_max_failover_duration', `${options.maxFailoverDurationSeconds}s`),
    release.flag('buffer_size', options.size),
    release.flag('buffer_min_time_between_failovers', `${options.minTimeBetweenFailoversSeconds}s`),
  ];
}

/** Whether `value` is an IPv4 or IPv6 CIDR. */
function isCidr(value: string): boolean {
  const parts = value.split('/');
  if (parts.length !== 2 || !/^[0-9]{1,3}$/.test(parts[1])) {
    return false;
  }
  const bits = Number(parts[1]);
  return (isIPv4(parts[0]) && bits <= 32) || (isIPv6(parts[0]) && bits <= 128);
}

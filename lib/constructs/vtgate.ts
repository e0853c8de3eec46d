import { isIPv4, isIPv6 } from 'net';
import { Construct } from 'constructs';
import { k8s } from '../../imports/k8s';
import type { ITopologyServer, IVtgate } from '../interfaces';
import { claimObjectName, clusterLabels, inCluster, validateCellName, validateClusterName, validateObjectName } from '../internal/names';
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
export interface VtgateProps extends WorkloadOptions {
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
   * The number of vtgate replicas.
   * @default 3
   */
  readonly replicas?: number;
  /**
   * The Secret that holds vtgate's MySQL users, in vtgate's static auth file format
   * (`{"<user>": [{"UserData": "<user>", "Password": "<password>"}]}`), under the key `users.json`.
   * The Secret is not generated: create it before vtgate starts, so that no password is in the
   * manifests or on a command line.
   * @default vtgate-<cell>-mysql-auth, prefixed with `clusterName` when given
   */
  readonly mysqlAuthSecretName?: string;
  /**
   * The kind of the vtgate Service.
   * @default VtgateServiceType.CLUSTER_IP
   */
  readonly serviceType?: VtgateServiceType;
  /**
   * Annotations of the vtgate Service, e.g. for a cloud load balancer (internal, static IP).
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
 * vtgate, the query router of one cell: a Deployment and a Service `vtgate-<cell>` with the web
 * port 15001, the gRPC port 15991 and the MySQL port 3306, replicas spread across nodes and zones,
 * a PodDisruptionBudget of one pod at a time, and a NetworkPolicy that admits `mysqlClients` to the
 * MySQL and gRPC ports.
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
 */
export class Vtgate extends Construct implements IVtgate {
  /** The Deployment and Service name, `vtgate-<cell>`. */
  public readonly name: string;
  /** `host:port` of the MySQL protocol, e.g. `vtgate-test:3306`. */
  public readonly mysqlAddress: string;
  /** `host:port` of the gRPC service, e.g. `vtgate-test:15991`. */
  public readonly grpcAddress: string;
  /** The Vitess release. */
  public readonly release: VitessRelease;
  /** The cell. */
  public readonly cell: string;
  /** The Deployment. */
  public readonly deployment: k8s.KubeDeployment;

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
    const replicas = props.replicas ?? 3;
    if (!Number.isInteger(replicas) || replicas < 1) {
      throw new Error(`Vtgate: 'replicas' must be a whole number of at least 1, got ${replicas}`);
    }
    const serviceType = props.serviceType ?? VtgateServiceType.CLUSTER_IP;
    if (props.loadBalancerSourceRanges !== undefined) {
      if (serviceType !== VtgateServiceType.LOAD_BALANCER) {
        throw new Error(
          `Vtgate: 'loadBalancerSourceRanges' needs 'serviceType' LOAD_BALANCER, got '${serviceType}'`,
        );
      }
      for (const cidr of props.loadBalancerSourceRanges) {
        if (!isCidr(cidr)) {
          throw new Error(`Vtgate: 'loadBalancerSourceRanges' must hold CIDRs such as '10.0.0.0/8', got '${cidr}'`);
        }
      }
    }
    if (props.externalTrafficPolicy !== undefined) {
      if (serviceType === VtgateServiceType.CLUSTER_IP) {
        throw new Error(
          `Vtgate: 'externalTrafficPolicy' needs 'serviceType' NODE_PORT or LOAD_BALANCER, got '${serviceType}'`,
        );
      }
      if (!['Cluster', 'Local'].includes(props.externalTrafficPolicy)) {
        throw new Error(`Vtgate: 'externalTrafficPolicy' must be 'Cluster' or 'Local', got '${props.externalTrafficPolicy}'`);
      }
    }
    if (props.mysqlClients !== undefined && props.networkPolicy === false) {
      throw new Error("Vtgate: 'mysqlClients' takes effect only through the NetworkPolicy, but 'networkPolicy' is false");
    }
    if (props.mysqlClients !== undefined && props.mysqlClients.length === 0) {
      throw new Error("Vtgate: 'mysqlClients' must name at least one peer, got none (leave it out to admit every source)");
    }
    const bufferArgs = bufferFlags(release, props.buffer);
    validateClusterName('Vtgate', 'clusterName', props.clusterName);
    this.name = inCluster(props.clusterName, `vtgate-${props.cell}`);
    const secretName = props.mysqlAuthSecretName ?? `${this.name}-mysql-auth`;
    validateObjectName('Vtgate', 'mysqlAuthSecretName', secretName);
    claimObjectName(this, 'Vtgate', 'Deployment', this.name);
    this.mysqlAddress = `${this.name}:${VTGATE_MYSQL_PORT}`;
    this.grpcAddress = `${this.name}:${VTGATE_GRPC_PORT}`;
    this.release = release;
    this.cell = props.cell;

    const selector = { app: 'vitess', component: 'vtgate', cell: props.cell, ...clusterLabels(props.clusterName) };
    const labels = { ...APP_LABEL, ...selector };
    const primary = release.primaryTypeName.toUpperCase();

    new k8s.KubeService(this, 'Service', {
      metadata: { name: this.name, labels, annotations: props.serviceAnnotations ? { ...props.serviceAnnotations } : undefined },
      spec: {
        type: serviceType,
        loadBalancerSourceRanges: props.loadBalancerSourceRanges ? [...props.loadBalancerSourceRanges] : undefined,
        externalTrafficPolicy: props.externalTrafficPolicy,
        selector,
        ports: [
          { name: 'web', port: VTGATE_WEB_PORT, targetPort: k8s.IntOrString.fromNumber(VTGATE_WEB_PORT) },
          { name: 'grpc', port: VTGATE_GRPC_PORT, targetPort: k8s.IntOrString.fromNumber(VTGATE_GRPC_PORT) },
          { name: 'mysql', port: VTGATE_MYSQL_PORT, targetPort: k8s.IntOrString.fromNumber(VTGATE_MYSQL_PORT) },
        ],
      },
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
              resources: props.resources ?? resources('500m', '512Mi', '512Mi'),
              volumeMounts: [TMP_MOUNT, { name: 'mysql-auth', mountPath: AUTH_MOUNT_PATH, readOnly: true }],
            },
          ],
          volumes: [
            TMP_VOLUME,
            { name: 'mysql-auth', secret: { secretName, items: [{ key: 'users.json', path: 'users.json' }] } },
          ],
        }),
      },
    });

    createDisruptionBudget(this, this.name, labels, selector);

    if (props.networkPolicy ?? true) {
      createNetworkPolicy(this, this.name, labels, selector, [
        ingressRule([VTGATE_MYSQL_PORT, VTGATE_GRPC_PORT], props.mysqlClients),
        ingressRule([VTGATE_WEB_PORT]),
      ]);
    }
  }
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

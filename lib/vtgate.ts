import { isIPv4, isIPv6 } from 'net';
import { Construct } from 'constructs';
import { k8s } from '../imports/k8s';
import { EtcdCell } from './etcd-cell';
import { claimObjectName, validateCellName, validateObjectName } from './names';
import {
  APP_LABEL,
  TMP_MOUNT,
  TMP_VOLUME,
  createNetworkPolicy,
  daemonProbes,
  ingressRule,
  resources,
  restrictedContainerSecurityContext,
  scrapeAnnotations,
  spreadConstraints,
  validateResources,
  workloadPodSpec,
} from './pod';
import { VitessRelease } from './release';
import { topologyFlags } from './topology';
import { WorkloadOptions } from './workload-options';

/** vtgate's HTTP port (the legacy Kubernetes example's). */
export const VTGATE_WEB_PORT = 15001;
/** vtgate's gRPC port (the legacy Kubernetes example's). */
export const VTGATE_GRPC_PORT = 15991;
/** vtgate's MySQL protocol port. */
export const VTGATE_MYSQL_PORT = 3306;

/** Where the MySQL users file is mounted in vtgate. */
const AUTH_MOUNT_PATH = '/vt/secrets/mysql-auth';

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
 * Props of {@link Vtgate}.
 */
export interface VtgateProps extends WorkloadOptions {
  /**
   * The Vitess release.
   * @default VitessRelease.V9_0 (the source guide's release)
   */
  readonly release?: VitessRelease;
  /** The etcd cluster of the global topology. */
  readonly globalTopology: EtcdCell;
  /** The cell vtgate serves (its `-cell` flag). */
  readonly cell: string;
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
   * @default vtgate-<cell>-mysql-auth
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
}

/**
 * vtgate, the query router of one cell: a Deployment and a Service `vtgate-<cell>` with the web
 * port 15001, the gRPC port 15991 and the MySQL port 3306, replicas spread across nodes and zones,
 * a PodDisruptionBudget of one pod at a time, and a NetworkPolicy that admits `mysqlClients` to the
 * MySQL and gRPC ports.
 */
export class Vtgate extends Construct {
  /** The Deployment and Service name, `vtgate-<cell>`. */
  public readonly name: string;
  /** `host:port` of the MySQL protocol, e.g. `vtgate-test:3306`. */
  public readonly mysqlAddress: string;
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
    const secretName = props.mysqlAuthSecretName ?? `vtgate-${props.cell}-mysql-auth`;
    validateObjectName('Vtgate', 'mysqlAuthSecretName', secretName);
    this.name = `vtgate-${props.cell}`;
    claimObjectName(this, 'Vtgate', 'Deployment', this.name);
    this.mysqlAddress = `${this.name}:${VTGATE_MYSQL_PORT}`;

    const selector = { app: 'vitess', component: 'vtgate', cell: props.cell };
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
        template: {
          metadata: { labels, annotations: scrapeAnnotations(VTGATE_WEB_PORT) },
          spec: {
            automountServiceAccountToken: false,
            ...workloadPodSpec('Vtgate', props),
            topologySpreadConstraints: spreadConstraints(selector),
            containers: [
              {
                name: 'vtgate',
                image: release.image,
                imagePullPolicy: 'IfNotPresent',
                command: ['/vt/bin/vtgate'],
                args: [
                  ...topologyFlags(release, props.globalTopology),
                  release.flag('cell', props.cell),
                  release.flag('cells_to_watch', cellsToWatch.join(',')),
                  release.flag('tablet_types_to_wait', `${primary},REPLICA`),
                  ...(release.vtgateGatewayFlag ? [release.flag('gateway_implementation', 'discoverygateway')] : []),
                  release.flag('port', VTGATE_WEB_PORT),
                  release.flag('grpc_port', VTGATE_GRPC_PORT),
                  release.flag('mysql_server_port', VTGATE_MYSQL_PORT),
                  release.flag('service_map', 'grpc-vtgateservice'),
                  release.flag('mysql_auth_server_impl', 'static'),
                  release.flag('mysql_auth_server_static_file', `${AUTH_MOUNT_PATH}/users.json`),
                  release.flag('logtostderr'),
                ],
                ports: [
                  { name: 'web', containerPort: VTGATE_WEB_PORT },
                  { name: 'grpc', containerPort: VTGATE_GRPC_PORT },
                  { name: 'mysql', containerPort: VTGATE_MYSQL_PORT },
                ],
                ...daemonProbes(VTGATE_WEB_PORT),
                resources: props.resources ?? resources('500m', '512Mi', '512Mi'),
                securityContext: restrictedContainerSecurityContext(),
                volumeMounts: [TMP_MOUNT, { name: 'mysql-auth', mountPath: AUTH_MOUNT_PATH, readOnly: true }],
              },
            ],
            volumes: [
              TMP_VOLUME,
              { name: 'mysql-auth', secret: { secretName, items: [{ key: 'users.json', path: 'users.json' }] } },
            ],
          },
        },
      },
    });

    new k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata: { name: this.name, labels },
      spec: {
        maxUnavailable: k8s.IntOrString.fromNumber(1),
        selector: { matchLabels: selector },
      },
    });

    if (props.networkPolicy ?? true) {
      createNetworkPolicy(this, this.name, labels, selector, [
        ingressRule([VTGATE_MYSQL_PORT, VTGATE_GRPC_PORT], props.mysqlClients),
        ingressRule([VTGATE_WEB_PORT]),
      ]);
    }
  }
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

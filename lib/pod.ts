// Pod and container building blocks shared by the constructs. Not part of the public API.
import { Construct } from 'constructs';
import { k8s } from '../imports/k8s';
import { validateSubdomainName } from './names';
import { UserIds, WorkloadOptions } from './workload-options';

/** The numeric UID and GID of the `vitess` user in the vitess/lite images. */
export const VITESS_USER_ID = 999;

/** Common labels of every object this library creates. */
export const APP_LABEL = { 'app.kubernetes.io/part-of': 'vitess', 'app': 'vitess' };

/** Selects every pod this library creates (for NetworkPolicy peers). */
export const VITESS_PODS: k8s.LabelSelector = { matchLabels: { 'app.kubernetes.io/part-of': 'vitess' } };

/**
 * The pod security context of Vitess pods: the numeric `vitess` user, so runAsNonRoot holds, or no
 * IDs where the platform assigns them.
 */
export function vitessPodSecurityContext(userIds: UserIds = UserIds.VITESS): k8s.PodSecurityContext {
  const ids = userIds === UserIds.VITESS ? { runAsUser: VITESS_USER_ID, runAsGroup: VITESS_USER_ID, fsGroup: VITESS_USER_ID } : {};
  return {
    ...ids,
    runAsNonRoot: true,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/**
 * The container security context of every container: no privilege escalation, no capabilities, a
 * read-only root filesystem (writable paths are volumes).
 */
export function restrictedContainerSecurityContext(): k8s.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    readOnlyRootFilesystem: true,
  };
}

/** A writable `/tmp` for containers with a read-only root filesystem. */
export const TMP_VOLUME: k8s.Volume = { name: 'tmp', emptyDir: {} };
/** The mount of {@link TMP_VOLUME}. */
export const TMP_MOUNT: k8s.VolumeMount = { name: 'tmp', mountPath: '/tmp' };

/**
 * The pod spec fields that {@link WorkloadOptions} set: security context, scheduling and image pull
 * secrets. Validates them, naming `context`.
 */
export function workloadPodSpec(
  context: string,
  options: WorkloadOptions,
): Pick<k8s.PodSpec, 'securityContext' | 'nodeSelector' | 'tolerations' | 'affinity' | 'priorityClassName' | 'imagePullSecrets'> {
  if (options.priorityClassName !== undefined) {
    validateSubdomainName(context, 'priorityClassName', options.priorityClassName);
  }
  for (const secret of options.imagePullSecrets ?? []) {
    validateSubdomainName(context, 'imagePullSecrets', secret);
  }
  const userIds = options.userIds ?? UserIds.VITESS;
  if (!Object.values(UserIds).includes(userIds)) {
    throw new Error(`${context}: 'userIds' must be one of ${Object.values(UserIds).join(', ')}, got '${userIds}'`);
  }
  const pullSecrets = options.imagePullSecrets ?? [];
  return {
    securityContext: vitessPodSecurityContext(userIds),
    nodeSelector: options.nodeSelector ? { ...options.nodeSelector } : undefined,
    tolerations: options.tolerations ? [...options.tolerations] : undefined,
    affinity: options.affinity,
    priorityClassName: options.priorityClassName,
    imagePullSecrets: pullSecrets.length > 0 ? pullSecrets.map((name) => ({ name })) : undefined,
  };
}

/**
 * Spread of the pods a selector matches across nodes and zones: at most one pod more on any node
 * (or zone) than on another, preferred rather than required, so that a cluster with fewer nodes
 * than pods, or nodes without zone labels, still schedules them.
 */
export function spreadConstraints(matchLabels: { [key: string]: string }): k8s.TopologySpreadConstraint[] {
  return ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'].map((topologyKey) => ({
    topologyKey,
    maxSkew: 1,
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels },
  }));
}

/** The Prometheus scrape annotations of a pod that serves metrics on `port` at `path`. */
export function scrapeAnnotations(port: number, path = '/metrics'): { [key: string]: string } {
  return { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': path };
}

/** The `POD_IP` environment variable, so that args can use `$(POD_IP)`. */
export function podIpEnv(): k8s.EnvVar {
  return { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } };
}

/** Resource requirements from requests and a memory limit (no CPU limit). */
export function resources(cpu: string, memory: string, memoryLimit: string): k8s.ResourceRequirements {
  return {
    requests: { cpu: k8s.Quantity.fromString(cpu), memory: k8s.Quantity.fromString(memory) },
    limits: { memory: k8s.Quantity.fromString(memoryLimit) },
  };
}

/** An HTTP GET probe. */
export function httpProbe(
  path: string,
  port: number,
  timing: { initialDelaySeconds?: number; periodSeconds: number; timeoutSeconds: number; failureThreshold: number },
): k8s.Probe {
  return {
    httpGet: { path, port: k8s.IntOrString.fromNumber(port) },
    ...timing,
  };
}

/**
 * The probes of a Vitess daemon's web port: ready when `/debug/health` answers, alive while
 * `livenessPath` answers (after 30 s, with 6 failures allowed).
 */
export function daemonProbes(port: number, livenessPath = '/debug/vars'): Pick<k8s.Container, 'readinessProbe' | 'livenessProbe'> {
  return {
    readinessProbe: httpProbe('/debug/health', port, { periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 }),
    livenessProbe: httpProbe(livenessPath, port, {
      initialDelaySeconds: 30,
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 6,
    }),
  };
}

/** An ingress rule that opens `ports` to `from`, or to every source when `from` is not given. */
export function ingressRule(ports: readonly number[], from?: readonly k8s.NetworkPolicyPeer[]): k8s.NetworkPolicyIngressRule {
  return {
    ports: ports.map((port) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) })),
    from: from ? [...from] : undefined,
  };
}

/**
 * A NetworkPolicy `name` (id `NetworkPolicy`) that admits to the pods `podSelector` matches only the
 * ingress `rules` allow; egress is not restricted.
 */
export function createNetworkPolicy(
  scope: Construct,
  name: string,
  labels: { [key: string]: string },
  podSelector: { [key: string]: string },
  rules: k8s.NetworkPolicyIngressRule[],
): k8s.KubeNetworkPolicy {
  return new k8s.KubeNetworkPolicy(scope, 'NetworkPolicy', {
    metadata: { name, labels },
    spec: { podSelector: { matchLabels: podSelector }, policyTypes: ['Ingress'], ingress: rules },
  });
}

/** A Kubernetes resource quantity without a sign: `250m`, `1.5`, `512Mi`, `1e3`. */
const QUANTITY = /^(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?[0-9]+))?$/;

const SUFFIX_FACTORS: { [suffix: string]: number } = {
  '': 1,
  'n': 1e-9,
  'u': 1e-6,
  'm': 1e-3,
  'k': 1e3,
  'M': 1e6,
  'G': 1e9,
  'T': 1e12,
  'P': 1e15,
  'E': 1e18,
  'Ki': 2 ** 10,
  'Mi': 2 ** 20,
  'Gi': 2 ** 30,
  'Ti': 2 ** 40,
  'Pi': 2 ** 50,
  'Ei': 2 ** 60,
};

/** The value of a valid quantity as a number (for comparisons). */
function quantityNumber(quantity: string): number {
  const match = /^([0-9.]+)(.*)$/.exec(quantity)!;
  const suffix = match[2];
  if (/^[eE]/.test(suffix)) {
    return Number(`${match[1]}${suffix}`);
  }
  return Number(match[1]) * SUFFIX_FACTORS[suffix];
}

/** Throws unless `value` is a non-negative Kubernetes quantity such as `250m` or `10Gi`. */
export function validateQuantity(context: string, prop: string, value: string): void {
  if (!QUANTITY.test(value)) {
    throw new Error(
      `${context}: '${prop}' must be a Kubernetes quantity such as '250m', '2', '512Mi' or '10Gi', got '${value}'`,
    );
  }
}

/**
 * Throws unless every request and limit is a valid quantity and no limit is below its request
 * (the API server would reject the pod).
 */
export function validateResources(context: string, prop: string, requirements: k8s.ResourceRequirements | undefined): void {
  if (requirements === undefined) {
    return;
  }
  const text = (quantity: k8s.Quantity): string => String(quantity.value);
  for (const [kind, values] of [['requests', requirements.requests], ['limits', requirements.limits]] as const) {
    for (const [resource, quantity] of Object.entries(values ?? {})) {
      validateQuantity(context, `${prop}.${kind}.${resource}`, text(quantity));
    }
  }
  for (const [resource, limit] of Object.entries(requirements.limits ?? {})) {
    const request = requirements.requests?.[resource];
    if (request !== undefined && quantityNumber(text(limit)) < quantityNumber(text(request))) {
      throw new Error(
        `${context}: '${prop}.limits.${resource}' (${text(limit)}) must not be below '${prop}.requests.${resource}' (${text(request)})`,
      );
    }
  }
}

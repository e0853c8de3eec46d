// Pod and container building blocks shared by the constructs. Not part of the public API.
import { Construct } from 'constructs';
import { k8s } from '../../imports/k8s';
import { clusterLabels, validateSubdomainName } from './names';
import { shellQuote } from './shell';
import { UserIds, WorkloadOptions } from '../workload-options';

/** The numeric UID and GID of the `vitess` user in the vitess/lite images. */
export const VITESS_USER_ID = 999;

/** Common labels of every object this library creates. */
export const APP_LABEL = { 'app.kubernetes.io/part-of': 'vitess', 'app': 'vitess' };

/** Selects every pod this library creates (for NetworkPolicy peers). */
export const VITESS_PODS: k8s.LabelSelector = { matchLabels: { 'app.kubernetes.io/part-of': 'vitess' } };

/** Selects every pod of the cluster (for NetworkPolicy peers): {@link VITESS_PODS} of a named cluster only. */
export function clusterPods(clusterName: string | undefined): k8s.LabelSelector {
  return clusterName === undefined ? VITESS_PODS : { matchLabels: { ...VITESS_PODS.matchLabels, ...clusterLabels(clusterName) } };
}

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

/**
 * An environment variable from a field of the pod (the downward API), e.g.
 * `fieldEnv('POD_NAME', 'metadata.name')`, so that args can use `$(POD_NAME)`.
 */
export function fieldEnv(name: string, fieldPath: string): k8s.EnvVar {
  return { name, valueFrom: { fieldRef: { fieldPath } } };
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
 * How long {@link httpBodyCheckScript} reads a response at most, in seconds: its last read may take
 * one second more, which keeps the script within {@link DAEMON_READINESS_TIMING}'s timeout.
 */
export const HTTP_CHECK_SECONDS = 3;

/** The timing of a Vitess daemon's readiness probe. */
export const DAEMON_READINESS_TIMING = { periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 } as const;

/**
 * A bash script that sends `GET <path>` over HTTP/1.0 to `127.0.0.1:<port>` through bash's own
 * `/dev/tcp` and exits 0 only when the status is 200 and a line of the body matches the extended
 * regular expression `bodyLinePattern`. It needs nothing but bash, which the Debian-based
 * vitess/lite images have (docker/lite/Dockerfile.mysql57:36 at v0.9.0, docker/lite/Dockerfile:43
 * at v0.22.4 and v0.22.1) and this library's other scripts use; curl is in both images too
 * (docker/lite/install_dependencies.sh:30-48 at v0.9.0, docker/utils/install_dependencies.sh:46-67
 * at v0.22.4 and v0.22.1), but is not needed. It reads line by line and stops at the first matching line, so that a large
 * body such as `/debug/vars` is not read to its end. Every read waits at most one second and the
 * loop ends after {@link HTTP_CHECK_SECONDS} (and after 100000 lines), so the script ends before the
 * probe's timeout whatever the server does.
 */
export function httpBodyCheckScript(port: number, path: string, bodyLinePattern: string): string {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`httpBodyCheckScript: 'port' must be a whole number from 1 to 65535, got ${port}`);
  }
  if (!/^\/[A-Za-z0-9_./-]*$/.test(path)) {
    throw new Error(`httpBodyCheckScript: 'path' must be an absolute URL path of letters, digits and _./-, got '${path}'`);
  }
  if (bodyLinePattern === '' || /[\r\n]/.test(bodyLinePattern)) {
    throw new Error(`httpBodyCheckScript: 'bodyLinePattern' must be one non-empty line, got '${bodyLinePattern}'`);
  }
  return [
    `deadline=$((SECONDS + ${HTTP_CHECK_SECONDS}))`,
    `exec 3<>/dev/tcp/127.0.0.1/${port} || exit 1`,
    `printf 'GET %s HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' ${shellQuote(path)} >&3 || exit 1`,
    "status='^HTTP/1\\.[01] 200( |$)'",
    `pattern=${shellQuote(bodyLinePattern)}`,
    'IFS= read -r -t 1 line <&3 || exit 1',
    "line=${line%$'\\r'}",
    '[[ $line =~ $status ]] || exit 1',
    'body=0',
    'for ((i = 0; i < 100000 && SECONDS < deadline; i++)); do',
    '  IFS= read -r -t 1 line <&3',
    '  end=$?',
    "  line=${line%$'\\r'}",
    '  if ((body)); then',
    '    [[ $line =~ $pattern ]] && exit 0',
    '  elif [[ -z $line ]]; then',
    '    body=1',
    '  fi',
    '  ((end == 0)) || exit 1',
    'done',
    'exit 1',
  ].join('\n');
}

/**
 * An exec probe that runs {@link httpBodyCheckScript} with bash: it succeeds only when `path` on
 * `port` answers 200 and a line of its body matches `bodyLinePattern`.
 */
export function httpBodyProbe(
  port: number,
  path: string,
  bodyLinePattern: string,
  timing: { initialDelaySeconds?: number; periodSeconds: number; timeoutSeconds: number; failureThreshold: number },
): k8s.Probe {
  return {
    exec: { command: ['/bin/bash', '-c', httpBodyCheckScript(port, path, bodyLinePattern)] },
    ...timing,
  };
}

/**
 * Readiness of a daemon whose `/debug/health` answers HTTP 200 whether or not it is healthy and
 * tells which in the body, `ok` or `not ok`, such as vtctld (go/vt/vtctld/debug_health.go:31-49 at
 * v0.9.0, :32-50 at v0.22.4 and v0.22.1). An `httpGet` probe would pass on `not ok`, so this probe
 * checks that the body is exactly `ok`.
 */
export function debugHealthBodyProbe(port: number): k8s.Probe {
  return httpBodyProbe(port, '/debug/health', '^ok$', DAEMON_READINESS_TIMING);
}

/**
 * Readiness of a daemon whose `/debug/health` answers with an error status when it is unhealthy:
 * VTOrc, whose handler answers 500 until its first discovery cycle has completed and while it
 * cannot write its health to its backend (go/vt/vtorc/server/api.go:264-273 and
 * go/vt/vtorc/process/health.go:62-68 at v0.22.4 and v0.22.1). An `httpGet` probe, which fails on
 * any status from 400, is the right check there.
 */
export function debugHealthStatusProbe(port: number): k8s.Probe {
  return httpProbe('/debug/health', port, DAEMON_READINESS_TIMING);
}

/**
 * The probes of a Vitess daemon's web port: ready by `readinessProbe` (each daemon's
 * `/debug/health` means something different: see {@link debugHealthBodyProbe} and
 * {@link debugHealthStatusProbe}), alive while `livenessPath` answers (after 30 s, with 6 failures
 * allowed).
 */
export function daemonProbes(
  port: number,
  readinessProbe: k8s.Probe,
  livenessPath = '/debug/vars',
): Pick<k8s.Container, 'readinessProbe' | 'livenessProbe'> {
  return {
    readinessProbe,
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

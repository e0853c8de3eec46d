// Pod and container building blocks shared by the constructs. Not part of the public API.
import { k8s } from '../imports/k8s';

/** The numeric UID and GID of the `vitess` user in the vitess/lite images. */
export const VITESS_USER_ID = 999;

/** Common labels of every object this library creates. */
export const APP_LABEL = { 'app.kubernetes.io/part-of': 'vitess', 'app': 'vitess' };

/** The pod security context of Vitess pods: the numeric `vitess` user, so runAsNonRoot holds. */
export function vitessPodSecurityContext(): k8s.PodSecurityContext {
  return {
    runAsUser: VITESS_USER_ID,
    runAsGroup: VITESS_USER_ID,
    fsGroup: VITESS_USER_ID,
    runAsNonRoot: true,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** The container security context of every container: no privilege escalation, no capabilities. */
export function restrictedContainerSecurityContext(): k8s.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
  };
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

// The skeleton every pod of the library shares, so that each construct states only what differs:
// its containers (with their probes, built from the blocks of pod.ts), volumes and labels. Not part
// of the public API.
import { Construct } from 'constructs';
import { k8s } from '../../imports/k8s';
import type { VitessRelease } from '../release';
import type { WorkloadOptions } from '../workload-options';
import { applyPodExtensions, ContainerSpec } from './pod-extensions';
import { restrictedContainerSecurityContext, scrapeAnnotations, spreadConstraints, workloadPodSpec } from './pod';

export type { ContainerSpec } from './pod-extensions';

/** What a construct states of its pods; {@link vitessPodTemplate} adds the rest. */
export interface VitessPodSpec {
  /**
   * The Vitess release of the pods' daemons, which `extraFlags` are checked against.
   * @default - none: the pods run no Vitess daemon
   */
  readonly release?: VitessRelease;
  /** The pods' labels. */
  readonly labels: { [key: string]: string };
  /**
   * The port on which the pods serve Prometheus metrics at `/metrics` (the scrape annotations).
   * @default - no scrape annotations
   */
  readonly metricsPort?: number;
  /**
   * Annotations over the scrape annotations of `metricsPort` that `podAnnotations` must not change
   * (a different value is an error), and what they are for, e.g. the scrape annotations of an
   * exporter sidecar that the user asked for.
   * @default - none: `podAnnotations` may replace the scrape annotations
   */
  readonly fixedAnnotations?: { readonly values: { readonly [key: string]: string }; readonly purpose: string };
  /**
   * More annotations of the pods, beside the scrape annotations (`podAnnotations` of the
   * extensions go over both).
   * @default - none
   */
  readonly annotations?: { [key: string]: string };
  /**
   * The labels of the pods to spread across nodes and zones ({@link spreadConstraints}), usually
   * the selector of the construct's pods.
   * @default - not spread
   */
  readonly spreadAcross?: { [key: string]: string };
  /**
   * The service account the pods run as, with its token mounted.
   * @default - the namespace's default account, without a token
   */
  readonly serviceAccountName?: string;
  /**
   * The restart policy (`Never` for Job pods).
   * @default - Kubernetes' default (`Always`)
   */
  readonly restartPolicy?: string;
  /**
   * How long the pods may take to stop, in seconds.
   * @default - Kubernetes' default (30)
   */
  readonly terminationGracePeriodSeconds?: number;
  /** The containers. */
  readonly containers: readonly ContainerSpec[];
  /**
   * The pods' volumes.
   * @default - none
   */
  readonly volumes?: readonly k8s.Volume[];
}

/**
 * The pod template of every pod the library creates: the pod spec fields of {@link WorkloadOptions}
 * (the security context of the `vitess` user, scheduling, image pull secrets), validated under
 * `context`; no service account token unless the pods run as a service account; the Prometheus
 * scrape annotations and the spread across nodes and zones where `pod` asks for them; and in every
 * container the image pulled only when the node lacks it and the restricted container security
 * context (no privilege escalation, no capabilities, a read-only root filesystem); then the
 * {@link PodExtensions} of `options` (applyPodExtensions), the sidecars and init containers as given.
 */
export function vitessPodTemplate(context: string, options: WorkloadOptions, pod: VitessPodSpec): k8s.PodTemplateSpec {
  const extended = applyPodExtensions(context, pod.release, options, {
    containers: pod.containers,
    volumes: pod.volumes,
    labels: pod.labels,
    annotations:
      pod.metricsPort !== undefined || pod.annotations !== undefined
        ? { ...(pod.metricsPort !== undefined ? scrapeAnnotations(pod.metricsPort) : {}), ...pod.annotations }
        : undefined,
    fixedAnnotations: pod.fixedAnnotations,
  });
  return {
    metadata: {
      labels: extended.labels,
      annotations: extended.annotations,
    },
    spec: {
      restartPolicy: pod.restartPolicy,
      ...(pod.serviceAccountName !== undefined
        ? { serviceAccountName: pod.serviceAccountName, automountServiceAccountToken: true }
        : { automountServiceAccountToken: false }),
      ...workloadPodSpec(context, options),
      topologySpreadConstraints: pod.spreadAcross !== undefined ? spreadConstraints(pod.spreadAcross) : undefined,
      terminationGracePeriodSeconds: pod.terminationGracePeriodSeconds,
      initContainers: extended.initContainers,
      containers: [
        ...extended.containers.map((container) => ({
          ...container,
          imagePullPolicy: 'IfNotPresent',
          securityContext: restrictedContainerSecurityContext(),
        })),
        ...extended.sidecars,
      ],
      volumes: extended.volumes,
    },
  };
}

/**
 * A PodDisruptionBudget `name` (id `DisruptionBudget`) that lets at most `maxUnavailable` of the
 * pods `selector` matches be down at a time through evictions (a node drain).
 */
export function createDisruptionBudget(
  scope: Construct,
  name: string,
  labels: { [key: string]: string },
  selector: { [key: string]: string },
  maxUnavailable = 1,
): k8s.KubePodDisruptionBudget {
  return new k8s.KubePodDisruptionBudget(scope, 'DisruptionBudget', {
    metadata: { name, labels },
    spec: { maxUnavailable: k8s.IntOrString.fromNumber(maxUnavailable), selector: { matchLabels: selector } },
  });
}

import { k8s } from '../imports/k8s';

/**
 * The user and group IDs Vitess pods run as.
 */
export enum UserIds {
  /**
   * UID, GID and fsGroup 999: the `vitess` user of the vitess/lite images, as the vitess-operator
   * runs them. The images name their user (`USER vitess`), so `runAsNonRoot` needs the number.
   */
  VITESS = 'vitess',
  /**
   * No UID, GID or fsGroup in the manifests, for platforms that assign them per namespace (OpenShift's
   * restricted SCC rejects fixed IDs outside its range). `runAsNonRoot` stays.
   */
  PLATFORM_ASSIGNED = 'platform-assigned',
}

/**
 * Additions to the pods of a component, for what the library does not model: they are merged into
 * the pods it generates, checked at synth time, and never silently replace what the library
 * needs (a clash is an error naming the prop and the value).
 */
export interface PodExtensions {
  /**
   * Flags of the Vitess daemons of the pods, by binary (`vtctld`, `vtgate`, `vttablet`, `vtadmin`,
   * `mysqlctld`, `vtorc`) and flag name (with or without the leading dashes; on releases whose
   * flags are dashed, `_` in the name is written as `-` as the library writes its own). Merged by
   * flag name with the library's: the value here wins. `true` gives the bare flag. A binary the
   * pods do not run, or a flag that the binary of the component's release does not have (Vitess's
   * own flag lists, `lib/data/vitess-daemon-flags.json`), is an error naming the closest flags.
   * @default - none
   */
  readonly extraFlags?: { readonly [binary: string]: { readonly [flag: string]: string | number | boolean } };
  /**
   * Environment variables of every container the library creates in the pods; one of the same
   * name as the library's replaces it.
   * @default - none
   */
  readonly extraEnv?: readonly k8s.EnvVar[];
  /**
   * More volumes of the pods (their names must differ from the library's).
   * @default - none
   */
  readonly extraVolumes?: readonly k8s.Volume[];
  /**
   * More volume mounts of every container the library creates in the pods (of the library's
   * volumes or of `extraVolumes`, at paths it does not use).
   * @default - none
   */
  readonly extraVolumeMounts?: readonly k8s.VolumeMount[];
  /**
   * More containers of the pods, after the library's, as given (their names must differ from the
   * library's).
   * @default - none
   */
  readonly sidecars?: readonly k8s.Container[];
  /**
   * Init containers of the pods, as given, run before the library's containers.
   * @default - none
   */
  readonly initContainers?: readonly k8s.Container[];
  /**
   * Annotations of the pods, over the library's (the Prometheus scrape annotations), except the
   * scrape annotations of a tablet's mysqld exporter (`TabletShardProps.mysqldExporter`), which
   * they may not change (an error).
   * @default - none
   */
  readonly podAnnotations?: { readonly [key: string]: string };
  /**
   * More labels of the pods; a key the library sets is an error (its labels select the pods).
   * @default - none
   */
  readonly podLabels?: { readonly [key: string]: string };
}

/**
 * Where and how the pods of a component are scheduled and run. Every component takes these props;
 * they compose with the component's defaults (topology spread, security context) instead of
 * replacing them. Command Jobs take the options of the vtctld they talk to, without `affinity`.
 */
export interface WorkloadOptions extends PodExtensions {
  /**
   * Node labels the pods must run on (`nodeSelector`).
   * @default - any node
   */
  readonly nodeSelector?: { readonly [key: string]: string };
  /**
   * Taints the pods tolerate.
   * @default - none
   */
  readonly tolerations?: readonly k8s.Toleration[];
  /**
   * Node and pod affinity rules. They are added to the pod as given; the component's spread across
   * nodes and zones is a `topologySpreadConstraints` default and stays.
   * @default - none
   */
  readonly affinity?: k8s.Affinity;
  /**
   * The PriorityClass of the pods.
   * @default - the cluster's default priority
   */
  readonly priorityClassName?: string;
  /**
   * Secrets (of type `kubernetes.io/dockerconfigjson`) to pull the images with.
   * @default - none
   */
  readonly imagePullSecrets?: readonly string[];
  /**
   * The user and group IDs the pods run as.
   * @default UserIds.VITESS
   */
  readonly userIds?: UserIds;
  /**
   * Whether a NetworkPolicy admits to the component's ports only the clients that need them (for
   * etcd, vtctld, tablets and vtgate; see each component). Without a network plugin that enforces
   * NetworkPolicies it has no effect.
   * @default true
   */
  readonly networkPolicy?: boolean;
}

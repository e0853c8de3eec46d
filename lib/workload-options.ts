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
 * Where and how the pods of a component are scheduled and run. Every component takes these props;
 * they compose with the component's defaults (topology spread, security context) instead of
 * replacing them. Command Jobs take the options of the vtctld they talk to, without `affinity`.
 */
export interface WorkloadOptions {
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

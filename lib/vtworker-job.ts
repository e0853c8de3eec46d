import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { k8s } from '../imports/k8s';
import { EtcdCell } from './etcd-cell';
import { JobCondition } from './job-condition';
import { clientPrefix, renderScript } from './job-script';
import {
  keyspaceObjectName,
  shardLabel,
  validateCellName,
  validateKeyspaceName,
  validateObjectName,
  validateShardName,
} from './names';
import { APP_LABEL, resources, restrictedContainerSecurityContext, vitessPodSecurityContext } from './pod';
import { topologyFlags } from './topology';
import { IVtctld } from './vtctld';

/** vtworker's HTTP status port in batch mode (the legacy example's). */
export const VTWORKER_WEB_PORT = 15003;

/**
 * Props of {@link VtworkerJob}.
 */
export interface VtworkerJobProps {
  /**
   * The cluster's vtctld: the Job runs its release's image, and checks its preconditions through it.
   */
  readonly vtctld: IVtctld;
  /** The etcd cluster of the global topology. */
  readonly globalTopology: EtcdCell;
  /** The cell vtworker runs in (its `-cell` flag); it reads the rdonly tablets of this cell. */
  readonly cell: string;
  /**
   * The vtworker command: `SplitClone` (given the source shard; destinations are found by key-range
   * overlap) or `SplitDiff` (given one destination shard).
   */
  readonly command: string;
  /** The keyspace. */
  readonly keyspace: string;
  /** The shard the command takes: the source shard for SplitClone, a destination for SplitDiff. */
  readonly shard: string;
  /**
   * How many healthy rdonly tablets the command needs in each shard it reads
   * (`-min_healthy_rdonly_tablets`, written out even at vtworker's own default of 2).
   * @default 2
   */
  readonly minHealthyRdonlyTablets?: number;
  /**
   * The Job name.
   * @default vtworker-<command in lowercase>-<keyspace>-<shard>, e.g. vtworker-splitclone-test-keyspace-0
   */
  readonly jobName?: string;
  /**
   * Conditions to wait for, in order, before vtworker starts.
   * @default - only that vtctld answers
   */
  readonly waitFor?: readonly JobCondition[];
  /**
   * A condition that means the command's work is already done: when it holds, the Job succeeds
   * without starting vtworker.
   * @default - vtworker always runs
   */
  readonly skipIf?: JobCondition;
  /**
   * How long to wait for all the conditions before the Job fails.
   * @default Duration.minutes(10)
   */
  readonly waitTimeout?: Duration;
  /**
   * How often a condition is checked while waiting.
   * @default Duration.seconds(5)
   */
  readonly pollInterval?: Duration;
  /**
   * How many times a failed vtworker pod is retried (SplitClone and SplitDiff can run again).
   * @default 1
   */
  readonly backoffLimit?: number;
  /**
   * How long a finished Job is kept before Kubernetes deletes it.
   * @default Duration.days(1)
   */
  readonly ttlAfterFinished?: Duration;
  /**
   * The vtworker container's resources.
   * @default - requests 500m CPU and 512Mi memory, memory limit 1Gi
   */
  readonly resources?: k8s.ResourceRequirements;
}

/**
 * A Job that runs one vtworker command (`SplitClone <keyspace>/<source shard>` or `SplitDiff
 * <keyspace>/<destination shard>`) in batch mode, in the cluster's image. Its name is unique per
 * command and shard, so several can exist at once (the guide's bare Pod `vtworker` allowed one);
 * the Job succeeds or fails with vtworker's exit status, with bounded retries. Vitess removed
 * vtworker in v15: for a release without it the construct throws.
 */
export class VtworkerJob extends Construct {
  /** The Job name. */
  public readonly jobName: string;
  /** The vtworker argv, as the Job runs it. */
  public readonly commandLine: readonly string[];
  /** The Job. */
  public readonly job: k8s.KubeJob;

  public constructor(scope: Construct, id: string, props: VtworkerJobProps) {
    super(scope, id);
    const release = props.vtctld.release;
    release.requireVtworkerCommand(props.command, 'VtworkerJob');
    validateCellName('VtworkerJob', 'cell', props.cell);
    validateKeyspaceName('VtworkerJob', 'keyspace', props.keyspace);
    validateShardName('VtworkerJob', 'shard', props.shard);
    const minHealthy = props.minHealthyRdonlyTablets ?? 2;
    if (!Number.isInteger(minHealthy) || minHealthy < 1) {
      throw new Error(`VtworkerJob: 'minHealthyRdonlyTablets' must be a whole number of at least 1, got ${minHealthy}`);
    }
    const backoffLimit = props.backoffLimit ?? 1;
    if (!Number.isInteger(backoffLimit) || backoffLimit < 0) {
      throw new Error(`VtworkerJob: 'backoffLimit' must be a whole number of at least 0, got ${backoffLimit}`);
    }
    const waitTimeout = (props.waitTimeout ?? Duration.minutes(10)).toSeconds();
    const pollInterval = (props.pollInterval ?? Duration.seconds(5)).toSeconds();
    if (waitTimeout < pollInterval) {
      throw new Error(`VtworkerJob: 'waitTimeout' (${waitTimeout}s) must be at least 'pollInterval' (${pollInterval}s)`);
    }
    this.jobName =
      props.jobName ??
      `vtworker-${props.command.toLowerCase()}-${keyspaceObjectName(props.keyspace)}-${shardLabel(props.shard)}`;
    validateObjectName('VtworkerJob', 'jobName', this.jobName);

    const waitFor = props.waitFor ?? [JobCondition.vtctldReachable()];
    for (const condition of [...waitFor, ...(props.skipIf ? [props.skipIf] : [])]) {
      release.requireVtctlCommand(condition._render(release).command[0], `VtworkerJob ${this.jobName}`);
    }

    this.commandLine = [
      '/vt/bin/vtworker',
      ...topologyFlags(release, props.globalTopology),
      release.flag('cell', props.cell),
      ...(release.v3ReshardingMode ? [release.flag('use_v3_resharding_mode')] : []),
      release.flag('port', VTWORKER_WEB_PORT),
      release.flag('logtostderr'),
      props.command,
      release.flag('min_healthy_rdonly_tablets', minHealthy),
      `${props.keyspace}/${props.shard}`,
    ];
    const script = renderScript({
      client: clientPrefix(release, props.vtctld.grpcAddress),
      release,
      waitFor,
      skipIf: props.skipIf,
      commands: [this.commandLine],
      waitTimeout,
      pollInterval,
    });

    const labels = { ...APP_LABEL, component: 'vtworker', job: this.jobName };
    this.job = new k8s.KubeJob(this, 'Resource', {
      metadata: { name: this.jobName, labels },
      spec: {
        backoffLimit,
        ttlSecondsAfterFinished: (props.ttlAfterFinished ?? Duration.days(1)).toSeconds(),
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: 'Never',
            automountServiceAccountToken: false,
            securityContext: vitessPodSecurityContext(),
            containers: [
              {
                name: 'vtworker',
                image: release.image,
                imagePullPolicy: 'IfNotPresent',
                command: ['/bin/bash', '-c', script],
                ports: [{ name: 'web', containerPort: VTWORKER_WEB_PORT }],
                resources: props.resources ?? resources('500m', '512Mi', '1Gi'),
                securityContext: restrictedContainerSecurityContext(),
              },
            ],
          },
        },
      },
    });
  }
}

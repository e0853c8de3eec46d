import { Construct } from 'constructs';
import { k8s } from '../../imports/k8s';
import type { ITopologyServer, IVtctld } from '../interfaces';
import {
  keyspaceObjectName,
  shardLabel,
  validateCellName,
  validateKeyspaceName,
  validateJobName,
  validateShardName,
} from '../internal/names';
import { resources, validateResources } from '../internal/pod';
import { topologyFlags } from '../internal/topology';
import type { CommandJobOptions } from './job-condition';
import { createCommandJob } from './job-script';

/** vtworker's HTTP status port in batch mode (the legacy example's). */
export const VTWORKER_WEB_PORT = 15003;

/**
 * Props of {@link VtworkerJob}.
 */
export interface VtworkerJobProps extends CommandJobOptions {
  /**
   * The cluster's vtctld: the Job runs its release's image, and checks its preconditions through it.
   */
  readonly vtctld: IVtctld;
  /**
   * The global topology: its {@link EtcdCell}, or {@link TopologyServer.fromAddress} for an etcd
   * cluster that the library does not run.
   */
  readonly globalTopology: ITopologyServer;
  /** The cell vtworker runs in (its `-cell` flag); it reads the rdonly tablets of this cell. */
  readonly cell: string;
  /**
   * The vtworker command: `SplitClone` (given the source shard; destinations are found by key-range
   * overlap) or `SplitDiff` (given one destination shard).
   */
  readonly command: string;
  /** The keyspace. */
  readonly keyspace: string;
  /**
   * The shards the command takes, one vtworker run each, in order: the source shard for SplitClone,
   * the destination shards for SplitDiff. Runs never overlap: two SplitDiffs at once would each
   * take a source rdonly tablet out of serving, leaving too few healthy ones for the other.
   */
  readonly shards: readonly string[];
  /**
   * How many healthy rdonly tablets the command needs in each shard it reads
   * (`-min_healthy_rdonly_tablets`, written out even at vtworker's own default of 2).
   * @default 2
   */
  readonly minHealthyRdonlyTablets?: number;
  /**
   * The Job's base name (at most 57 characters: the object's name adds a hash of the Job's content).
   * @default vtworker-<command in lowercase>-<keyspace>-<shards>, e.g. vtworker-splitclone-test-keyspace-0
   * or vtworker-splitdiff-test-keyspace-xx-80-80-xx
   */
  readonly jobName?: string;
  /**
   * How many times a failed vtworker pod is retried (SplitClone and SplitDiff can run again).
   * @default 1
   */
  readonly backoffLimit?: number;
  /**
   * The vtworker container's resources.
   * @default - requests 500m CPU and 512Mi memory, memory limit 1Gi
   */
  readonly resources?: k8s.ResourceRequirements;
}

/**
 * A Job that runs one vtworker command (`SplitClone <keyspace>/<source shard>` or `SplitDiff
 * <keyspace>/<destination shard>`) in batch mode, in the cluster's image, once per shard in order.
 * Its name is unique per command and shards, so several can exist at once (the guide's bare Pod
 * `vtworker` allowed one); the Job succeeds when every run exits with 0 and fails at the first run
 * that does not, with bounded retries. Vitess removed vtworker in v15: for a release without it the
 * construct throws.
 */
export class VtworkerJob extends Construct {
  /**
   * The Job's base name, its label `job`. The Job object's name (`job.name`) is this followed by
   * `-` and 5 hex characters of a hash of the Job's content, so that a Job whose content changes
   * is a new Job (an existing Job's pod template cannot be changed).
   */
  public readonly jobName: string;
  /** The vtworker argv of each run, in order, as the Job runs them. */
  public readonly commandLines: readonly string[][];
  /** The Job. */
  public readonly job: k8s.KubeJob;

  public constructor(scope: Construct, id: string, props: VtworkerJobProps) {
    super(scope, id);
    const release = props.vtctld.release;
    release.requireVtworkerCommand(props.command, 'VtworkerJob');
    validateCellName('VtworkerJob', 'cell', props.cell);
    validateResources('VtworkerJob', 'resources', props.resources);
    validateKeyspaceName('VtworkerJob', 'keyspace', props.keyspace);
    if (props.shards.length === 0) {
      throw new Error("VtworkerJob: 'shards' must name at least one shard, got none");
    }
    for (const shard of props.shards) {
      validateShardName('VtworkerJob', 'shards', shard);
    }
    if (new Set(props.shards).size !== props.shards.length) {
      throw new Error(`VtworkerJob: 'shards' must not repeat a shard, got [${props.shards.join(', ')}]`);
    }
    const minHealthy = props.minHealthyRdonlyTablets ?? 2;
    if (!Number.isInteger(minHealthy) || minHealthy < 1) {
      throw new Error(`VtworkerJob: 'minHealthyRdonlyTablets' must be a whole number of at least 1, got ${minHealthy}`);
    }
    this.jobName =
      props.jobName ??
      `vtworker-${props.command.toLowerCase()}-${keyspaceObjectName(props.keyspace)}-${props.shards.map(shardLabel).join('-')}`;
    validateJobName('VtworkerJob', 'jobName', this.jobName);

    this.commandLines = props.shards.map((shard) => [
      '/vt/bin/vtworker',
      ...topologyFlags(release, props.globalTopology),
      release.flag('cell', props.cell),
      ...(release.v3ReshardingMode ? [release.flag('use_v3_resharding_mode')] : []),
      release.flag('port', VTWORKER_WEB_PORT),
      ...release.logFlags(),
      props.command,
      release.flag('min_healthy_rdonly_tablets', minHealthy),
      `${props.keyspace}/${shard}`,
    ]);
    this.job = createCommandJob(
      this,
      {
        context: `VtworkerJob ${this.jobName}`,
        jobName: this.jobName,
        component: 'vtworker',
        containerName: 'vtworker',
        vtctld: props.vtctld,
        commands: this.commandLines,
        backoffLimit: props.backoffLimit ?? 1,
        resources: props.resources ?? resources('500m', '512Mi', '1Gi'),
        ports: [{ name: 'web', containerPort: VTWORKER_WEB_PORT }],
      },
      props,
    );
  }
}

import { Construct } from 'constructs';
import { k8s } from '../../imports/k8s';
import type { IVtctld } from '../interfaces';
import { validateJobName } from '../internal/names';
import { resources, validateResources } from '../internal/pod';
import type { CommandJobOptions } from './job-condition';
import { clientPrefix, createCommandJob } from './job-script';

/**
 * Props of {@link VtctlJob}.
 */
export interface VtctlJobProps extends CommandJobOptions {
  /** The vtctld to send the commands to; the Job runs its release's image and client. */
  readonly vtctld: IVtctld;
  /** The Job's base name (a DNS-1123 label, at most 57 characters): the object's name adds a hash of the Job's content. */
  readonly jobName: string;
  /**
   * The commands, run in order; each is the command name followed by its flags and arguments,
   * e.g. `['InitShardMaster', '-force', 'test_keyspace/0', 'test-0000000100']`. The Job fails at
   * the first command that fails.
   */
  readonly commands: ReadonlyArray<readonly string[]>;
  /**
   * How many times a failed pod is retried.
   * @default 2
   */
  readonly backoffLimit?: number;
  /**
   * The container's resources.
   * @default - requests 50m CPU and 64Mi memory, memory limit 256Mi
   */
  readonly resources?: k8s.ResourceRequirements;
}

/**
 * A Job that runs vtctl commands against vtctld with the client of the cluster's release
 * (`vtctlclient` for v9), in the cluster's image. Before it acts it waits, with a bounded wait, for
 * its preconditions, and fails with a message that names the one that did not hold.
 */
export class VtctlJob extends Construct {
  /**
   * The Job's base name, its label `job`. The Job object's name (`job.name`) is this followed by
   * `-` and 5 hex characters of a hash of the Job's content, so that a Job whose content changes
   * is a new Job (an existing Job's pod template cannot be changed).
   */
  public readonly jobName: string;
  /** The Job. */
  public readonly job: k8s.KubeJob;
  /** The full argv of each command, as the Job runs them. */
  public readonly commandLines: readonly string[][];

  public constructor(scope: Construct, id: string, props: VtctlJobProps) {
    super(scope, id);
    validateJobName('VtctlJob', 'jobName', props.jobName);
    validateResources('VtctlJob', 'resources', props.resources);
    const context = `VtctlJob ${props.jobName}`;
    if (props.commands.length === 0) {
      throw new Error(`${context}: 'commands' must hold at least one command, got none`);
    }
    const release = props.vtctld.release;
    for (const command of props.commands) {
      if (command.length === 0) {
        throw new Error(`${context}: a command in 'commands' is empty`);
      }
      release.requireVtctlCommand(command[0], context);
    }
    this.jobName = props.jobName;
    const client = clientPrefix(release, props.vtctld.grpcAddress);
    this.commandLines = props.commands.map((command) => [...client, ...command]);
    this.job = createCommandJob(
      this,
      {
        context,
        jobName: props.jobName,
        component: 'vtctl-job',
        containerName: 'vtctl',
        vtctld: props.vtctld,
        commands: this.commandLines,
        backoffLimit: props.backoffLimit ?? 2,
        resources: props.resources ?? resources('50m', '64Mi', '256Mi'),
      },
      props,
    );
  }
}

import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { k8s } from '../imports/k8s';
import { validateObjectName } from './names';
import { APP_LABEL, resources, restrictedContainerSecurityContext, vitessPodSecurityContext } from './pod';
import { JobCondition } from './job-condition';
import { clientPrefix, renderScript } from './job-script';
import { IVtctld } from './vtctld';

/**
 * Props of {@link VtctlJob}.
 */
export interface VtctlJobProps {
  /** The vtctld to send the commands to; the Job runs its release's image and client. */
  readonly vtctld: IVtctld;
  /** The Job name (a DNS-1123 label, at most 63 characters). */
  readonly jobName: string;
  /**
   * The commands, run in order; each is the command name followed by its flags and arguments,
   * e.g. `['InitShardMaster', '-force', 'test_keyspace/0', 'test-0000000100']`. The Job fails at
   * the first command that fails.
   */
  readonly commands: ReadonlyArray<readonly string[]>;
  /**
   * Conditions to wait for, in order, before running the commands.
   * @default - only that vtctld answers
   */
  readonly waitFor?: readonly JobCondition[];
  /**
   * A condition that means the commands' work is already done: when it holds (checked after the
   * waits), the Job succeeds without running them, so applying it again does no harm.
   * @default - the commands always run
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
   * How many times a failed pod is retried.
   * @default 2
   */
  readonly backoffLimit?: number;
  /**
   * How long a finished Job is kept before Kubernetes deletes it.
   * @default Duration.days(1)
   */
  readonly ttlAfterFinished?: Duration;
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
  /** The Job name. */
  public readonly jobName: string;
  /** The Job. */
  public readonly job: k8s.KubeJob;
  /** The full argv of each command, as the Job runs them. */
  public readonly commandLines: readonly string[][];

  public constructor(scope: Construct, id: string, props: VtctlJobProps) {
    super(scope, id);
    validateObjectName('VtctlJob', 'jobName', props.jobName);
    if (props.commands.length === 0) {
      throw new Error(`VtctlJob ${props.jobName}: 'commands' must hold at least one command, got none`);
    }
    const release = props.vtctld.release;
    for (const command of props.commands) {
      if (command.length === 0) {
        throw new Error(`VtctlJob ${props.jobName}: a command in 'commands' is empty`);
      }
      release.requireVtctlCommand(command[0], `VtctlJob ${props.jobName}`);
    }
    const conditions = [...(props.waitFor ?? [JobCondition.vtctldReachable()]), ...(props.skipIf ? [props.skipIf] : [])];
    for (const condition of conditions) {
      release.requireVtctlCommand(condition._render(release).command[0], `VtctlJob ${props.jobName}`);
    }
    const backoffLimit = props.backoffLimit ?? 2;
    if (!Number.isInteger(backoffLimit) || backoffLimit < 0) {
      throw new Error(`VtctlJob ${props.jobName}: 'backoffLimit' must be a whole number of at least 0, got ${backoffLimit}`);
    }
    const waitTimeout = (props.waitTimeout ?? Duration.minutes(10)).toSeconds();
    const pollInterval = (props.pollInterval ?? Duration.seconds(5)).toSeconds();
    if (waitTimeout < pollInterval) {
      throw new Error(
        `VtctlJob ${props.jobName}: 'waitTimeout' (${waitTimeout}s) must be at least 'pollInterval' (${pollInterval}s)`,
      );
    }

    this.jobName = props.jobName;
    const client = clientPrefix(release, props.vtctld.grpcAddress);
    this.commandLines = props.commands.map((command) => [...client, ...command]);
    const script = renderScript({
      client,
      release,
      waitFor: props.waitFor ?? [JobCondition.vtctldReachable()],
      skipIf: props.skipIf,
      commands: this.commandLines,
      waitTimeout,
      pollInterval,
    });

    const labels = { ...APP_LABEL, component: 'vtctl-job', job: props.jobName };
    this.job = new k8s.KubeJob(this, 'Resource', {
      metadata: { name: props.jobName, labels },
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
                name: 'vtctl',
                image: release.image,
                imagePullPolicy: 'IfNotPresent',
                command: ['/bin/bash', '-c', script],
                resources: props.resources ?? resources('50m', '64Mi', '256Mi'),
                securityContext: restrictedContainerSecurityContext(),
              },
            ],
          },
        },
      },
    });
  }
}

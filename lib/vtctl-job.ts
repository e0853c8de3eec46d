import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { k8s } from '../imports/k8s';
import { validateObjectName } from './names';
import { APP_LABEL, resources, restrictedContainerSecurityContext, vitessPodSecurityContext } from './pod';
import { VitessRelease } from './release';
import { shellCommand, shellQuote } from './shell';
import { IVtctld } from './vtctld';

/**
 * A state of the cluster that a command Job can wait for, or take as "already done", checked by
 * running one read-only vtctl command against vtctld and matching its output.
 */
export class JobCondition {
  /**
   * vtctld answers (`GetCellInfoNames` succeeds).
   */
  public static vtctldReachable(): JobCondition {
    return new JobCondition('vtctld answers', () => ({ command: ['GetCellInfoNames'], present: [], absent: [] }));
  }

  /**
   * The cell is registered in the global topology.
   */
  public static cellRegistered(cell: string): JobCondition {
    return new JobCondition(`cell '${cell}' registered in the global topology`, () => ({
      command: ['GetCellInfoNames'],
      present: [`^${cell}$`],
      absent: [],
    }));
  }

  /**
   * Every one of the tablets is registered in its cell's topology.
   */
  public static tabletsRegistered(cell: string, aliases: readonly string[]): JobCondition {
    if (aliases.length === 0) {
      throw new Error('JobCondition.tabletsRegistered: \'aliases\' must name at least one tablet, got none');
    }
    for (const alias of aliases) {
      if (!alias.startsWith(`${cell}-`)) {
        throw new Error(`JobCondition.tabletsRegistered: tablet alias '${alias}' is not in cell '${cell}'`);
      }
    }
    return new JobCondition(`tablets ${aliases.join(', ')} registered in cell '${cell}'`, () => ({
      command: ['ListAllTablets', cell],
      present: aliases.map((alias) => `^${alias} `),
      absent: [],
    }));
  }

  /**
   * The shard has a primary (master) tablet in the topology.
   */
  public static shardHasPrimary(keyspace: string, shard: string): JobCondition {
    return new JobCondition(`shard ${keyspace}/${shard} has a primary`, (release) => ({
      command: ['GetShard', `${keyspace}/${shard}`],
      present: [`"${release.primaryTypeName}_alias": \\{`],
      absent: [],
    }));
  }

  /**
   * The tablet's schema has the table.
   */
  public static tableExists(tabletAlias: string, table: string): JobCondition {
    return new JobCondition(`table '${table}' exists on tablet ${tabletAlias}`, (release) => ({
      command: ['GetSchema', release.flag('table_names_only'), tabletAlias],
      present: [`^${table}$`],
      absent: [],
    }));
  }

  /**
   * The shard has at least one backup.
   */
  public static backupExists(keyspace: string, shard: string): JobCondition {
    return new JobCondition(`a backup of ${keyspace}/${shard} exists`, () => ({
      command: ['ListBackups', `${keyspace}/${shard}`],
      present: ['^[0-9]{4}-[0-9]{2}-[0-9]{2}\\.[0-9]{6}\\.'],
      absent: [],
    }));
  }

  /**
   * The keyspace exists in the global topology.
   */
  public static keyspaceExists(keyspace: string): JobCondition {
    return new JobCondition(`keyspace '${keyspace}' exists`, () => ({
      command: ['GetKeyspace', keyspace],
      present: [],
      absent: [],
    }));
  }

  /**
   * A condition of your own: `command` (a read-only vtctl command and its arguments) succeeds and
   * its output has a line matching each of `present` and none matching `absent` (POSIX extended
   * regular expressions).
   */
  public static custom(options: CustomJobConditionOptions): JobCondition {
    return new JobCondition(options.description, () => ({
      command: [...options.command],
      present: [...(options.present ?? [])],
      absent: [...(options.absent ?? [])],
    }));
  }

  private constructor(
    /** What is checked, in words; Job logs and failure messages quote it. */
    public readonly description: string,
    private readonly check: (release: VitessRelease) => ConditionCheck,
  ) {}

  /**
   * The check for a release: the command to run and the patterns to match.
   * @internal
   */
  public _render(release: VitessRelease): ConditionCheck {
    return this.check(release);
  }
}

/**
 * Options of {@link JobCondition.custom}.
 */
export interface CustomJobConditionOptions {
  /** What is checked, in words. */
  readonly description: string;
  /** A read-only vtctl command and its arguments, e.g. `['GetShard', 'test_keyspace/0']`. */
  readonly command: readonly string[];
  /**
   * Extended regular expressions that must each match a line of the output.
   * @default - none
   */
  readonly present?: readonly string[];
  /**
   * Extended regular expressions that must match no line of the output.
   * @default - none
   */
  readonly absent?: readonly string[];
}

/**
 * A rendered condition. Not part of the public API.
 * @internal
 */
export interface ConditionCheck {
  readonly command: string[];
  readonly present: string[];
  readonly absent: string[];
}

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

/** How long one check command may take. */
const CHECK_TIMEOUT_SECONDS = 30;

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

/** The client binary and its server flag, e.g. `/vt/bin/vtctlclient -server=vtctld:15999`. */
function clientPrefix(release: VitessRelease, grpcAddress: string): string[] {
  return [`/vt/bin/${release.vtctlClient}`, release.flag('server', grpcAddress)];
}

interface ScriptOptions {
  readonly client: string[];
  readonly release: VitessRelease;
  readonly waitFor: readonly JobCondition[];
  readonly skipIf?: JobCondition;
  readonly commands: readonly string[][];
  readonly waitTimeout: number;
  readonly pollInterval: number;
}

/** The bash script of a command Job: wait, check whether done, run. */
function renderScript(options: ScriptOptions): string {
  const lines: string[] = [
    'set -u',
    `deadline=$(( $(date +%s) + ${options.waitTimeout} ))`,
    'wait_for() {',
    '  echo "waiting for: $2"',
    '  until "$1"; do',
    '    if [ "$(date +%s)" -ge "$deadline" ]; then',
    `      echo "FAILED: gave up after ${options.waitTimeout}s waiting for: $2" >&2`,
    '      echo "last output of the check:" >&2',
    '      cat /tmp/check.out >&2',
    '      exit 1',
    '    fi',
    `    sleep ${options.pollInterval}`,
    '  done',
    '  echo "ready: $2"',
    '}',
  ];
  const renderCheck = (fn: string, condition: JobCondition): void => {
    const check = condition._render(options.release);
    lines.push(`${fn}() {`);
    lines.push(
      `  timeout ${CHECK_TIMEOUT_SECONDS} ${shellCommand([...options.client, ...check.command])} >/tmp/check.out 2>&1 || return 1`,
    );
    for (const pattern of check.present) {
      lines.push(`  grep -Eq ${shellQuote(pattern)} /tmp/check.out || return 1`);
    }
    for (const pattern of check.absent) {
      lines.push(`  if grep -Eq ${shellQuote(pattern)} /tmp/check.out; then return 1; fi`);
    }
    lines.push('  return 0');
    lines.push('}');
  };
  options.waitFor.forEach((condition, i) => {
    renderCheck(`precondition_${i + 1}`, condition);
    lines.push(`wait_for precondition_${i + 1} ${shellQuote(condition.description)}`);
  });
  if (options.skipIf) {
    renderCheck('already_done', options.skipIf);
    lines.push('if already_done; then');
    lines.push(`  echo ${shellQuote(`already done (${options.skipIf.description}): nothing to do`)}`);
    lines.push('  exit 0');
    lines.push('fi');
  }
  for (const command of options.commands) {
    const rendered = shellCommand(command);
    lines.push(`echo ${shellQuote(`+ ${rendered}`)}`);
    lines.push(`${rendered} || { echo ${shellQuote(`FAILED: ${command.slice(2).join(' ')}`.slice(0, 200))} >&2; exit 1; }`);
  }
  lines.push('echo "done"');
  return lines.join('\n') + '\n';
}

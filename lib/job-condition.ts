import { Duration } from 'cdk8s';
import { VitessRelease } from './release';

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
 * Options every command Job takes (VtctlJob, VtworkerJob): what it waits for before it acts, what
 * means its work is already done, and how long it waits and is kept.
 */
export interface CommandJobOptions {
  /**
   * Conditions to wait for, in order, before the Job acts.
   * @default - only that vtctld answers
   */
  readonly waitFor?: readonly JobCondition[];
  /**
   * A condition that means the Job's work is already done: when it holds (checked after the
   * waits), the Job succeeds without acting, so applying it again does no harm.
   * @default - the Job always acts
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
   * How long a finished Job is kept before Kubernetes deletes it.
   * @default Duration.days(1)
   */
  readonly ttlAfterFinished?: Duration;
}

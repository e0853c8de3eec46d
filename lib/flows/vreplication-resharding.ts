import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import type { TabletShard } from '../constructs/tablet-shard';
import type { IVtctld } from '../interfaces';
import { keyspaceObjectName, shardLabel } from '../internal/names';
import { JobCondition, ServedType } from '../jobs/job-condition';
import { VtctlJob } from '../jobs/vtctl-job';
import { VtctlClient } from '../release';
import { validateReshardingShards } from './resharding';

/**
 * Props of {@link VReplicationResharding}.
 */
export interface VReplicationReshardingProps {
  /** The cluster's vtctld; its release must use vtctldclient (Vitess v15 and later). */
  readonly vtctld: IVtctld;
  /** The shard to split, e.g. `test_keyspace/0`. */
  readonly source: TabletShard;
  /**
   * The new shards, e.g. `-80` and `80-`: in the source's keyspace and cell, covering exactly its
   * key range. Their tablets and primaries must exist before the workflow is created.
   */
  readonly targets: readonly TabletShard[];
  /**
   * The same shards' tablets in the keyspace's other cells, one entry per cell: the source shard's
   * and the targets' there. Every serving-graph check then holds only when it holds in every cell,
   * and the source shard is deleted only once its tablets in every cell are gone.
   * @default - the keyspace has tablets in the source's cell only
   */
  readonly otherCells?: readonly ReshardingCell[];
  /**
   * The VReplication workflow name.
   * @default reshard
   */
  readonly workflow?: string;
  /**
   * How long each Job waits for the phases before it.
   * @default Duration.minutes(10)
   */
  readonly waitTimeout?: Duration;
  /**
   * How long the create Job waits for the copy phase to finish, and the VDiff Job for the VDiff.
   * @default Duration.hours(24)
   */
  readonly copyTimeout?: Duration;
  /**
   * How long each rollback Job waits for its preconditions, states that already hold when a rollback
   * makes sense.
   * @default Duration.minutes(1)
   */
  readonly rollbackWaitTimeout?: Duration;
}

/** The source and target shards' tablets in one more cell ({@link VReplicationReshardingProps.otherCells}). */
export interface ReshardingCell {
  /** The source shard's tablets in this cell. */
  readonly source: TabletShard;
  /** The target shards' tablets in this cell, one TabletShard per target shard. */
  readonly targets: readonly TabletShard[];
}

/**
 * Horizontal resharding with VReplication (Vitess v15 and later, through vtctldclient), one method
 * per phase, each creating that phase's Job in the scope you give it (one chart, so one YAML file,
 * per phase):
 *
 * 1. {@link createJob}: `Reshard create --source-shards=<source> --target-shards=<targets>`, then
 *    waits until the copy phase is done;
 * 2. {@link vdiffJob}: `VDiff create`, then waits for it to finish and fails when it found
 *    differences;
 * 3. {@link switchTrafficJob}: `switchtraffic --tablet-types=rdonly,replica`, then
 *    `--tablet-types=primary`;
 * 4. {@link completeJob}: `complete`, which also deletes the source shard and its tablets' records:
 *    delete the source's tablets (their StatefulSets) right after it;
 * 5. {@link deleteSourceShardJob}: `DeleteShards --recursive <ks>/<source>`, once the source's
 *    tablets are gone: the clean-up of a source shard that a source tablet, restarted before its
 *    StatefulSet was deleted, has created again.
 *
 * {@link reverseTrafficJob} switches traffic back (`ReverseTraffic`) until the workflow is completed.
 *
 * Every Job first checks whether its work (or a later phase's) is already done and then succeeds
 * without acting; otherwise it waits for the phases before it, checked in the topology, and fails
 * with what is missing. Unlike vtworker's SplitDiff, a VDiff's result is kept by Vitess, so
 * switching traffic checks that the last VDiff completed without differences.
 *
 * The source and targets are in one cell, or more with {@link VReplicationReshardingProps.otherCells}:
 * the serving-graph checks then read every cell's SrvKeyspace (SwitchTraffic switches every cell,
 * its `--cells` default: v22.0.4 `go/cmd/vtctldclient/command/vreplication/common/switchtraffic.go`).
 */
export class VReplicationResharding {
  /** The keyspace. */
  public readonly keyspace: string;
  /** The cell of `source` and `targets`, where the elections and the copy's checks run. */
  public readonly cell: string;
  /** Every cell with tablets of the shards: `cell`, then those of `otherCells`. */
  public readonly cells: readonly string[];
  /** The workflow name. */
  public readonly workflow: string;
  /** The source shard name, e.g. `0`. */
  public readonly sourceShard: string;
  /** The target shard names in key-range order, e.g. `-80`, `80-`. */
  public readonly targetShards: readonly string[];

  private readonly props: VReplicationReshardingProps;

  public constructor(props: VReplicationReshardingProps) {
    const context = 'VReplicationResharding';
    const release = props.vtctld.release;
    if (release.vtctlClient !== VtctlClient.VTCTLDCLIENT) {
      throw new Error(
        `${context}: Vitess ${release.version} has no vtctldclient Reshard workflow for this library; ` +
          'reshard it with vtworker (VtworkerResharding)',
      );
    }
    for (const command of ['Reshard', 'VDiff', 'GetSrvKeyspaces', 'GetWorkflows', 'DeleteShards', 'PingTablet']) {
      release.requireVtctlCommand(command, context);
    }
    const { source } = props;
    const targetShards = validateReshardingShards(context, release, source, props.targets);
    const workflow = props.workflow ?? 'reshard';
    if (!/^[a-z][a-z0-9_]{0,63}$/.test(workflow)) {
      throw new Error(
        `${context}: 'workflow' must start with a lowercase letter followed by up to 63 lowercase letters, digits or '_', got '${workflow}'`,
      );
    }
    const cells = [source.cell];
    (props.otherCells ?? []).forEach((other, i) => {
      const at = `otherCells[${i}]`;
      if (other.source.keyspace !== source.keyspace || other.source.shard !== source.shard) {
        throw new Error(`${context}: '${at}.source' must be shard ${source.keyspaceShard} in another cell, got ${other.source.keyspaceShard}`);
      }
      if (cells.includes(other.source.cell)) {
        throw new Error(`${context}: '${at}.source' is in cell '${other.source.cell}', which has its tablets already; each cell once`);
      }
      const shards = validateReshardingShards(`${context} '${at}'`, release, other.source, other.targets);
      if (shards.join(',') !== targetShards.join(',')) {
        throw new Error(`${context}: '${at}.targets' must be the shards of 'targets' (${targetShards.join(', ')}), got ${shards.join(', ')}`);
      }
      cells.push(other.source.cell);
    });
    this.props = props;
    this.keyspace = source.keyspace;
    this.cell = source.cell;
    this.cells = cells;
    this.workflow = workflow;
    this.sourceShard = source.shard;
    this.targetShards = targetShards;
  }

  /**
   * Phase: `Reshard create`, once the source and every target have a primary; the Job then waits
   * (up to `copyTimeout`) until every stream has copied its tables and is replicating. Skipped when
   * the workflow exists already, or the primary has moved to the targets.
   */
  public createJob(scope: Construct, id: string): VtctlJob {
    const release = this.release;
    return this.job(scope, id, 'create', {
      waitFor: [this.primariesElected()],
      skipIf: JobCondition.anyOf(JobCondition.workflowExists(this.keyspace, this.workflow), this.servedByTargets(ServedType.PRIMARY)),
      commands: [
        this.reshard(
          'create',
          release.commandFlag('source_shards', this.sourceShard),
          release.commandFlag('target_shards', this.targetShards.join(',')),
        ),
      ],
      thenWaitFor: [this.copyDone()],
      thenWaitTimeout: this.props.copyTimeout,
    });
  }

  /**
   * Phase: `VDiff create` once the copy is done; the Job then waits (up to `copyTimeout`) for the
   * VDiff to finish and fails when it did not complete cleanly. Skipped when the last VDiff
   * completed without differences, or the primary has moved to the targets.
   */
  public vdiffJob(scope: Construct, id: string): VtctlJob {
    const release = this.release;
    return this.job(scope, id, 'vdiff', {
      waitFor: [this.copyDone()],
      skipIf: JobCondition.anyOf(this.vdiffClean(), this.servedByTargets(ServedType.PRIMARY)),
      commands: [
        ['VDiff', release.commandFlag('workflow', this.workflow), release.commandFlag('target_keyspace', this.keyspace), 'create'],
      ],
      thenWaitFor: [JobCondition.vdiffFinished(this.keyspace, this.workflow)],
      thenWaitTimeout: this.props.copyTimeout,
      thenVerify: [this.vdiffClean()],
    });
  }

  /**
   * Phase: `SwitchTraffic --tablet-types=<types>`: reads first (`[RDONLY, REPLICA]`), then the
   * primary (`[PRIMARY]`), which Vitess also accepts in one step. Switching reads waits for the copy
   * and a clean VDiff; switching the primary also waits for rdonly and replica to be served by the
   * targets. Skipped when the targets serve every given type already.
   */
  public switchTrafficJob(scope: Construct, id: string, types: readonly ServedType[]): VtctlJob {
    this.validateTypes('switchTrafficJob', types);
    const reads: ServedType[] = [ServedType.RDONLY, ServedType.REPLICA];
    const readsFirst = types.includes(ServedType.PRIMARY) ? reads.filter((t) => !types.includes(t)) : [];
    const waitFor = [...readsFirst.map((t) => this.servedByTargets(t)), this.copyDone(), this.vdiffClean()];
    return this.job(scope, id, `switchtraffic-${this.typeNames(types).join('-')}`, {
      waitFor,
      skipIf: this.all(types.map((t) => this.servedByTargets(t))),
      commands: [this.reshard('switchtraffic', this.release.commandFlag('tablet_types', this.typeNames(types).join(',')))],
    });
  }

  /**
   * Rollback: `ReverseTraffic --tablet-types=<types>` serves the types from the source again, possible
   * until the workflow is completed. Reversing the primary waits for it to be served by the targets;
   * reversing reads waits for them to be served by the targets while the primary is still served by
   * the source (reverse the primary first). Skipped when the source serves every given type.
   */
  public reverseTrafficJob(scope: Construct, id: string, types: readonly ServedType[]): VtctlJob {
    this.validateTypes('reverseTrafficJob', types);
    const waitFor = [JobCondition.workflowExists(this.keyspace, this.workflow), ...types.map((t) => this.servedByTargets(t))];
    if (!types.includes(ServedType.PRIMARY)) {
      waitFor.push(this.servedBySource(ServedType.PRIMARY));
    }
    return this.job(scope, id, `reversetraffic-${this.typeNames(types).join('-')}`, {
      waitFor,
      skipIf: this.all(types.map((t) => this.servedBySource(t))),
      commands: [this.reshard('reversetraffic', this.release.commandFlag('tablet_types', this.typeNames(types).join(',')))],
      waitTimeout: this.props.rollbackWaitTimeout ?? Duration.minutes(1),
    });
  }

  /**
   * Phase: `complete` removes the workflow, once the targets serve rdonly, replica and the primary.
   * Skipped when the workflow is gone and the targets serve the primary.
   *
   * `complete` also drops the source shard: `DeleteShard` with its tablets' records (v22.0.4
   * `go/vt/vtctl/workflow/server.go` 1287, 2256-2276, `traffic_switcher.go` 592-603; Reshard's
   * `complete` has no `--keep-data`, `go/cmd/vtctldclient/command/vreplication/reshard/reshard.go`
   * 59). A source tablet that still runs then finds its record gone and shuts down
   * (`go/vt/vttablet/tabletmanager/tm_state.go` 439, 472); restarted by its pod, it registers again
   * and creates the source shard anew, not serving, where VTOrc may even elect a primary. So delete
   * the source's tablets right after this Job completes (`kubectl delete -f` of their file); the
   * source tablets must still run while it runs, since `complete` also removes the reverse
   * streams on the source's primary.
   */
  public completeJob(scope: Construct, id: string): VtctlJob {
    return this.job(scope, id, 'complete', {
      waitFor: [ServedType.RDONLY, ServedType.REPLICA, ServedType.PRIMARY].map((t) => this.servedByTargets(t)),
      skipIf: JobCondition.allOf(this.servedByTargets(ServedType.PRIMARY), this.workflowGone()),
      commands: [this.reshard('complete')],
    });
  }

  /**
   * Phase: `DeleteShards --recursive <ks>/<source>`, the clean-up after {@link completeJob}:
   * `complete` has deleted the source shard already, but a source tablet restarted before its
   * StatefulSet was deleted creates it again (not serving). This Job deletes such a shard (and its
   * tablets' records) once the workflow is completed, the targets serve the primary, the source
   * serves nothing and its tablets no longer answer (delete their StatefulSets first). PVCs and
   * backups are left alone. Never `--even-if-serving`. Skipped when the shard is gone, which is the
   * usual case.
   */
  public deleteSourceShardJob(scope: Construct, id: string): VtctlJob {
    return new VtctlJob(scope, id, {
      vtctld: this.props.vtctld,
      jobName: `vtctl-deleteshards-${keyspaceObjectName(this.keyspace)}-${shardLabel(this.sourceShard)}`,
      waitFor: [
        this.workflowGone(),
        this.servedByTargets(ServedType.PRIMARY),
        ...this.cells.map((cell) => JobCondition.shardNotServing(cell, this.keyspace, this.sourceShard)),
        JobCondition.tabletsUnreachable([this.props.source, ...(this.props.otherCells ?? []).map((c) => c.source)].flatMap((s) => s.aliases)),
      ],
      skipIf: JobCondition.shardDeleted(this.keyspace, this.sourceShard),
      commands: [['DeleteShards', this.release.commandFlag('recursive'), `${this.keyspace}/${this.sourceShard}`]],
      waitTimeout: this.props.waitTimeout,
    });
  }

  private get release() {
    return this.props.vtctld.release;
  }

  /** A Job named `vtctl-<keyspace>-<workflow>-<action>`, e.g. `vtctl-test-keyspace-reshard-create`. */
  private job(
    scope: Construct,
    id: string,
    action: string,
    options: Omit<ConstructorParameters<typeof VtctlJob>[2], 'vtctld' | 'jobName'>,
  ): VtctlJob {
    return new VtctlJob(scope, id, {
      vtctld: this.props.vtctld,
      jobName: `vtctl-${keyspaceObjectName(this.keyspace)}-${this.workflow.replace(/_/g, '-')}-${action}`,
      waitTimeout: this.props.waitTimeout,
      ...options,
    });
  }

  /** `Reshard --workflow=<wf> --target-keyspace=<ks> <action> <flags...>`. */
  private reshard(action: string, ...flags: string[]): string[] {
    return [
      'Reshard',
      this.release.commandFlag('workflow', this.workflow),
      this.release.commandFlag('target_keyspace', this.keyspace),
      action,
      ...flags,
    ];
  }

  private validateTypes(method: string, types: readonly ServedType[]): void {
    if (types.length === 0 || new Set(types).size !== types.length) {
      throw new Error(
        `VReplicationResharding.${method}: 'types' must name each of rdonly, replica and primary at most once, and at least one, got [${types.join(', ')}]`,
      );
    }
  }

  private typeNames(types: readonly ServedType[]): string[] {
    return [ServedType.RDONLY, ServedType.REPLICA, ServedType.PRIMARY].filter((t) => types.includes(t));
  }

  private all(conditions: JobCondition[]): JobCondition {
    return conditions.length === 1 ? conditions[0] : JobCondition.allOf(...conditions);
  }

  private primariesElected(): JobCondition {
    return JobCondition.allOf(
      ...[this.sourceShard, ...this.targetShards].map((shard) => JobCondition.shardHasPrimary(this.keyspace, shard)),
    );
  }

  private copyDone(): JobCondition {
    return JobCondition.reshardCopyDone(this.keyspace, this.workflow);
  }

  private vdiffClean(): JobCondition {
    return JobCondition.vdiffClean(this.keyspace, this.workflow);
  }

  private workflowGone(): JobCondition {
    return JobCondition.workflowCompleted(this.keyspace, this.workflow);
  }

  /** In every cell's serving graph, the targets serve the type. */
  private servedByTargets(type: ServedType): JobCondition {
    return this.all(this.cells.map((cell) => JobCondition.servedBy(cell, this.keyspace, type, this.targetShards)));
  }

  /** In every cell's serving graph, the source serves the type. */
  private servedBySource(type: ServedType): JobCondition {
    return this.all(this.cells.map((cell) => JobCondition.servedBy(cell, this.keyspace, type, [this.sourceShard])));
  }
}

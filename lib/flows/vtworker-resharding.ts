import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { k8s } from '../../imports/k8s';
import type { TabletShard } from '../constructs/tablet-shard';
import type { ITopologyServer, IVtctld } from '../interfaces';
import { claimObjectName, clusterLabels, inCluster, keyspaceObjectName, shardLabel, validateObjectName } from '../internal/names';
import { APP_LABEL } from '../internal/pod';
import { JobCondition, ServedType } from '../jobs/job-condition';
import { OUTCOME_SUCCEEDED, createConfigMapAccount } from '../jobs/job-script';
import { VtctlJob } from '../jobs/vtctl-job';
import { VtworkerJob } from '../jobs/vtworker-job';
import { validateReshardingShards } from './resharding';

/**
 * Props of {@link VtworkerResharding}.
 */
export interface VtworkerReshardingProps {
  /** The cluster's vtctld; its release must ship vtworker (Vitess before v15). */
  readonly vtctld: IVtctld;
  /**
   * The global topology, which vtworker reads: its {@link EtcdCell}, or
   * {@link TopologyServer.fromAddress} for an etcd cluster that the library does not run.
   */
  readonly globalTopology: ITopologyServer;
  /** The shard to split, e.g. `test_keyspace/0`. */
  readonly source: TabletShard;
  /**
   * The new shards, e.g. `-80` and `80-`: in the source's keyspace and cell, covering exactly its
   * key range. Their tablets must exist (and have a primary) before the copy phases run.
   */
  readonly targets: readonly TabletShard[];
  /**
   * How many healthy rdonly tablets vtworker needs in each shard it reads
   * (`-min_healthy_rdonly_tablets`).
   * @default 2
   */
  readonly minHealthyRdonlyTablets?: number;
  /**
   * How long each forward Job waits for the previous phases before it fails.
   * @default Duration.minutes(10)
   */
  readonly waitTimeout?: Duration;
  /**
   * How long each rollback Job waits for its preconditions before it fails. They are states that
   * already hold when a rollback makes sense, so the wait is short.
   * @default Duration.minutes(1)
   */
  readonly rollbackWaitTimeout?: Duration;
}

/**
 * The guide's horizontal resharding with vtworker (Vitess before v15), one method per phase, each
 * creating that phase's Jobs in the scope you give it (typically one chart, so one YAML file, per
 * phase):
 *
 * 1. {@link copySchemaJob}: `CopySchemaShard` from the source to each target;
 * 2. {@link splitCloneJob}: vtworker `SplitClone <ks>/<source>`;
 * 3. {@link splitDiffJob}: vtworker `SplitDiff <ks>/<target>` for each target, one after the other;
 * 4. {@link migrateServedTypeJob}: `MigrateServedTypes <ks>/<source> rdonly`, then `replica`, then
 *    the primary (`master`);
 * 5. {@link deleteSourceShardJob}: `DeleteShard -recursive <ks>/<source>`, once the source's tablets
 *    are gone.
 *
 * {@link reverseServedTypeJob} rolls a served-type migration back (`MigrateServedTypes -reverse`),
 * possible until the primary has moved.
 *
 * Every Job first checks in the topology that the phases before it are done, waiting up to
 * `waitTimeout` and then failing with what is missing, and succeeds without acting when its own work
 * (or a later phase) is already done, so applying a phase again does no harm. SplitDiff leaves no
 * trace in the topology, so its Job records its outcome in a ConfigMap of its own
 * ({@link splitDiffResultConfigMap}), which migrating rdonly waits for: serving rdonly from shards
 * that SplitDiff has not found equal to the source cannot happen by applying the files at once.
 *
 * All shards must be in one cell: the serving-graph checks read that cell's SrvKeyspace.
 */
export class VtworkerResharding {
  /** The keyspace. */
  public readonly keyspace: string;
  /** The cell of the source and target tablets. */
  public readonly cell: string;
  /** The source shard name, e.g. `0`. */
  public readonly sourceShard: string;
  /** The target shard names in key-range order, e.g. `-80`, `80-`. */
  public readonly targetShards: readonly string[];

  private readonly props: VtworkerReshardingProps;
  private readonly targets: readonly TabletShard[];

  public constructor(props: VtworkerReshardingProps) {
    const release = props.vtctld.release;
    const context = 'VtworkerResharding';
    release.requireVtworkerCommand('SplitClone', context);
    release.requireVtworkerCommand('SplitDiff', context);
    for (const command of ['CopySchemaShard', 'MigrateServedTypes', 'DeleteShard', 'GetSrvKeyspace', 'Ping']) {
      release.requireVtctlCommand(command, context);
    }
    const { source } = props;
    const targetShards = validateReshardingShards(context, release, source, props.targets);
    const minHealthy = props.minHealthyRdonlyTablets ?? 2;
    for (const shard of [source, ...props.targets]) {
      if (shard.rdonlyAliases.length < minHealthy) {
        throw new Error(
          `${context}: shard ${shard.keyspaceShard} has ${shard.rdonlyAliases.length} rdonly tablets, but vtworker ` +
            `needs ${minHealthy} healthy ones ('minHealthyRdonlyTablets') in the source and in every target`,
        );
      }
    }
    this.props = props;
    this.keyspace = source.keyspace;
    this.cell = source.cell;
    this.sourceShard = source.shard;
    this.targets = targetShards.map((name) => props.targets.find((t) => t.shard === name)!);
    this.targetShards = targetShards;
  }

  /**
   * Phase: copy the source's schema to each target (`CopySchemaShard <ks>/<source> <ks>/<target>`),
   * once the source and every target have a primary. Skipped when every shard of the keyspace
   * already has the same schema; CopySchemaShard itself does nothing when the target's schema
   * already matches.
   */
  public copySchemaJob(scope: Construct, id: string): VtctlJob {
    return new VtctlJob(scope, id, {
      vtctld: this.props.vtctld,
      jobName: `vtctl-copyschemashard-${this.objectName}`,
      waitFor: [this.primariesElected()],
      skipIf: JobCondition.schemaConsistent(this.keyspace),
      commands: this.targetShards.map((target) => [
        'CopySchemaShard',
        `${this.keyspace}/${this.sourceShard}`,
        `${this.keyspace}/${target}`,
      ]),
      waitTimeout: this.props.waitTimeout,
    });
  }

  /**
   * Phase: vtworker `SplitClone <ks>/<source>` copies the data and sets up filtered replication,
   * once every target has a primary and the source's schema, and the rdonly tablets it reads are
   * serving as rdonly. Skipped when filtered replication into every target is already set up, or
   * the primary has already moved (running SplitClone again would overwrite rows written since).
   */
  public splitCloneJob(scope: Construct, id: string): VtworkerJob {
    return new VtworkerJob(scope, id, {
      vtctld: this.props.vtctld,
      globalTopology: this.props.globalTopology,
      cell: this.cell,
      command: 'SplitClone',
      keyspace: this.keyspace,
      shards: [this.sourceShard],
      minHealthyRdonlyTablets: this.props.minHealthyRdonlyTablets,
      waitFor: [this.primariesElected(), JobCondition.schemaConsistent(this.keyspace), this.rdonlyTabletsServing()],
      skipIf: JobCondition.anyOf(this.filteredReplicationEverywhere(), this.servedByTargets(ServedType.PRIMARY)),
      waitTimeout: this.props.waitTimeout,
    });
  }

  /**
   * Phase: vtworker `SplitDiff <ks>/<target>` for each target, one after the other (two at once
   * would each take a source rdonly tablet out of serving), once SplitClone has set up filtered
   * replication into every target and the rdonly tablets are serving as rdonly. Skipped when the
   * primary has already moved (there is nothing left to compare against). SplitDiff only reads, so
   * running it again before that does no harm.
   *
   * vtworker exits with status 1 when a table differs (v9.0.0 `go/vt/worker/split_diff.go`
   * 560-575, `go/cmd/vtworker/vtworker.go` 101-116). The Job records `result: running` in the
   * ConfigMap {@link splitDiffResultConfigMap} before the first run and `result: succeeded` after
   * the last, through the Kubernetes API with a service account that may get and patch that one
   * ConfigMap (a ServiceAccount, Role and RoleBinding named after the Job; the ConfigMap is created
   * here too, without data, so that applying the file again keeps the result).
   */
  public splitDiffJob(scope: Construct, id: string): VtworkerJob {
    const configMap = this.splitDiffResultConfigMap;
    const jobName = `vtworker-splitdiff-${this.objectName}-${this.targetShards.map(shardLabel).join('-')}`;
    claimObjectName(scope, 'VtworkerResharding.splitDiffJob', 'ConfigMap', configMap);
    new k8s.KubeConfigMap(scope, `${id}Result`, {
      metadata: { name: configMap, labels: { ...APP_LABEL, component: 'splitdiff-result', ...clusterLabels(this.props.vtctld.clusterName) } },
    });
    const account = new Construct(scope, `${id}Account`);
    const serviceAccountName = createConfigMapAccount(account, 'VtworkerResharding.splitDiffJob', this.props.vtctld, jobName, 'vtworker', configMap, ['get', 'patch']);
    return new VtworkerJob(scope, id, {
      jobName,
      serviceAccountName,
      recordOutcome: { configMap, key: SPLIT_DIFF_RESULT_KEY },
      vtctld: this.props.vtctld,
      globalTopology: this.props.globalTopology,
      cell: this.cell,
      command: 'SplitDiff',
      keyspace: this.keyspace,
      shards: this.targetShards,
      minHealthyRdonlyTablets: this.props.minHealthyRdonlyTablets,
      waitFor: [this.filteredReplicationEverywhere(), this.rdonlyTabletsServing()],
      skipIf: this.servedByTargets(ServedType.PRIMARY),
      waitTimeout: this.props.waitTimeout,
    });
  }

  /**
   * The ConfigMap in which the SplitDiff Job records its result (`result: running`, then
   * `result: succeeded`), e.g. `vtworker-splitdiff-test-keyspace-0-result`.
   */
  public get splitDiffResultConfigMap(): string {
    const name = inCluster(this.props.vtctld.clusterName, `vtworker-splitdiff-${this.sourceObjectName}-result`);
    validateObjectName('VtworkerResharding', 'keyspace and source shard (in the SplitDiff result ConfigMap name)', name);
    return name;
  }

  /**
   * Phase: `MigrateServedTypes <ks>/<source> <type>`, in the order rdonly, replica, primary:
   * - rdonly waits for filtered replication into every target (SplitClone has finished) and for the
   *   SplitDiff Job's recorded success (read with a service account that may only get that
   *   ConfigMap: a ServiceAccount, Role and RoleBinding named after the Job);
   * - replica waits for rdonly to be served by the targets;
   * - the primary waits for rdonly and replica to be served by the targets (and filtered
   *   replication, which it needs to catch up the targets).
   * Skipped when the type is already served by the targets.
   */
  public migrateServedTypeJob(scope: Construct, id: string, type: ServedType): VtctlJob {
    const waitFor: JobCondition[] = {
      [ServedType.RDONLY]: [this.filteredReplicationEverywhere()],
      [ServedType.REPLICA]: [this.servedByTargets(ServedType.RDONLY)],
      [ServedType.PRIMARY]: [
        this.servedByTargets(ServedType.RDONLY),
        this.servedByTargets(ServedType.REPLICA),
        this.filteredReplicationEverywhere(),
      ],
    }[type];
    const typeName = this.typeName(type);
    const jobName = `vtctl-migrateservedtypes-${this.sourceObjectName}-${typeName}`;
    let serviceAccountName: string | undefined;
    if (type === ServedType.RDONLY) {
      const configMap = this.splitDiffResultConfigMap;
      waitFor.push(JobCondition.configMapValue(configMap, SPLIT_DIFF_RESULT_KEY, OUTCOME_SUCCEEDED));
      const account = new Construct(scope, `${id}Account`);
      serviceAccountName = createConfigMapAccount(account, `VtctlJob ${jobName}`, this.props.vtctld, jobName, 'vtctl-job', configMap, ['get']);
    }
    return new VtctlJob(scope, id, {
      vtctld: this.props.vtctld,
      jobName,
      serviceAccountName,
      waitFor,
      skipIf: this.servedByTargets(type),
      commands: [['MigrateServedTypes', `${this.keyspace}/${this.sourceShard}`, typeName]],
      waitTimeout: this.props.waitTimeout,
    });
  }

  /**
   * Rollback: `MigrateServedTypes -reverse <ks>/<source> <type>` serves rdonly or replica from the
   * source shard again. It waits (for `rollbackWaitTimeout`) until the type is served by the
   * targets while the primary is still served by the source: once the primary has moved, this
   * rollback is no longer possible. Skipped when the source already serves the type.
   */
  public reverseServedTypeJob(scope: Construct, id: string, type: ServedType): VtctlJob {
    if (type === ServedType.PRIMARY) {
      throw new Error(
        `VtworkerResharding.reverseServedTypeJob: 'type' must be rdonly or replica, got '${type}': ` +
          'the guide does not set up reverse replication, so the primary cannot move back',
      );
    }
    const typeName = this.typeName(type);
    return new VtctlJob(scope, id, {
      vtctld: this.props.vtctld,
      jobName: `vtctl-reverseservedtypes-${this.sourceObjectName}-${typeName}`,
      waitFor: [
        this.servedByTargets(type),
        JobCondition.servedBy(this.cell, this.keyspace, ServedType.PRIMARY, [this.sourceShard]),
      ],
      skipIf: JobCondition.servedBy(this.cell, this.keyspace, type, [this.sourceShard]),
      commands: [
        ['MigrateServedTypes', this.props.vtctld.release.commandFlag('reverse'), `${this.keyspace}/${this.sourceShard}`, typeName],
      ],
      waitTimeout: this.props.rollbackWaitTimeout ?? Duration.minutes(1),
    });
  }

  /**
   * Phase: `DeleteShard -recursive <ks>/<source>` removes the source shard's records (and its
   * tablets' records), once the primary is served by the targets, the source serves nothing, and
   * its tablets no longer answer (delete their StatefulSets first). PVCs and backups are left
   * alone. Never `-even_if_serving`. Skipped when the targets serve the primary and the source
   * shard is gone (not when it is only missing: before its first tablet registers it is missing
   * too), so applying this again does no harm.
   */
  public deleteSourceShardJob(scope: Construct, id: string): VtctlJob {
    return new VtctlJob(scope, id, {
      vtctld: this.props.vtctld,
      jobName: `vtctl-deleteshard-${this.sourceObjectName}`,
      waitFor: [
        this.servedByTargets(ServedType.PRIMARY),
        JobCondition.shardNotServing(this.cell, this.keyspace, this.sourceShard),
        JobCondition.tabletsUnreachable(this.props.source.aliases),
      ],
      skipIf: JobCondition.allOf(this.servedByTargets(ServedType.PRIMARY), JobCondition.shardDeleted(this.keyspace, this.sourceShard)),
      commands: [['DeleteShard', this.props.vtctld.release.commandFlag('recursive'), `${this.keyspace}/${this.sourceShard}`]],
      waitTimeout: this.props.waitTimeout,
    });
  }

  /** `<keyspace>-<source shard>` for Job names, e.g. `test-keyspace-0`. */
  private get sourceObjectName(): string {
    return `${keyspaceObjectName(this.keyspace)}-${shardLabel(this.sourceShard)}`;
  }

  /** `<keyspace>` for the Jobs of the whole resharding, e.g. `test-keyspace`. */
  private get objectName(): string {
    return keyspaceObjectName(this.keyspace);
  }

  private typeName(type: ServedType): string {
    return type === ServedType.PRIMARY ? this.props.vtctld.release.primaryTypeName : type;
  }

  private primariesElected(): JobCondition {
    return JobCondition.allOf(
      ...[this.sourceShard, ...this.targetShards].map((shard) => JobCondition.shardHasPrimary(this.keyspace, shard)),
    );
  }

  private filteredReplicationEverywhere(): JobCondition {
    return JobCondition.allOf(
      ...this.targetShards.map((shard) => JobCondition.filteredReplicationEnabled(this.keyspace, shard)),
    );
  }

  private rdonlyTabletsServing(): JobCondition {
    const aliases = [this.props.source, ...this.targets].flatMap((shard) => shard.rdonlyAliases);
    return JobCondition.tabletsOfType(this.cell, aliases, 'rdonly');
  }

  private servedByTargets(type: ServedType): JobCondition {
    return JobCondition.servedBy(this.cell, this.keyspace, type, this.targetShards);
  }
}

/** The key of the SplitDiff result ConfigMap. */
const SPLIT_DIFF_RESULT_KEY = 'result';

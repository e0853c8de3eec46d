import { Duration } from 'cdk8s';
import type { BackupStorage } from '../backup-storage';
import { validateCellName, validateDataKey, validateKeyspaceName, validateShardName, validateSubdomainName } from '../internal/names';
import { VitessRelease, VtctlClient } from '../release';

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
    validateTabletAliases('tabletsRegistered', cell, aliases);
    return new JobCondition(`tablets ${aliases.join(', ')} registered in cell '${cell}'`, (release) => ({
      command: listTablets(release, cell),
      present: aliases.map((alias) => `^${alias} `),
      absent: [],
    }));
  }

  /**
   * Every one of the tablets can take part in a reparent: vtctld reaches its tablet manager
   * (`Ping` / `PingTablet`), and its record reports the MySQL port that vttablet found once mysqld
   * answered. A tablet registers before that: its record carries MySQL port 0 (`<host>:0` in the
   * 6th column of `ListAllTablets` / `GetTablets`) until mysqld is up, and its gRPC port listens
   * only later still (v9.0.0 `go/vt/vttablet/tabletmanager/tm_init.go` 514-553, v22.0.4 733-779).
   * An election that starts earlier fails on that tablet: InitShardMaster resets replication on
   * every tablet (v9.0.0 `go/vt/wrangler/reparent.go` 218-227), PlannedReparentShard asks every
   * tablet for its status variables (v22.0.4 `go/vt/vtctl/reparentutil/planned_reparenter.go`
   * 539, 745-770).
   */
  public static tabletsReady(cell: string, aliases: readonly string[]): JobCondition {
    validateTabletAliases('tabletsReady', cell, aliases);
    return new JobCondition(`tablets ${aliases.join(', ')} answer and report their MySQL port in cell '${cell}'`, (release) => ({
      all: [
        {
          command: listTablets(release, cell),
          // <alias> <keyspace> <shard> <type> <host:port> <mysql host:port> <tags> <term start>
          present: aliases.map((alias) => `^${alias} [^ ]+ [^ ]+ [^ ]+ [^ ]+ [^ ]*:[1-9][0-9]* `),
          absent: [],
        },
        ...aliases.map((alias) => ({
          command: [release.vtctlClient === VtctlClient.VTCTLDCLIENT ? 'PingTablet' : 'Ping', alias],
          present: [],
          absent: [],
        })),
      ],
    }));
  }

  /**
   * The shard has a primary (master) tablet in the topology.
   */
  public static shardHasPrimary(keyspace: string, shard: string): JobCondition {
    return new JobCondition(`shard ${keyspace}/${shard} has a primary`, (release) => {
      // vtctldclient prints protobuf JSON, which may put two spaces after a colon.
      const modern = release.vtctlClient === VtctlClient.VTCTLDCLIENT;
      return {
        command: ['GetShard', `${keyspace}/${shard}`],
        present: [`"${release.primaryTypeName}_alias":${modern ? '' : ' '}\\{`],
        absent: [],
        ...(modern ? { ignoreWhitespace: true } : {}),
      };
    });
  }

  /**
   * Every one of the tablets has a row in `_vt.reparent_journal`: it has replicated an election
   * from a primary. InitShardMaster creates the table on the primary-elect only, writes a row
   * there and succeeds only once every replica has read that row through replication (v9.0.0
   * `go/vt/vttablet/tabletmanager/rpc_replication.go` 222-258, 261-320;
   * `go/vt/wrangler/reparent.go` 246-320; `go/vt/mysqlctl/reparent.go` 42-72). It records the
   * primary in the shard before the replicas have the row (reparent.go 303-311), so a shard that
   * has a primary can still have replicas that never replicated; a replica without the table
   * fails this check (`ExecuteFetchAsDba` fails). vtctl prints the result as JSON with the count
   * unquoted (v9.0.0 `go/vt/vtctl/vtctl.go` 1172-1200, 3562-3600; `go/sqltypes/result.go` 28-34;
   * `go/sqltypes/value.go` 346-354). vtctlclient only (releases with InitShardMaster).
   */
  public static reparentJournalReplicated(cell: string, aliases: readonly string[]): JobCondition {
    validateTabletAliases('reparentJournalReplicated', cell, aliases);
    return new JobCondition(`tablets ${aliases.join(', ')} have replicated an election (a row in _vt.reparent_journal)`, (release) => ({
      all: aliases.map((alias) => ({
        command: ['ExecuteFetchAsDba', release.commandFlag('json'), alias, 'SELECT COUNT(*) FROM _vt.reparent_journal'],
        present: ['"rows":\\[\\[[1-9][0-9]*\\]\\]'],
        absent: [],
        ignoreWhitespace: true,
      })),
    }));
  }

  /**
   * The tablet's schema has the table.
   */
  public static tableExists(tabletAlias: string, table: string): JobCondition {
    return new JobCondition(`table '${table}' exists on tablet ${tabletAlias}`, (release) => ({
      command: ['GetSchema', release.commandFlag('table_names_only'), tabletAlias],
      present: [`^${table}$`],
      absent: [],
    }));
  }

  /**
   * The shard has at least one complete backup in the file backup storage: a backup directory
   * `<root>/<keyspace>/<shard>/<backup name>/` holding its `MANIFEST`, which Vitess writes last.
   * Listing backups (`ListBackups`, `GetBackups`) is not enough: file backup storage creates the
   * directory when a backup starts (v9.0.0 `go/vt/mysqlctl/filebackupstorage/file.go` 143-154) and
   * lists every directory (113-130), so a running or aborted backup is listed too, while a restore
   * takes only a backup with a `MANIFEST` (v9.0.0 `go/vt/mysqlctl/backupengine.go` 159, 205-210;
   * v22.0.4 `go/vt/mysqlctl/backup.go` 55, 79). The Job mounts the storage's volume, read-only, to
   * look. File storage only: a Job cannot look into an object store (S3, GCS, Azure Blob), and
   * Vitess tells no client whether a backup there is complete (see {@link backupListed}).
   */
  public static backupComplete(keyspace: string, shard: string, storage: BackupStorage): JobCondition {
    validateShardName('JobCondition.backupComplete', 'shard', shard);
    const mountPath = storage.mountPath;
    if (mountPath === undefined) {
      throw new Error(
        `JobCondition.backupComplete: ${storage._context} keeps backups in an object store, where a Job cannot look for a MANIFEST; ` +
          'use JobCondition.backupListed, which asks vtctld',
      );
    }
    return new JobCondition(`a complete backup of ${keyspace}/${shard} (with its MANIFEST) exists`, () => ({
      storage,
      directory: `${mountPath}/${keyspace}/${shard}`,
    }));
  }

  /**
   * vtctld lists at least one backup of the shard (`ListBackups` / `GetBackups`, one name
   * `<YYYY-MM-DD.HHMMSS>.<tablet alias>` a line: v9.0.0 `go/vt/vtctl/backup.go` 172-199,
   * `go/vt/mysqlctl/backup.go` 50 and 94; v22.0.4 `go/cmd/vtctldclient/command/backups.go`
   * 176-211). Any backup storage, through vtctld's own flags and credentials, so the Job needs
   * neither.
   *
   * Weaker than {@link backupComplete}: a backup is listed from its first object on, while it is
   * running, and Vitess lists a backup without reading its MANIFEST in every release (v22.0.4
   * `go/vt/vtctl/grpcvtctldserver/server.go` 1502-1570: `GetBackups --detailed` reads nothing yet).
   * A backup that Vitess finds unusable is removed (`AbortBackup`, v9.0.0 `go/vt/mysqlctl/backup.go`
   * 111-120, v22.0.4 177-191; `RemoveBackup` in the S3 storage, `s3.go` 267-272 at v0.22.4), so
   * what stays listed is complete, running, or left by a tablet that was killed while it took it.
   */
  public static backupListed(keyspace: string, shard: string): JobCondition {
    validateKeyspaceName('JobCondition.backupListed', 'keyspace', keyspace);
    validateShardName('JobCondition.backupListed', 'shard', shard);
    return new JobCondition(`a backup of ${keyspace}/${shard} is listed`, (release) => ({
      command: [release.vtctlClient === VtctlClient.VTCTLDCLIENT ? 'GetBackups' : 'ListBackups', `${keyspace}/${shard}`],
      present: ['^[0-9]{4}-[0-9]{2}-[0-9]{2}\\.[0-9]{6}\\.[a-z0-9]+-[0-9]+$'],
      absent: [],
    }));
  }

  /**
   * The keyspace has the durability policy (`semi_sync`, `none`, ...), which VTOrc needs before it
   * manages the keyspace's shards. vtctldclient only (Vitess v15 and later).
   */
  public static keyspaceDurability(keyspace: string, policy: string): JobCondition {
    if (!/^[a-z_]+$/.test(policy)) {
      throw new Error(`JobCondition.keyspaceDurability: 'policy' must be a durability policy such as 'semi_sync', got '${policy}'`);
    }
    return new JobCondition(`keyspace '${keyspace}' has durability policy '${policy}'`, () => ({
      command: ['GetKeyspace', keyspace],
      present: [`"durability_policy":"${policy}"`],
      absent: [],
      ignoreWhitespace: true,
    }));
  }

  /**
   * The keyspace has a durability policy, whichever. A keyspace that the first tablet created has
   * none, and PlannedReparentShard then takes it as `none`, electing a primary without semi-sync
   * (v22.0.4 `go/vt/topo/keyspace.go` 128-139, `go/vt/vtctl/reparentutil/planned_reparenter.go`
   * 519-528). vtctldclient prints every field, so an unset policy is printed as `""` (v22.0.4
   * `go/cmd/vtctldclient/cli/json.go` 32-38). vtctldclient only (Vitess v15 and later).
   */
  public static keyspaceDurabilitySet(keyspace: string): JobCondition {
    return new JobCondition(`keyspace '${keyspace}' has a durability policy`, () => ({
      command: ['GetKeyspace', keyspace],
      present: ['"durability_policy":"[a-z_]+"'],
      absent: [],
      ignoreWhitespace: true,
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
   * Every one of the tablets is registered in its cell with the given type, e.g. `rdonly` (a
   * vtworker that was killed leaves its tablets `drained`).
   */
  public static tabletsOfType(cell: string, aliases: readonly string[], type: string): JobCondition {
    validateTabletAliases('tabletsOfType', cell, aliases);
    if (!/^[a-z]+$/.test(type)) {
      throw new Error(`JobCondition.tabletsOfType: 'type' must be a tablet type such as 'rdonly', got '${type}'`);
    }
    return new JobCondition(`tablets ${aliases.join(', ')} are ${type} in cell '${cell}'`, (release) => ({
      command: listTablets(release, cell),
      present: aliases.map((alias) => `^${alias} [^ ]+ [^ ]+ ${type} `),
      absent: [],
    }));
  }

  /**
   * None of the tablets answers vtctld (their pods are gone), while vtctld itself answers.
   */
  public static tabletsUnreachable(aliases: readonly string[]): JobCondition {
    if (aliases.length === 0) {
      throw new Error("JobCondition.tabletsUnreachable: 'aliases' must name at least one tablet, got none");
    }
    return new JobCondition(`tablets ${aliases.join(', ')} no longer answer`, (release) => ({
      all: [
        { command: ['GetCellInfoNames'], present: [], absent: [] },
        ...aliases.map((alias) => ({
          command: [release.vtctlClient === VtctlClient.VTCTLDCLIENT ? 'PingTablet' : 'Ping', alias],
          present: [],
          absent: [],
          commandFails: true,
        })),
      ],
    }));
  }

  /**
   * Every tablet of every shard of the keyspace has the same schema as the first shard's primary
   * (`ValidateSchemaKeyspace` succeeds): after CopySchemaShard, the new shards have the schema.
   */
  public static schemaConsistent(keyspace: string): JobCondition {
    return new JobCondition(`every shard of keyspace '${keyspace}' has the same schema`, () => ({
      command: ['ValidateSchemaKeyspace', keyspace],
      present: [],
      absent: [],
    }));
  }

  /**
   * The shard's record has source shards: filtered replication into it is set up, which vtworker
   * SplitClone does when its copy has succeeded (and MigrateServedTypes for the primary undoes).
   */
  public static filteredReplicationEnabled(keyspace: string, shard: string): JobCondition {
    return new JobCondition(`shard ${keyspace}/${shard} has filtered replication from its source shards`, () => ({
      command: ['GetShard', `${keyspace}/${shard}`],
      present: ['"source_shards":\\[\\{'],
      absent: [],
      ignoreWhitespace: true,
    }));
  }

  /**
   * In the cell's serving graph (SrvKeyspace), the keyspace serves the tablet type from exactly the
   * given shards.
   */
  public static servedBy(cell: string, keyspace: string, type: ServedType, shards: readonly string[]): JobCondition {
    if (shards.length === 0) {
      throw new Error("JobCondition.servedBy: 'shards' must name at least one shard, got none");
    }
    // vtctl prints every field ("key_range": null); vtctldclient leaves empty ones out.
    const references = shards.map((shard) => `\\{"name":"${shard}"(,"key_range":(null|\\{[^}]*\\}))?\\}`).join(',');
    return new JobCondition(
      `cell '${cell}' serves ${type} of ${keyspace} from ${shards.length === 1 ? 'shard' : 'shards'} ${shards.join(', ')}`,
      (release) => ({
        command: srvKeyspace(release, cell, keyspace),
        present: [`"served_type":${SERVED_TYPE_NUMBERS[type]},"shard_references":\\[${references}\\]`],
        absent: [],
        ignoreWhitespace: true,
      }),
    );
  }

  /**
   * In the cell's serving graph (SrvKeyspace), no tablet type of the keyspace is served from the
   * shard.
   */
  public static shardNotServing(cell: string, keyspace: string, shard: string): JobCondition {
    return new JobCondition(`cell '${cell}' serves nothing of ${keyspace} from shard ${shard}`, (release) => ({
      command: srvKeyspace(release, cell, keyspace),
      present: ['"partitions":'],
      absent: [`"name":"${shard}"`],
      ignoreWhitespace: true,
    }));
  }

  /**
   * The cell's serving VSchema (SrvVSchema, which vtgate routes by) has the keyspace: the VSchema
   * graph has been rebuilt since the keyspace was created (`GetSrvVSchema <cell>`). Vitess rebuilds
   * it itself when the keyspace's first tablet in the cell registers (v9.0.0
   * `go/vt/vttablet/tabletmanager/tm_init.go` 394-411, v24.0.4 626-643) and when a VSchema is
   * applied, so RebuildVSchemaGraph finds it done on a running cluster. Both clients print every
   * field of each keyspace's VSchema, `sharded` first: vtctl with jsonpb (v9.0.0
   * `go/vt/vtctl/vtctl.go` 3273-3286, 3584-3597), vtctldclient with protojson (v24.0.4
   * `go/cmd/vtctldclient/command/serving_graph.go` 143-163, `go/cmd/vtctldclient/cli/json.go`
   * 32-38), so `"<keyspace>": {"sharded": ...` is a keyspace entry and nothing else.
   */
  public static srvVSchemaHasKeyspace(cell: string, keyspace: string): JobCondition {
    validateCellName('JobCondition.srvVSchemaHasKeyspace', 'cell', cell);
    validateKeyspaceName('JobCondition.srvVSchemaHasKeyspace', 'keyspace', keyspace);
    return new JobCondition(`the SrvVSchema of cell '${cell}' has keyspace '${keyspace}'`, () => ({
      command: ['GetSrvVSchema', cell],
      present: [`"${keyspace}":\\{"sharded":(true|false)[,}]`],
      absent: [],
      ignoreWhitespace: true,
    }));
  }

  /**
   * The keyspace's VSchema (`GetVSchema <keyspace>`) is sharded and shards the table by the vindex:
   * the vindex exists with the given type, and the table's first (primary) column vindex is that
   * vindex on the column. vtctl prints the VSchema with jsonpb without defaults and in camelCase
   * (`columnVindexes`; v9.0.0 `go/vt/vtctl/vtctl.go` 3029-3048, `go/json2/marshal.go` 36-45),
   * vtctldclient with protojson, every field and the proto names, the table's empty `type`
   * first (v24.0.4 `go/cmd/vtctldclient/command/vschemas.go` 132-152, `cli/json.go` 32-38;
   * `proto/vschema.proto`). A keyspace's first tablet leaves an empty VSchema (v9.0.0
   * `go/vt/topo/shard.go` 349, v24.0.4 377), which is not sharded.
   */
  public static vschemaShardsTable(keyspace: string, options: ShardedTableOptions): JobCondition {
    const context = 'JobCondition.vschemaShardsTable';
    validateKeyspaceName(context, 'keyspace', keyspace);
    for (const prop of ['table', 'column', 'vindex'] as const) {
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(options[prop])) {
        throw new Error(
          `${context}: '${prop}' must be an identifier of up to 64 letters, digits or '_', not starting with a digit, got '${options[prop]}'`,
        );
      }
    }
    if (!/^[a-z][a-z0-9_]*$/.test(options.vindexType)) {
      throw new Error(
        `${context}: 'vindexType' must be a vindex type such as 'hash' (lowercase letters, digits and '_'), got '${options.vindexType}'`,
      );
    }
    const { table, column, vindex, vindexType } = options;
    return new JobCondition(
      `the VSchema of keyspace '${keyspace}' is sharded and shards '${table}' by vindex '${vindex}' (${vindexType}) on '${column}'`,
      (release) => {
        const modern = release.vtctlClient === VtctlClient.VTCTLDCLIENT;
        const columnVindexes = modern ? '"type":"","column_vindexes"' : '"columnVindexes"';
        return {
          command: ['GetVSchema', keyspace],
          present: [
            '"sharded":true',
            `"${vindex}":\\{"type":"${vindexType}"[,}]`,
            `"${table}":\\{${columnVindexes}:\\[\\{"column":"${column}","name":"${vindex}"[,}]`,
          ],
          absent: [],
          ignoreWhitespace: true,
        };
      },
    );
  }

  /**
   * The VReplication workflow exists in the target keyspace (`GetWorkflows --show-all`, which also
   * lists workflows whose writes are switched). vtctldclient only.
   */
  public static workflowExists(keyspace: string, workflow: string): JobCondition {
    return new JobCondition(`workflow ${keyspace}.${workflow} exists`, (release) => ({
      command: getWorkflows(release, keyspace),
      present: [workflowEntry(workflow)],
      absent: [],
      ignoreWhitespace: true,
    }));
  }

  /**
   * The VReplication workflow is completed: `GetWorkflows --show-all` answers and no longer lists
   * it. vtctldclient only.
   */
  public static workflowCompleted(keyspace: string, workflow: string): JobCondition {
    return new JobCondition(`workflow ${keyspace}.${workflow} is completed (gone)`, (release) => ({
      command: getWorkflows(release, keyspace),
      present: ['"workflows":'],
      absent: [workflowEntry(workflow)],
      ignoreWhitespace: true,
    }));
  }

  /**
   * Every stream of the Reshard workflow has finished copying and is replicating: each is `Running`
   * (or `Lagging`), none is `Copying`, `Error`, `Init` or `Stopped`, no table is left to copy, and
   * every stream has a position. Right after `Reshard create` a stream is `Running` with no copy
   * states and an empty position until it has picked its source tablet (the picker retries every
   * 30 s): only then does it list the tables to copy (v22.0.4
   * `go/vt/vttablet/tabletmanager/vreplication/controller.go` 241-265, 338-365,
   * `vreplicator.go` 286-325, `go/vt/discovery/tablet_picker.go` 63). vtctldclient prints the
   * empty position as `""` (v22.0.4 `go/cmd/vtctldclient/cli/json.go` 32-38, 73-79).
   * vtctldclient only.
   */
  public static reshardCopyDone(keyspace: string, workflow: string): JobCondition {
    return new JobCondition(`workflow ${keyspace}.${workflow} has copied everything and is replicating`, (release) => ({
      command: [
        'Reshard',
        release.commandFlag('workflow', workflow),
        release.commandFlag('target_keyspace', keyspace),
        'show',
        release.commandFlag('include_logs', false),
      ],
      present: ['"state":"(Running|Lagging)"'],
      absent: ['"state":"(Copying|Error|Init|Stopped)"', '"copy_states":\\[\\{', '"position":""'],
      ignoreWhitespace: true,
    }));
  }

  /**
   * The last VDiff of the workflow has finished (completed, or stopped with an error).
   * vtctldclient only.
   */
  public static vdiffFinished(keyspace: string, workflow: string): JobCondition {
    return new JobCondition(`the last VDiff of ${keyspace}.${workflow} has finished`, (release) => ({
      command: vdiffShowLast(release, keyspace, workflow),
      present: ['"State":"(completed|error)"'],
      absent: [],
      ignoreWhitespace: true,
    }));
  }

  /**
   * The last VDiff of the workflow completed and found no differences. vtctldclient only.
   */
  public static vdiffClean(keyspace: string, workflow: string): JobCondition {
    return new JobCondition(`the last VDiff of ${keyspace}.${workflow} completed without differences`, (release) => ({
      command: vdiffShowLast(release, keyspace, workflow),
      present: ['"State":"completed"', '"HasMismatch":false'],
      absent: [],
      ignoreWhitespace: true,
    }));
  }

  /**
   * The shard no longer exists in the global topology (`GetShard` fails with `node doesn't exist`).
   */
  public static shardDeleted(keyspace: string, shard: string): JobCondition {
    return new JobCondition(`shard ${keyspace}/${shard} does not exist`, () => ({
      command: ['GetShard', `${keyspace}/${shard}`],
      present: ["node doesn't exist"],
      absent: [],
      commandFails: true,
    }));
  }

  /**
   * The ConfigMap, in the Job's namespace, has `key` set to `value`, read through the Kubernetes
   * API (curl, with the pod's service account token) rather than through vtctld: for marks that a
   * Job leaves where Vitess keeps no trace, such as a SplitDiff that found no differences. Give the
   * Job a `serviceAccountName` allowed to `get` the ConfigMap.
   */
  public static configMapValue(name: string, key: string, value: string): JobCondition {
    validateSubdomainName('JobCondition.configMapValue', 'name', name);
    validateDataKey('JobCondition.configMapValue', 'key', key, 'ConfigMap');
    if (!/^[a-zA-Z0-9_.-]+$/.test(value)) {
      throw new Error(`JobCondition.configMapValue: 'value' must be letters, digits, '_', '.' or '-', got '${value}'`);
    }
    return new JobCondition(`ConfigMap ${name} has ${key}=${value}`, () => ({ configMap: name, key, value }));
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
      ...(options.ignoreWhitespace ? { ignoreWhitespace: true } : {}),
    }));
  }

  /**
   * Holds when every one of the conditions holds (checked in order, stopping at the first that
   * does not).
   */
  public static allOf(...conditions: JobCondition[]): JobCondition {
    return JobCondition.combine('allOf', ' and ', conditions, (checks) => ({ all: checks }));
  }

  /**
   * Holds when at least one of the conditions holds (checked in order, stopping at the first that
   * does).
   */
  public static anyOf(...conditions: JobCondition[]): JobCondition {
    return JobCondition.combine('anyOf', ' or ', conditions, (checks) => ({ any: checks }));
  }

  private static combine(
    name: string,
    joiner: string,
    conditions: JobCondition[],
    make: (checks: ConditionCheck[]) => ConditionCheck,
  ): JobCondition {
    if (conditions.length < 2) {
      throw new Error(`JobCondition.${name}: give at least two conditions, got ${conditions.length}`);
    }
    const description = conditions.map((c) => (c.composite ? `(${c.description})` : c.description)).join(joiner);
    return new JobCondition(description, (release) => make(conditions.map((c) => c._render(release))), true);
  }

  private constructor(
    /** What is checked, in words; Job logs and failure messages quote it. */
    public readonly description: string,
    private readonly check: (release: VitessRelease) => ConditionCheck,
    private readonly composite: boolean = false,
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
 * A tablet type as the serving graph knows it.
 */
export enum ServedType {
  /** Primary (master, in releases before v13). */
  PRIMARY = 'primary',
  /** Replica. */
  REPLICA = 'replica',
  /** Read-only (batch) tablets. */
  RDONLY = 'rdonly',
}

/** The topodata.TabletType numbers, as vtctl prints them in JSON. */
const SERVED_TYPE_NUMBERS: Record<ServedType, number> = {
  [ServedType.PRIMARY]: 1,
  [ServedType.REPLICA]: 2,
  [ServedType.RDONLY]: 3,
};

/** Every workflow of a keyspace, including those whose writes are switched. */
function getWorkflows(release: VitessRelease, keyspace: string): string[] {
  return ['GetWorkflows', release.commandFlag('show_all'), keyspace];
}

/** A workflow's entry in the whitespace-free output of GetWorkflows. */
function workflowEntry(workflow: string): string {
  return `\\{"name":"${workflow}","source":`;
}

/** `VDiff show last` of a workflow, as JSON. */
function vdiffShowLast(release: VitessRelease, keyspace: string, workflow: string): string[] {
  return [
    'VDiff',
    release.commandFlag('workflow', workflow),
    release.commandFlag('target_keyspace', keyspace),
    'show',
    release.commandFlag('format', 'json'),
    'last',
  ];
}

/** The command that prints a keyspace's serving graph in a cell. */
function srvKeyspace(release: VitessRelease, cell: string, keyspace: string): string[] {
  return release.vtctlClient === VtctlClient.VTCTLDCLIENT ? ['GetSrvKeyspaces', keyspace, cell] : ['GetSrvKeyspace', cell, keyspace];
}

/** The command that lists a cell's tablets, one `<alias> <keyspace> <shard> <type> ...` line each. */
function listTablets(release: VitessRelease, cell: string): string[] {
  return release.vtctlClient === VtctlClient.VTCTLDCLIENT
    ? ['GetTablets', release.commandFlag('cell', cell)]
    : ['ListAllTablets', cell];
}

function validateTabletAliases(method: string, cell: string, aliases: readonly string[]): void {
  if (aliases.length === 0) {
    throw new Error(`JobCondition.${method}: 'aliases' must name at least one tablet, got none`);
  }
  for (const alias of aliases) {
    if (!alias.startsWith(`${cell}-`)) {
      throw new Error(`JobCondition.${method}: tablet alias '${alias}' is not in cell '${cell}'`);
    }
  }
}

/**
 * What {@link JobCondition.vschemaShardsTable} looks for in a keyspace's VSchema.
 */
export interface ShardedTableOptions {
  /** The table, e.g. `messages`. */
  readonly table: string;
  /** The column of the table's primary vindex, e.g. `page`. */
  readonly column: string;
  /** The vindex's name in the VSchema, e.g. `hash`. */
  readonly vindex: string;
  /** The vindex's type, e.g. `hash`. */
  readonly vindexType: string;
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
  /**
   * Match the patterns against the whole output as one line with all whitespace removed, for
   * output printed over several lines such as JSON (`{"a": 1}` is matched as `{"a":1}`).
   * @default false
   */
  readonly ignoreWhitespace?: boolean;
}

/**
 * A rendered condition: one command and its patterns, or a combination. Not part of the public API.
 * @internal
 */
export type ConditionCheck =
  | CommandCheck
  | BackupManifestCheck
  | ConfigMapCheck
  | { readonly all: ConditionCheck[] }
  | { readonly any: ConditionCheck[] };

/**
 * A ConfigMap of the Job's namespace has a key set to a value, read through the Kubernetes API.
 * Not part of the public API.
 * @internal
 */
export interface ConfigMapCheck {
  readonly configMap: string;
  readonly key: string;
  readonly value: string;
}

/**
 * A complete backup in a directory of file backup storage: a subdirectory holding a `MANIFEST`.
 * The Job mounts the storage's volume read-only. Not part of the public API.
 * @internal
 */
export interface BackupManifestCheck {
  readonly storage: BackupStorage;
  /** The backups' directory as the Job sees it: `<mount path>/<keyspace>/<shard>`. */
  readonly directory: string;
}

/**
 * One read-only command: it must succeed (fail, with `commandFails`), and its output must have a
 * line matching each `present` pattern and none matching an `absent` one; with `ignoreWhitespace`
 * the output is matched as one line with all whitespace removed. Not part of the public API.
 * @internal
 */
export interface CommandCheck {
  readonly command: string[];
  readonly present: string[];
  readonly absent: string[];
  readonly ignoreWhitespace?: boolean;
  /** The condition needs the command to fail instead (the patterns still apply to its output). */
  readonly commandFails?: boolean;
}

/**
 * Every command a rendered condition runs, in order. Not part of the public API.
 * @internal
 */
export function commandChecks(check: ConditionCheck): CommandCheck[] {
  return leafChecks(check).filter((leaf): leaf is CommandCheck => 'command' in leaf);
}

/**
 * Every ConfigMap a rendered condition reads. Not part of the public API.
 * @internal
 */
export function configMapChecks(check: ConditionCheck): ConfigMapCheck[] {
  return leafChecks(check).filter((leaf): leaf is ConfigMapCheck => 'configMap' in leaf);
}

/**
 * Every backup storage a rendered condition looks into. Not part of the public API.
 * @internal
 */
export function backupStorages(check: ConditionCheck): BackupStorage[] {
  return leafChecks(check).flatMap((leaf) => ('directory' in leaf ? [leaf.storage] : []));
}

/** The checks of a rendered condition that are not combinations, in order. */
function leafChecks(check: ConditionCheck): Array<CommandCheck | BackupManifestCheck | ConfigMapCheck> {
  if ('all' in check) {
    return check.all.flatMap(leafChecks);
  }
  if ('any' in check) {
    return check.any.flatMap(leafChecks);
  }
  return [check];
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
   * A condition under which the commands would do harm: checked after the waits and after
   * `skipIf`, before the first try and before each new one; when it holds, the Job fails without
   * acting and says which condition held (e.g. InitShardMaster `-force` on a shard that has a
   * primary resets replication and the primary's binary logs).
   * @default - the Job acts whenever its work is not done
   */
  readonly refuseIf?: JobCondition;
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
   * Conditions the commands' effect must reach, waited for in order after the commands succeed
   * (e.g. the copy phase of a VReplication workflow being done); the Job succeeds only then.
   * @default - none: the Job succeeds when its commands do
   */
  readonly thenWaitFor?: readonly JobCondition[];
  /**
   * How long to wait for all of `thenWaitFor`.
   * @default Duration.hours(24)
   */
  readonly thenWaitTimeout?: Duration;
  /**
   * Conditions checked once, at the very end: when one does not hold, the Job fails and says which
   * (e.g. a finished VDiff that found differences).
   * @default - none
   */
  readonly thenVerify?: readonly JobCondition[];
  /**
   * How often a command that fails is tried again, after a pause of 10 s that doubles after each
   * failure up to 60 s. Before each new try the `skipIf` condition is checked again: when the work
   * is done after all, the Job succeeds without trying again.
   * @default 0 (the Job fails at the first failed command; Kubernetes may retry the pod)
   */
  readonly retries?: number;
  /**
   * The service account the Job's pod runs as, with its token mounted: needed by conditions that
   * read the Kubernetes API ({@link JobCondition.configMapValue}).
   * @default - the namespace's default account, without a token
   */
  readonly serviceAccountName?: string;
  /**
   * A ConfigMap key in which the Job records its outcome through the Kubernetes API: `running`
   * before its commands, `succeeded` once they all have; a failed command leaves `running`. Later
   * Jobs can wait for it with {@link JobCondition.configMapValue}, for steps that leave no trace in
   * Vitess. The ConfigMap must exist, and `serviceAccountName` must be allowed to patch it.
   * @default - the outcome is recorded nowhere
   */
  readonly recordOutcome?: JobOutcomeRecord;
  /**
   * How long a finished Job is kept before Kubernetes deletes it.
   * @default Duration.days(1)
   */
  readonly ttlAfterFinished?: Duration;
}

/**
 * Where a command Job records its outcome: a key of a ConfigMap in its namespace.
 */
export interface JobOutcomeRecord {
  /** The ConfigMap's name; it must exist before the Job runs. */
  readonly configMap: string;
  /** The key, e.g. `result`. */
  readonly key: string;
}

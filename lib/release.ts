/**
 * How a Vitess release spells its command-line flags.
 */
export enum FlagStyle {
  /**
   * Go's standard `flag` package (Vitess up to v14): `-name=value`, booleans as `-name`.
   */
  GO_FLAG = 'GO_FLAG',
  /**
   * pflag (Vitess v15 and later): `--name=value`, booleans as `--name`; names as the library
   * writes them (Vitess's underscore spellings, e.g. `--init_keyspace`).
   */
  PFLAG = 'PFLAG',
  /**
   * pflag with dashed names (Vitess v24, whose canonical flag names are dashed):
   * `--name=value` with every `_` of the name written as `-` (`--init-keyspace`), except
   * {@link UNDERSCORE_FLAG_NAMES}, which these releases still spell with underscores. v24 would
   * take the underscore spellings too, but rewrites each one to its dashed name with a deprecation
   * warning (go/vt/utils/flags.go NormalizeUnderscoresToDashes, lines 149-170 at v0.24.4).
   */
  PFLAG_DASHED = 'PFLAG_DASHED',
}

/**
 * The flag names that {@link FlagStyle.PFLAG_DASHED} leaves as they are: glog's, which Vitess v24
 * registers and prints with underscores and does not rewrite (go/vt/utils/flags.go lines 151-154
 * at v0.24.4; `--log_dir`, `--log_link` and `--log_backtrace_at` in go/flags/endtoend/*.txt).
 */
export const UNDERSCORE_FLAG_NAMES: readonly string[] = ['log_backtrace_at', 'log_dir', 'log_link'];

/**
 * The client that command Jobs use to talk to vtctld.
 */
export enum VtctlClient {
  /** `vtctlclient -server <addr> <Command> ...` (legacy vtctl commands). */
  VTCTLCLIENT = 'vtctlclient',
  /** `vtctldclient --server <addr> <Command> ...` (Vitess v15 and later). */
  VTCTLDCLIENT = 'vtctldclient',
}

/**
 * The description of one Vitess release.
 */
export interface VitessReleaseProps {
  /** The release, e.g. `v9.0.0`. */
  readonly version: string;
  /** The container image that holds every Vitess binary and mysqld. */
  readonly image: string;
  /** How flags are spelled. */
  readonly flagStyle: FlagStyle;
  /**
   * The root path of the global topology in etcd.
   */
  readonly topoGlobalRoot: string;
  /**
   * The prefix of a cell's topology root: the cell `test` is at `<prefix>test`.
   */
  readonly topoCellRootPrefix: string;
  /**
   * Whether topology server addresses carry an `http://` scheme (legacy etcd2 examples) or are
   * plain `host:port`.
   */
  readonly topoAddressScheme: boolean;
  /**
   * The name of the primary tablet type in commands and flags (`master` up to v12, `primary` after).
   */
  readonly primaryTypeName: string;
  /** The client that command Jobs run. */
  readonly vtctlClient: VtctlClient;
  /**
   * The vtctl (or vtctldclient) commands of this release that this library may emit.
   */
  readonly vtctlCommands: readonly string[];
  /**
   * The vtworker commands of this release that this library may emit; empty where the release
   * has no vtworker.
   */
  readonly vtworkerCommands: readonly string[];
  /**
   * Whether vttablet takes `-binlog_use_v3_resharding_mode` and vtworker `-use_v3_resharding_mode`
   * (hash VSchema resharding without a keyspace_id column, up to v15).
   */
  readonly v3ReshardingMode: boolean;
  /**
   * Whether vttablet takes `-enable_semi_sync` (removed in v16; later releases set semi-sync
   * through the keyspace durability policy).
   */
  readonly tabletSemiSyncFlag: boolean;
  /**
   * Whether vtgate takes `-gateway_implementation discoverygateway` (removed in v14).
   */
  readonly vtgateGatewayFlag: boolean;
  /**
   * The path of Vitess's `init_db.sql` inside `image`, which mysqlctld runs
   * (`init_db_sql_file`) when it initialises an empty data directory.
   *
   * Leave it out for an image that has none (vitess/lite:v9.0.0 has no `/vt/config`): the
   * flag is then left out and mysqlctld runs the init_db.sql built into it. A path the image lacks
   * makes mysqlctld exit once it has initialised the data directory, and when restarted it finds
   * my.cnf and starts mysqld "without init", so the Vitess users are never created
   * (go/vt/mysqlctl/mysqld.go lines 684-687 and go/cmd/mysqlctld/mysqlctld.go lines 73-106 at
   * v9.0.0).
   * @default - the image has no init_db.sql: mysqlctld runs its built-in one
   */
  readonly imageInitDbSqlPath?: string;
  /**
   * The longest host name that the image's MySQL takes as a replication source
   * (`CHANGE MASTER TO MASTER_HOST`). Replicas replicate from the host name their primary tablet
   * registers, so that name must fit: MySQL before 8.0.17 takes at most 60 characters
   * (`HOSTNAME_LENGTH` in include/mysql_com.h), 8.0.17 and later 255 (MySQL WL#12571).
   * @default 255 (MySQL 8.0.17 and later)
   */
  readonly mysqlHostnameMaxLength?: number;
  /**
   * Whether the binaries take glog's `logtostderr` flag, which the library passes so that they log
   * to standard error (`kubectl logs`) instead of files.
   *
   * Set it to false from Vitess v24: its binaries log through structured logging
   * (`--log-structured`, on by default) to standard error, and hide and deprecate the glog flags,
   * which then do nothing but print a warning (go/vt/servenv/servenv.go lines 366-382 and
   * go/vt/log/flags.go lines 52-68 at v0.24.4; v25 removes them).
   * @default true
   */
  readonly logtostderrFlag?: boolean;
  /**
   * Whether vtctld takes `cell` (the cell of its HTTP API `/api`, which Vitess v24 removed: the
   * flag is a hidden, deprecated no-op there, go/vt/vtctld/vtctld.go lines 38-54 at v0.24.4).
   * @default true
   */
  readonly vtctldCellFlag?: boolean;
  /**
   * The image of VTAdmin (the `vtadmin` API binary and nginx serving the built web UI), which
   * {@link Vtadmin} runs; leave it out for a release without one.
   * @default - none: the release has no VTAdmin the library runs
   */
  readonly vtadminImage?: string;
}

/**
 * The vtctldclient commands this library may emit: the same for both vtctldclient release
 * profiles (v22.0.3 and v24.0.4 have every one of them).
 */
const VTCTLDCLIENT_COMMANDS: readonly string[] = [
  'AddCellInfo',
  'ApplySchema',
  'ApplyVSchema',
  'Backup',
  'BackupShard',
  'CreateKeyspace',
  'DeleteShards',
  'GetBackups',
  'GetCellInfoNames',
  'GetKeyspace',
  'GetSchema',
  'GetShard',
  'GetSrvKeyspaces',
  'GetSrvVSchema',
  'GetTablets',
  'GetVSchema',
  'GetWorkflows',
  'PingTablet',
  'PlannedReparentShard',
  'RebuildVSchemaGraph',
  'RemoveBackup',
  'Reshard',
  'SetKeyspaceDurabilityPolicy',
  'VDiff',
  'ValidateSchemaKeyspace',
];

/**
 * One Vitess release: its image, how its flags are spelled, and which binaries and commands it has.
 *
 * Every construct reads the release it is given and renders its flags and commands through it,
 * so adding a release means adding a profile here, not copying flag-building code.
 */
export class VitessRelease {
  /**
   * Vitess v9.0.0, the release of the source guide's vtworker resharding flow
   * (vtworker, InitShardMaster, MigrateServedTypes; etcd2 topology with roots `/global` and `/<cell>`).
   */
  public static readonly V9_0 = new VitessRelease({
    version: 'v9.0.0',
    image: 'vitess/lite:v9.0.0',
    flagStyle: FlagStyle.GO_FLAG,
    topoGlobalRoot: '/global',
    topoCellRootPrefix: '/',
    topoAddressScheme: true,
    primaryTypeName: 'master',
    vtctlClient: VtctlClient.VTCTLCLIENT,
    vtctlCommands: [
      'AddCellInfo',
      'ApplySchema',
      'ApplyVSchema',
      'Backup',
      'BackupShard',
      'CopySchemaShard',
      'DeleteShard',
      'ExecuteFetchAsDba',
      'GetCellInfoNames',
      'GetKeyspace',
      'GetSchema',
      'GetShard',
      'GetSrvKeyspace',
      'GetSrvVSchema',
      'GetVSchema',
      'InitShardMaster',
      'ListAllTablets',
      'ListBackups',
      'MigrateServedTypes',
      'Ping',
      'RebuildVSchemaGraph',
      'RemoveBackup',
      'ValidateSchemaKeyspace',
    ],
    vtworkerCommands: ['SplitClone', 'SplitDiff'],
    v3ReshardingMode: true,
    tabletSemiSyncFlag: true,
    vtgateGatewayFlag: true,
    // No init_db.sql in the image: docker/lite/Dockerfile.mysql57 lines 33 and 52 at v9.0.0
    // copy to /vt only what `make install` installs, and that is the binaries alone (Makefile
    // lines 74-77). mysqlctld runs its built-in copy when the flag is empty
    // (go/vt/mysqlctl/mysqld.go lines 671-680; the file is embedded in
    // go/vt/mysqlctl/rice-box.go lines 18-23 and 183).
    imageInitDbSqlPath: undefined,
    // MySQL 5.7.31 (docker/lite/install_dependencies.sh lines 64-65 at v9.0.0): host names of at
    // most 60 characters.
    mysqlHostnameMaxLength: 60,
    // No VTAdmin: v9.0.0's go/cmd/vtadmin is an early prototype (no RBAC, no static discovery of
    // vtctlds, no web UI image: there is no docker/binaries/vtadmin at v0.9.0).
    vtadminImage: undefined,
  });

  /**
   * Vitess v22.0.3, a current release (the VReplication flow): pflag spelling (`--name=value`),
   * vtctldclient, `primary`, etcd2 topology with roots `/vitess/global` and `/vitess/<cell>` and
   * plain `host:port` addresses; no vtworker, no `--enable_semi_sync` (durability policies instead),
   * no `--gateway_implementation`.
   */
  public static readonly V22_0 = new VitessRelease({
    version: 'v22.0.3',
    image: 'vitess/lite:v22.0.3',
    flagStyle: FlagStyle.PFLAG,
    topoGlobalRoot: '/vitess/global',
    topoCellRootPrefix: '/vitess/',
    topoAddressScheme: false,
    primaryTypeName: 'primary',
    vtctlClient: VtctlClient.VTCTLDCLIENT,
    vtctlCommands: VTCTLDCLIENT_COMMANDS,
    vtworkerCommands: [],
    v3ReshardingMode: false,
    tabletSemiSyncFlag: false,
    vtgateGatewayFlag: false,
    // docker/lite/Dockerfile line 67 at v22.0.4 (the same in v22.0.1, so in v22.0.3 between
    // them) copies config/init_db.sql to /vt/config/.
    imageInitDbSqlPath: '/vt/config/init_db.sql',
    // MySQL 8.0.40 (docker/lite/Dockerfile line 52 and docker/utils/install_dependencies.sh
    // lines 74-76 at v22.0.4, the same in v22.0.1): host names of up to 255 characters.
    mysqlHostnameMaxLength: 255,
    // docker/binaries/vtadmin/Dockerfile, pushed as vitess/vtadmin:<tag> for every release tag from
    // v20 (.github/workflows/docker_build_images.yml lines 7 and 148 at v0.22.4).
    vtadminImage: 'vitess/vtadmin:v22.0.3',
  });

  /**
   * Vitess v24.0.4, the newest release the Go module proxy serves (module vitess.io/vitess
   * v0.24.4), and the first that knows MySQL 9 (go/mysql/flavor.go lines 215-216,
   * config/mycnf/mysql90.cnf): as {@link V22_0} (vtctldclient, `primary`, the same topology roots
   * and commands), but with dashed flag names ({@link FlagStyle.PFLAG_DASHED}: v24's canonical
   * spelling, go/flags/endtoend/*.txt), no `--logtostderr` (structured logging to standard error
   * by default) and no vtctld `--cell` (a no-op since the vtctld `/api` is gone).
   */
  public static readonly V24_0 = new VitessRelease({
    version: 'v24.0.4',
    image: 'vitess/lite:v24.0.4',
    flagStyle: FlagStyle.PFLAG_DASHED,
    topoGlobalRoot: '/vitess/global',
    topoCellRootPrefix: '/vitess/',
    topoAddressScheme: false,
    primaryTypeName: 'primary',
    vtctlClient: VtctlClient.VTCTLDCLIENT,
    // All are vtctldclient commands of v24.0.4 (reference/vitess-v24.0.4.json).
    vtctlCommands: VTCTLDCLIENT_COMMANDS,
    vtworkerCommands: [],
    v3ReshardingMode: false,
    tabletSemiSyncFlag: false,
    vtgateGatewayFlag: false,
    // docker/lite/Dockerfile line 87 at v0.24.4 copies config/init_db.sql to /vt/config/.
    imageInitDbSqlPath: '/vt/config/init_db.sql',
    // MySQL 8.4 (docker/lite/Dockerfile line 71 runs docker/utils/install_dependencies.sh mysql84,
    // which installs 8.4.8, lines 167-170, at v0.24.4): host names of up to 255 characters.
    mysqlHostnameMaxLength: 255,
    logtostderrFlag: false,
    vtctldCellFlag: false,
    // docker/binaries/vtadmin/Dockerfile, pushed as vitess/vtadmin:<tag> for every release tag from
    // v20 (.github/workflows/docker_build_images.yml lines 7 and 154 at v0.24.4).
    vtadminImage: 'vitess/vtadmin:v24.0.4',
  });

  /** The release, e.g. `v9.0.0`. */
  public readonly version: string;
  /** The container image that holds every Vitess binary and mysqld. */
  public readonly image: string;
  /** How flags are spelled. */
  public readonly flagStyle: FlagStyle;
  /** The root path of the global topology. */
  public readonly topoGlobalRoot: string;
  /** The name of the primary tablet type (`master` or `primary`). */
  public readonly primaryTypeName: string;
  /** The client that command Jobs run. */
  public readonly vtctlClient: VtctlClient;
  /** The vtctl commands this library may emit for this release. */
  public readonly vtctlCommands: readonly string[];
  /** The vtworker commands this library may emit for this release. */
  public readonly vtworkerCommands: readonly string[];
  /** Whether the legacy v3 resharding flags are passed. */
  public readonly v3ReshardingMode: boolean;
  /** Whether vttablet takes `-enable_semi_sync`. */
  public readonly tabletSemiSyncFlag: boolean;
  /** Whether vtgate takes `-gateway_implementation`. */
  public readonly vtgateGatewayFlag: boolean;
  /**
   * The path of Vitess's `init_db.sql` inside the image, or undefined where the image has none
   * and mysqlctld runs its built-in one.
   */
  public readonly imageInitDbSqlPath: string | undefined;
  /** The longest replication source host name that the image's MySQL takes. */
  public readonly mysqlHostnameMaxLength: number;
  /** Whether the binaries take `logtostderr`. */
  public readonly logtostderrFlag: boolean;
  /** Whether vtctld takes `cell`. */
  public readonly vtctldCellFlag: boolean;
  /** The image of VTAdmin, or undefined where the release has none the library runs. */
  public readonly vtadminImage: string | undefined;

  private readonly topoCellRootPrefix: string;
  private readonly topoAddressScheme: boolean;

  public constructor(props: VitessReleaseProps) {
    if (!/^v\d+\.\d+\.\d+$/.test(props.version)) {
      throw new Error(`VitessRelease: 'version' must look like v<major>.<minor>.<patch>, got '${props.version}'`);
    }
    if (props.image.trim() === '' || !props.image.includes(':')) {
      throw new Error(`VitessRelease: 'image' must be a pinned image reference (name:tag), got '${props.image}'`);
    }
    if (!Object.values(FlagStyle).includes(props.flagStyle)) {
      throw new Error(
        `VitessRelease: 'flagStyle' must be one of ${Object.values(FlagStyle).join(', ')}, got '${String(props.flagStyle)}'`,
      );
    }
    for (const key of ['logtostderrFlag', 'vtctldCellFlag'] as const) {
      if (props[key] !== undefined && typeof props[key] !== 'boolean') {
        throw new Error(`VitessRelease: '${key}' must be true or false, got ${JSON.stringify(props[key])}`);
      }
    }
    if (props.vtadminImage !== undefined && (typeof props.vtadminImage !== 'string' || !/^\S+:\S+$/.test(props.vtadminImage))) {
      throw new Error(`VitessRelease: 'vtadminImage' must be a pinned image reference (name:tag), got '${String(props.vtadminImage)}'`);
    }
    if (props.imageInitDbSqlPath !== undefined && !/^\/[^\s]*[^\s/]$/.test(props.imageInitDbSqlPath)) {
      throw new Error(
        `VitessRelease: 'imageInitDbSqlPath' must be an absolute file path without spaces, got '${props.imageInitDbSqlPath}'`,
      );
    }
    const mysqlHostnameMaxLength = props.mysqlHostnameMaxLength ?? 255;
    if (!Number.isInteger(mysqlHostnameMaxLength) || mysqlHostnameMaxLength < 1 || mysqlHostnameMaxLength > 255) {
      throw new Error(
        `VitessRelease: 'mysqlHostnameMaxLength' must be a whole number from 1 to 255 (MySQL takes host names of up to 255 characters), got ${mysqlHostnameMaxLength}`,
      );
    }
    this.version = props.version;
    this.image = props.image;
    this.flagStyle = props.flagStyle;
    this.topoGlobalRoot = props.topoGlobalRoot;
    this.topoCellRootPrefix = props.topoCellRootPrefix;
    this.topoAddressScheme = props.topoAddressScheme;
    this.primaryTypeName = props.primaryTypeName;
    this.vtctlClient = props.vtctlClient;
    this.vtctlCommands = [...props.vtctlCommands];
    this.vtworkerCommands = [...props.vtworkerCommands];
    this.v3ReshardingMode = props.v3ReshardingMode;
    this.tabletSemiSyncFlag = props.tabletSemiSyncFlag;
    this.vtgateGatewayFlag = props.vtgateGatewayFlag;
    this.imageInitDbSqlPath = props.imageInitDbSqlPath;
    this.mysqlHostnameMaxLength = mysqlHostnameMaxLength;
    this.logtostderrFlag = props.logtostderrFlag ?? true;
    this.vtctldCellFlag = props.vtctldCellFlag ?? true;
    this.vtadminImage = props.vtadminImage;
  }

  /** The major version number, e.g. 9 for v9.0.0. */
  public get majorVersion(): number {
    return Number(this.version.slice(1).split('.')[0]);
  }

  /** Whether this release ships vtworker. */
  public get hasVtworker(): boolean {
    return this.vtworkerCommands.length > 0;
  }

  /**
   * One flag as a single argv element: `-name=value` (or `--name=value`); a boolean `true` gives
   * the bare `-name`. With {@link FlagStyle.PFLAG_DASHED} the name's `_` are written as `-`
   * (`init_keyspace` gives `--init-keyspace`), except in {@link UNDERSCORE_FLAG_NAMES}.
   */
  public flag(name: string, value: string | number | boolean = true): string {
    if (!/^[a-z][a-z0-9_-]*$/.test(name)) {
      throw new Error(`VitessRelease.flag: invalid flag name '${name}'`);
    }
    const prefix = this.flagStyle === FlagStyle.GO_FLAG ? '-' : '--';
    const written =
      this.flagStyle === FlagStyle.PFLAG_DASHED && !UNDERSCORE_FLAG_NAMES.includes(name) ? name.replace(/_/g, '-') : name;
    if (value === true) {
      return `${prefix}${written}`;
    }
    return `${prefix}${written}=${value}`;
  }

  /**
   * The flags that make a Vitess server log to standard error: `-logtostderr` where the release
   * takes it ({@link logtostderrFlag}), else none (v24 logs there by default).
   */
  public logFlags(): string[] {
    return this.logtostderrFlag ? [this.flag('logtostderr')] : [];
  }

  /**
   * One flag of a command run by the release's client (see {@link vtctlClient}): vtctlclient
   * takes vtctl's flag names as they are (`-server_address=...`); vtctldclient spells every
   * command flag with dashes (`--server-address=...`).
   */
  public commandFlag(name: string, value: string | number | boolean = true): string {
    return this.flag(this.vtctlClient === VtctlClient.VTCTLDCLIENT ? name.replace(/_/g, '-') : name, value);
  }

  /** The topology root of a cell, e.g. `/test` (v9) or `/vitess/test` (later releases). */
  public cellRoot(cell: string): string {
    return `${this.topoCellRootPrefix}${cell}`;
  }

  /**
   * A topology server address (`host:port`, or a comma-separated list of them) as this release's
   * flags and commands expect it: with `http://` before each `host:port` where the release's
   * addresses carry a scheme, else as it is.
   */
  public topoServerAddress(hostPort: string): string {
    return this.topoAddressScheme ? hostPort.split(',').map((address) => `http://${address}`).join(',') : hostPort;
  }

  /**
   * Throws unless this release has the vtctl command; `context` names the construct that asked.
   */
  public requireVtctlCommand(command: string, context: string): void {
    if (!this.vtctlCommands.includes(command)) {
      throw new Error(
        `${context}: Vitess ${this.version} has no ${this.vtctlClient} command '${command}'; ` +
          `available: ${this.vtctlCommands.join(', ')}`,
      );
    }
  }

  /**
   * Throws unless this release has the vtworker command; `context` names the construct that asked.
   */
  public requireVtworkerCommand(command: string, context: string): void {
    if (!this.hasVtworker) {
      throw new Error(
        `${context}: Vitess ${this.version} has no vtworker (removed in v15); ` +
          'reshard with VReplication (Reshard, VDiff, SwitchTraffic) instead',
      );
    }
    if (!this.vtworkerCommands.includes(command)) {
      throw new Error(
        `${context}: Vitess ${this.version} has no vtworker command '${command}'; ` +
          `available: ${this.vtworkerCommands.join(', ')}`,
      );
    }
  }
}

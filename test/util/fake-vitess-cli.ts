// A stand-in for vtctlclient and vtworker of Vitess v9, and for vtctldclient of Vitess v22, for
// running the Jobs' scripts in tests.
// It keeps a small model of the topology in a JSON file and answers in the output formats of v9:
// vtctl prints protobuf messages with jsonpb (2-space indent, snake_case names, enums as numbers,
// every field present), ListAllTablets one line per tablet, GetSchema -table_names_only and
// ListBackups one name per line (GetVSchema alone prints jsonpb without defaults, in camelCase).
// Backups are directories of file backup storage under `backupRoot`, as Vitess writes and lists them.
// vtctldclient prints protobuf JSON with protojson, which may put two spaces after a colon; the
// fake does so on purpose. It also enforces the preconditions that Vitess itself checks,
// with Vitess's error messages, so a test can show what happens when a guard is missing.
//
// Called through `invoke(<state file>, <binary>, <args>)`, which fake-cluster.ts serves to the
// Jobs' scripts.
import * as fs from 'fs';

export interface FakeTablet {
  readonly alias: string;
  readonly cell: string;
  readonly uid: number;
  readonly keyspace: string;
  readonly shard: string;
  type: string;
  /** The pod runs. */
  up: boolean;
  /** The tablet record exists in the topology. */
  registered: boolean;
  /**
   * How many more invocations of the fake pass before this tablet, once registered, can take part
   * in a reparent: until then mysqld is starting, the record's MySQL port is 0 and the tablet
   * manager does not answer (v9.0.0 go/vt/vttablet/tabletmanager/tm_init.go 514-553, v22.0.4
   * 733-779). 0 or absent: ready.
   */
  startTicks?: number;
  /**
   * The rows of the tablet's `_vt.reparent_journal`; absent: the table does not exist. An
   * election's primary creates it and writes a row (v9.0.0
   * go/vt/vttablet/tabletmanager/rpc_replication.go 222-258), its replicas get both only by
   * replicating.
   */
  journalRows?: number;
}

export interface FakeSourceShard {
  readonly uid: number;
  readonly keyspace: string;
  readonly shard: string;
}

export interface FakeShard {
  readonly keyspace: string;
  readonly name: string;
  primary: string | null;
  /** The durability policy the shard's primary was elected under (v22), once elected. */
  electedDurability?: string;
  sourceShards: FakeSourceShard[];
  isMasterServing: boolean;
  tables: string[];
  frozen: boolean;
}

export interface FakeSrvKeyspace {
  /** Shard names per served type number (1 master, 2 replica, 3 rdonly). */
  partitions: Record<string, string[]>;
  /** Shards whose query service is disabled, per served type number. */
  disabled: Record<string, string[]>;
}

export interface FakeState {
  /** Cells registered in the global topology. */
  cells: string[];
  tablets: Record<string, FakeTablet>;
  /** Keyed `<keyspace>/<shard>`. */
  shards: Record<string, FakeShard>;
  /** SrvKeyspace per keyspace (one cell). */
  srv: Record<string, FakeSrvKeyspace>;
  /** The completed backups per `<keyspace>/<shard>`, in order. */
  backups: Record<string, string[]>;
  /**
   * The root of the file backup storage on this machine (the pods' backup mount): a backup is a
   * directory `<root>/<keyspace>/<shard>/<name>/` with a `MANIFEST` once complete.
   */
  backupRoot?: string;
  /**
   * Whether the next Backup or BackupShard aborts, leaving its directory without a MANIFEST (a
   * tablet killed during the backup; one that fails cleanly removes it: v0.24.4
   * go/vt/mysqlctl/backup.go 181-200, filebackupstorage/file.go 120-126).
   */
  backupAborts?: boolean;
  /**
   * Whether the next BackupShard succeeds without a MANIFEST where the Jobs look: a Job whose backup
   * volume is not vtctld's and the tablets'.
   */
  backupManifestElsewhere?: boolean;
  /**
   * An error that listing the backups (ListBackups, GetBackups) fails with, e.g. the backup
   * storage's when its volume is not mounted (file.go 155-181 at v0.24.4 returns os.ReadDir's).
   */
  listBackupsError?: string;
  /**
   * The VSchema of each keyspace, as applied (JSON with the proto field names); `{}` from the
   * keyspace's first tablet on, which creates a blank one (v9.0.0 go/vt/topo/shard.go 349,
   * v22.0.4 and v24.0.4 alike).
   */
  vschema: Record<string, VSchemaKeyspace>;
  /**
   * The cell's SrvVSchema (one cell): each keyspace's VSchema as of the last rebuild; undefined
   * until the first rebuild.
   */
  srvVSchema?: Record<string, VSchemaKeyspace>;
  /** Keyspace records and their durability policy ('' when none was set). */
  keyspaces: Record<string, { durability: string }>;
  /** VReplication workflows, keyed `<keyspace>.<workflow>`. */
  workflows: Record<string, FakeWorkflow>;
  /** The last VDiff of each workflow, keyed `<keyspace>.<workflow>`. */
  vdiffs: Record<string, { polls: number; mismatch: boolean }>;
  /** Whether the next VDiff finds differences. */
  vdiffMismatch: boolean;
  /** `SplitDiff <ks>/<shard>` runs that found no differences. */
  diffed: string[];
  /** Whether SplitDiff finds a table that differs (vtworker then exits with status 1). */
  splitDiffFindsDifferences?: boolean;
  /**
   * Whether the replicas never see the primary's journal row, as on MariaDB 10.11 with Vitess
   * v9.0.0 in the real-Vitess e2e (and MariaDB 10.4 in vitessio/vitess#7460): InitShardMaster
   * records the primary in the shard, then fails with every replica's InitReplica timing out
   * (v9.0.0 go/vt/wrangler/reparent.go 276-320), and the replicas have no `_vt.reparent_journal`.
   */
  replicasMissElection?: boolean;
  /** Every invocation, as `<binary> <args without the server flag>`. */
  calls: string[];
  /** The data of the ConfigMaps applied to the cluster, by name (what the Kubernetes API serves). */
  configMaps?: Record<string, Record<string, string>>;
}

/** A keyspace's VSchema (vschemapb.Keyspace) as JSON with the proto field names. */
export interface VSchemaKeyspace {
  sharded?: boolean;
  vindexes?: Record<string, { type?: string; params?: Record<string, string>; owner?: string }>;
  tables?: Record<
    string,
    {
      type?: string;
      column_vindexes?: Array<{ column?: string; name?: string; columns?: string[] }>;
      auto_increment?: { column?: string; sequence?: string };
      columns?: Array<{ name?: string }>;
      pinned?: string;
      column_list_authoritative?: boolean;
    }
  >;
  require_explicit_routing?: boolean;
}

export interface FakeWorkflow {
  readonly keyspace: string;
  readonly name: string;
  readonly source: string;
  readonly targets: string[];
  /**
   * How many more `show` calls report the streams as picking their source tablet: `Running`, no
   * copy states, no position (v22.0.4 go/vt/vttablet/tabletmanager/vreplication/controller.go
   * 241-265, 338-365; vreplicator.go 286-325).
   */
  pickPolls?: number;
  /** How many more `show` calls report the copy as running. */
  copyPolls: number;
  /** Writes are switched: the streams are stopped (FROZEN). */
  frozen: boolean;
}

export function emptyState(): FakeState {
  return { cells: [], tablets: {}, shards: {}, srv: {}, backups: {}, vschema: {}, keyspaces: {}, workflows: {}, vdiffs: {}, vdiffMismatch: false, diffed: [], calls: [] };
}

/** The tablet's mysqld is still starting: its MySQL port is not known and its manager does not answer yet. */
function starting(tablet: FakeTablet): boolean {
  return (tablet.startTicks ?? 0) > 0;
}

/** The tablet's pod runs and its tablet manager answers RPCs. */
function answers(tablet: FakeTablet): boolean {
  return tablet.up && !starting(tablet);
}

class VitessError extends Error {}

/** A curl failure: printed as it is, with curl's exit status 22 (`--fail` on an HTTP error). */
class CurlError extends VitessError {}

const TYPE_NUMBERS: Record<string, number> = { master: 1, replica: 2, rdonly: 3 };

function keyRange(shard: string): { start: string; end: string } | null {
  if (shard === '0' || shard === '-') {
    return null;
  }
  const [start, end] = shard.split('-');
  return { start, end };
}

function base64(hex: string): string | null {
  return hex === '' ? null : Buffer.from(hex, 'hex').toString('base64');
}

function keyRangeJson(shard: string): unknown {
  const range = keyRange(shard);
  return range === null ? null : { start: base64(range.start), end: base64(range.end) };
}

function overlaps(a: string, b: string): boolean {
  const ra = keyRange(a) ?? { start: '', end: '' };
  const rb = keyRange(b) ?? { start: '', end: '' };
  const pad = (k: string) => k.padEnd(16, '0');
  const below = (end: string, start: string) => end !== '' && start !== '' && pad(end) <= pad(start);
  return !below(ra.end, rb.start) && !below(rb.end, ra.start);
}

function startKey(shard: string): string {
  return (keyRange(shard)?.start ?? '').padEnd(16, '0');
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** The query of JobCondition.reparentJournalReplicated. */
const REPARENT_JOURNAL_COUNT = 'SELECT COUNT(*) FROM _vt.reparent_journal';

/** The error vtctlclient v9.0.0 prints for it where the table does not exist (as run, on MariaDB 10.11). */
function reparentJournalMissing(alias: string): string {
  const mysqlError = `rpc error: code = Unknown desc = Table '_vt.reparent_journal' doesn't exist (errno 1146) (sqlstate 42S02) during query: ${REPARENT_JOURNAL_COUNT}`;
  return `rpc error: code = Unknown desc = TabletManager.ExecuteFetchAsDba on ${alias} error: ${mysqlError}: ${mysqlError}`;
}

/**
 * What vtctlclient v9.0.0 prints for it with `-json` (as run, on MariaDB 10.11): sqltypes.Result
 * through json.MarshalIndent, the count unquoted (go/vt/vtctl/vtctl.go 1172-1200, 3562-3600;
 * go/sqltypes/value.go 346-354).
 */
function reparentJournalCountJson(rows: number): string {
  return (
    json({
      fields: [{ name: 'COUNT(*)', type: 265, column_length: 21, charset: 63, flags: 32897 }],
      rows_affected: 1,
      insert_id: 0,
      rows: [[rows]],
      session_state_changes: '',
    }) + '\n'
  );
}

/** Splits command args into flags (`-name[=value]`) and positional arguments. */
function parse(args: string[]): { flags: Record<string, string | true>; positional: string[] } {
  const flags: Record<string, string | true> = {};
  const positional: string[] = [];
  for (const arg of args) {
    if (positional.length === 0 && /^--?[a-z]/.test(arg)) {
      const body = arg.replace(/^--?/, '');
      const eq = body.indexOf('=');
      flags[eq < 0 ? body : body.slice(0, eq)] = eq < 0 ? true : body.slice(eq + 1);
    } else {
      positional.push(arg);
    }
  }
  return { flags, positional };
}

/** cobra's parsing: `--name[=value]` anywhere, everything else positional. */
function parseAnywhere(args: string[]): { flags: Record<string, string | true>; positional: string[] } {
  const flags: Record<string, string | true> = {};
  const positional: string[] = [];
  for (const arg of args) {
    const match = /^--([a-z][a-z0-9_-]*)(=(.*))?$/s.exec(arg);
    if (match) {
      flags[match[1].replace(/-/g, '_')] = match[3] ?? true;
    } else {
      positional.push(arg);
    }
  }
  return { flags, positional };
}

/**
 * How a client prints a VSchema (vschemapb.Keyspace): vtctl's GetVSchema with jsonpb without
 * defaults, in camelCase (v9.0.0 go/vt/vtctl/vtctl.go 3029-3048, go/json2/marshal.go 36-45); vtctl's
 * GetSrvVSchema with jsonpb, every field, proto names (vtctl.go 3273-3286, 3584-3597);
 * vtctldclient with protojson, every field, proto names, enums by name, and the fields that v22 and
 * v24 added (v24.0.4 go/cmd/vtctldclient/cli/json.go 32-38, proto/vschema.proto). Map keys sorted
 * (both marshalers sort them).
 */
type VSchemaStyle = 'legacy-camel' | 'legacy-defaults' | 'modern';

function formatVSchema(vs: VSchemaKeyspace, style: VSchemaStyle): Record<string, unknown> {
  const defaults = style !== 'legacy-camel';
  const modern = style === 'modern';
  const message = (fields: Array<[string, unknown, boolean]>): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [name, value, isDefault] of fields) {
      if (defaults || !isDefault) {
        out[defaults ? name : name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())] = value;
      }
    }
    return out;
  };
  const sorted = <T, R>(map: Record<string, T> | undefined, f: (value: T) => R): Record<string, R> =>
    Object.fromEntries(Object.keys(map ?? {}).sort().map((key) => [key, f(map![key])]));
  const vindexes = sorted(vs.vindexes, (v) =>
    message([
      ['type', v.type ?? '', !v.type],
      ['params', sorted(v.params, (p) => p), Object.keys(v.params ?? {}).length === 0],
      ['owner', v.owner ?? '', !v.owner],
    ]),
  );
  const tables = sorted(vs.tables, (t) =>
    message([
      ['type', t.type ?? '', !t.type],
      [
        'column_vindexes',
        (t.column_vindexes ?? []).map((cv) =>
          message([
            ['column', cv.column ?? '', !cv.column],
            ['name', cv.name ?? '', !cv.name],
            ['columns', cv.columns ?? [], (cv.columns ?? []).length === 0],
          ]),
        ),
        (t.column_vindexes ?? []).length === 0,
      ],
      ['auto_increment', t.auto_increment ?? null, t.auto_increment === undefined],
      ['columns', t.columns ?? [], (t.columns ?? []).length === 0],
      ['pinned', t.pinned ?? '', !t.pinned],
      ['column_list_authoritative', t.column_list_authoritative ?? false, !t.column_list_authoritative],
      ...(modern ? [['source', '', true] as [string, unknown, boolean]] : []),
    ]),
  );
  return message([
    ['sharded', vs.sharded ?? false, !vs.sharded],
    ['vindexes', vindexes, Object.keys(vindexes).length === 0],
    ['tables', tables, Object.keys(tables).length === 0],
    ['require_explicit_routing', vs.require_explicit_routing ?? false, !vs.require_explicit_routing],
    ...(modern
      ? ([
          ['foreign_key_mode', 'unspecified', true],
          ['multi_tenant_spec', null, true],
        ] as Array<[string, unknown, boolean]>)
      : []),
  ]);
}

/** protojson's output, with the second space after a colon that it may add. */
function protojson(value: unknown): string {
  return json(value).replace(/": /g, '":  ') + '\n';
}

export class FakeVitess {
  public constructor(private readonly state: FakeState) {}

  /** Registers running tablets once their cell is known, as vttablet does on a restart. */
  public syncTablets(): void {
    for (const tablet of Object.values(this.state.tablets)) {
      if (tablet.up && tablet.registered && starting(tablet)) {
        tablet.startTicks = (tablet.startTicks ?? 0) - 1;
      }
    }
    for (const tablet of Object.values(this.state.tablets)) {
      if (tablet.up && !tablet.registered && this.state.cells.includes(tablet.cell)) {
        tablet.registered = true;
        const key = `${tablet.keyspace}/${tablet.shard}`;
        // GetOrCreateShard creates the keyspace, without a durability policy, and a blank VSchema
        // (v9.0.0 go/vt/topo/shard.go 343-352, v24.0.4 371-379).
        this.state.keyspaces[tablet.keyspace] ??= { durability: '' };
        this.state.vschema[tablet.keyspace] ??= {};
        if (!this.state.shards[key]) {
          const others = this.shardsOf(tablet.keyspace);
          this.state.shards[key] = {
            keyspace: tablet.keyspace,
            name: tablet.shard,
            primary: null,
            sourceShards: [],
            // CreateShard: not serving when it overlaps an existing shard.
            isMasterServing: !others.some((s) => overlaps(s.name, tablet.shard)),
            tables: [],
            frozen: false,
          };
        }
        if (!this.state.srv[tablet.keyspace]) {
          this.rebuildKeyspace(tablet.keyspace);
        }
        // The tablet rebuilds its cell's SrvVSchema when it lacks the keyspace (v9.0.0
        // go/vt/vttablet/tabletmanager/tm_init.go 394-411, v24.0.4 626-643).
        if (!this.state.srvVSchema || !(tablet.keyspace in this.state.srvVSchema)) {
          this.rebuildSrvVSchema();
        }
      }
    }
  }

  /** RebuildSrvVSchema: every keyspace's VSchema, a blank one where it has none. */
  private rebuildSrvVSchema(): void {
    this.state.srvVSchema = Object.fromEntries(
      Object.keys(this.state.keyspaces)
        .sort()
        .map((keyspace) => [keyspace, JSON.parse(JSON.stringify(this.state.vschema[keyspace] ?? {}))]),
    );
  }

  /** The cell's SrvVSchema, or vtctld's error when none was built (or the cell is unknown). */
  private srvVSchemaOf(cell: string): Record<string, VSchemaKeyspace> {
    if (!this.state.srvVSchema || !this.state.cells.includes(cell)) {
      throw new VitessError("node doesn't exist: SrvVSchema");
    }
    return this.state.srvVSchema;
  }

  /** A keyspace's VSchema, or vtctld's error when it has none. */
  private vschemaOf(keyspace: string): VSchemaKeyspace {
    const vschema = this.state.vschema[keyspace];
    if (!vschema) {
      throw new VitessError(`node doesn't exist: keyspaces/${keyspace}/VSchema`);
    }
    return vschema;
  }

  public run(binary: string, args: string[]): string {
    if (binary === 'vtctlclient') {
      if (!/^-server=/.test(args[0] ?? '')) {
        throw new VitessError('vtctlclient: -server is required');
      }
      return this.vtctl(args[1], args.slice(2));
    }
    if (binary === 'vtctldclient') {
      if (!/^--server=/.test(args[0] ?? '')) {
        throw new VitessError('vtctldclient: --server is required');
      }
      return this.vtctldclient(args[1], args.slice(2));
    }
    if (binary === 'curl') {
      return this.kubernetesApi(args);
    }
    if (binary === 'vtworker') {
      const commandIndex = args.findIndex((a) => !a.startsWith('-'));
      return this.vtworker(args[commandIndex], args.slice(commandIndex + 1));
    }
    throw new VitessError(`unknown binary ${binary}`);
  }

  /**
   * curl against the Kubernetes API, for ConfigMaps only: `GET` prints the object, `PATCH` merges a
   * merge patch's `data`; a missing one answers 404, which `--fail` turns into exit status 22.
   */
  private kubernetesApi(args: string[]): string {
    const url = args[args.length - 1];
    const match = /^https:\/\/[^/]+\/api\/v1\/namespaces\/([a-z0-9-]+)\/configmaps\/([a-z0-9.-]+)$/.exec(url);
    if (!match || !args.includes('--fail') || !args.some((a) => a.startsWith('Authorization: Bearer '))) {
      throw new VitessError(`the fake Kubernetes API takes only authenticated ConfigMap requests with --fail, got: curl ${args.join(' ')}`);
    }
    const method = args[args.indexOf('-X') + 1];
    const name = match[2];
    const configMaps = (this.state.configMaps ??= {});
    const data = configMaps[name];
    if (data === undefined) {
      throw new CurlError(`curl: (22) The requested URL returned error: 404`);
    }
    if (method === 'PATCH') {
      const patch = JSON.parse(args[args.indexOf('--data') + 1]);
      Object.assign(data, patch.data ?? {});
    } else if (method !== 'GET') {
      throw new VitessError(`the fake Kubernetes API takes GET and PATCH, got ${method}`);
    }
    return JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: match[1] }, data }, null, 2) + '\n';
  }

  private shardsOf(keyspace: string): FakeShard[] {
    return Object.values(this.state.shards)
      .filter((s) => s.keyspace === keyspace)
      .sort((a, b) => (startKey(a.name) < startKey(b.name) ? -1 : 1));
  }

  private shard(keyspaceShard: string): FakeShard {
    const shard = this.state.shards[keyspaceShard];
    if (!shard) {
      const [keyspace, name] = keyspaceShard.split('/');
      throw new VitessError(`node doesn't exist: keyspaces/${keyspace}/shards/${name}/Shard`);
    }
    return shard;
  }

  private tabletsOf(shard: FakeShard): FakeTablet[] {
    return Object.values(this.state.tablets).filter((t) => t.registered && t.keyspace === shard.keyspace && t.shard === shard.name);
  }

  private tablet(alias: string): FakeTablet {
    const tablet = this.state.tablets[alias];
    if (!tablet || !tablet.registered) {
      throw new VitessError(`node doesn't exist: tablets/${alias}/Tablet`);
    }
    return tablet;
  }

  /**
   * PlannedReparentShard: to `newAlias`, or away from `avoidAlias` to the first other reachable
   * replica (nothing to do when `avoidAlias` is not the primary).
   */
  private plannedReparent(keyspaceShard: string, primaryType: string, newAlias?: string | true, avoidAlias?: string | true): string {
    const shard = this.shard(keyspaceShard);
    let tablet: FakeTablet;
    if (typeof newAlias === 'string') {
      tablet = this.reachableTablet(newAlias);
    } else if (typeof avoidAlias === 'string') {
      if (shard.primary !== avoidAlias) {
        return '';
      }
      const candidate = Object.values(this.state.tablets).find(
        (t) => t.registered && t.up && t.keyspace === shard.keyspace && t.shard === shard.name && t.type === 'replica' && t.alias !== avoidAlias,
      );
      if (!candidate) {
        throw new VitessError(`no valid candidate for the new ${primaryType} of ${keyspaceShard}`);
      }
      tablet = candidate;
    } else {
      throw new VitessError('PlannedReparentShard needs a new or an avoided primary');
    }
    for (const t of Object.values(this.state.tablets)) {
      if (t.keyspace === shard.keyspace && t.shard === shard.name && t.type === primaryType) {
        t.type = 'replica';
      }
    }
    tablet.type = primaryType;
    shard.primary = tablet.alias;
    // The new primary writes a journal row, which its replicas replicate (v9.0.0
    // go/vt/wrangler/reparent.go 695).
    const rows = (tablet.journalRows ?? 0) + 1;
    for (const t of this.tabletsOf(shard)) {
      if (t === tablet || t.journalRows !== undefined) t.journalRows = rows;
    }
    return '';
  }

  private reachableTablet(alias: string): FakeTablet {
    const tablet = this.tablet(alias);
    if (!answers(tablet)) {
      throw new VitessError(`rpc error: code = Unavailable desc = connection error: dial tcp :0: connect: connection refused`);
    }
    return tablet;
  }

  /**
   * The backups' directories, complete or not: file backup storage lists every directory (v9.0.0
   * go/vt/mysqlctl/filebackupstorage/file.go 113-130).
   */
  private listBackups(keyShard: string): string[] {
    const dir = `${this.state.backupRoot}/${keyShard}`;
    if (!this.state.backupRoot) {
      return this.state.backups[keyShard] ?? [];
    }
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => fs.statSync(`${dir}/${name}`).isDirectory()).sort() : [];
  }

  /** The backups' names of a shard, or the storage's error (listBackupsError). */
  private backupNames(keyShard: string): string[] {
    if (this.state.listBackupsError !== undefined) {
      throw new VitessError(this.state.listBackupsError);
    }
    return this.listBackups(keyShard);
  }

  /**
   * BackupShard: the shard's first replica, rdonly or spare tablet that answers (Vitess takes the
   * one that lags least, v0.24.4 go/vt/vtctl/grpcvtctldserver/server.go 474-503, v9.0.0
   * go/vt/vtctl/backup.go 102-129; the fake's tablets do not lag), the primary only with
   * `allowFlag` and no other (server.go 506-520, backup.go 131-148), then a backup of it as
   * Backup takes one, named after its start in UTC (go/vt/mysqlctl/backup.go 134 at v0.24.4).
   * `flags` are checked as the client does: an unknown one is an error.
   */
  private backupShard(positional: string[], flags: Record<string, string | true>, known: string[], allowFlag: string, unknownFlag: (name: string) => string): string {
    for (const name of Object.keys(flags)) {
      if (!known.includes(name)) {
        throw new VitessError(unknownFlag(name));
      }
    }
    if (positional.length !== 1) {
      throw new VitessError(`accepts 1 arg(s), received ${positional.length}`);
    }
    const shard = this.shard(positional[0]);
    const tablets = this.tabletsOf(shard).filter(answers).sort((a, b) => (a.alias < b.alias ? -1 : 1));
    const allow = flags[allowFlag] === true || flags[allowFlag] === 'true';
    const tablet =
      tablets.find((t) => ['replica', 'rdonly', 'spare'].includes(t.type)) ??
      (allow ? tablets.find((t) => t.type === 'primary' || t.type === 'master') : undefined);
    if (!tablet) {
      throw new VitessError('rpc error: code = FailedPrecondition desc = no tablet available for backup');
    }
    const key = `${shard.keyspace}/${shard.name}`;
    const name = `${new Date().toISOString().replace(/^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2}).*$/, '$1.$2$3$4')}.${tablet.alias}`;
    const dir = `${this.state.backupRoot}/${key}/${name}`;
    // StartBackup makes the shard's directory, then the backup's, failing when it exists (file.go
    // 184-204 at v0.24.4).
    fs.mkdirSync(`${this.state.backupRoot}/${key}`, { recursive: true });
    if (fs.existsSync(dir)) {
      throw new VitessError(`rpc error: code = Unknown desc = StartBackup failed: mkdir ${dir}: file exists`);
    }
    fs.mkdirSync(dir);
    if (this.state.backupAborts) {
      this.state.backupAborts = false;
      throw new VitessError(`rpc error: code = Unknown desc = TabletManager.Backup on ${tablet.alias} error: mysqld stopped while copying files`);
    }
    if (this.state.backupManifestElsewhere) {
      this.state.backupManifestElsewhere = false;
    } else {
      // The builtin engine's MANIFEST, JSON with these fields first (go/vt/mysqlctl/backupengine.go
      // 297-349, builtinbackupengine.go 1027-1061 at v0.24.4).
      fs.writeFileSync(
        `${dir}/MANIFEST`,
        JSON.stringify({ BackupName: name, BackupMethod: 'builtin', Keyspace: shard.keyspace, Shard: shard.name, TabletAlias: tablet.alias }, null, 2),
      );
    }
    this.state.backups[key] = [...(this.state.backups[key] ?? []), name];
    return `${key} (${tablet.alias}): Starting backup ${name}\n`;
  }

  /**
   * RemoveBackup <keyspace/shard> <name>: deletes the backup's directory, which need not exist
   * (os.RemoveAll; go/vt/mysqlctl/filebackupstorage/file.go 206-213 at v0.24.4, a path inside the
   * root only: go/fileutil SafePathJoin).
   */
  private removeBackup(positional: string[]): string {
    if (positional.length !== 2) {
      throw new VitessError(`accepts 2 arg(s), received ${positional.length}`);
    }
    const [keyShard, name] = positional;
    if (name === '' || name.includes('/') || name === '.' || name === '..') {
      throw new VitessError(`path traversal: backup name ${name}`);
    }
    fs.rmSync(`${this.state.backupRoot}/${keyShard}/${name}`, { recursive: true, force: true });
    this.state.backups[keyShard] = (this.state.backups[keyShard] ?? []).filter((b) => b !== name);
    return '';
  }

  private rebuildKeyspace(keyspace: string): void {
    const serving = this.shardsOf(keyspace)
      .filter((s) => s.isMasterServing)
      .map((s) => s.name);
    this.state.srv[keyspace] = { partitions: { 1: [...serving], 2: [...serving], 3: [...serving] }, disabled: {} };
  }

  private healthyRdonly(shard: FakeShard): number {
    return Object.values(this.state.tablets).filter(
      (t) => t.registered && t.up && t.keyspace === shard.keyspace && t.shard === shard.name && t.type === 'rdonly',
    ).length;
  }

  private overlapping(source: FakeShard): FakeShard[] {
    return this.shardsOf(source.keyspace).filter((s) => s.name !== source.name && overlaps(s.name, source.name));
  }

  private vtctl(command: string, args: string[]): string {
    const { flags, positional } = parse(args);
    switch (command) {
      case 'GetCellInfoNames':
        return this.state.cells.map((c) => `${c}\n`).join('');
      case 'AddCellInfo': {
        const cell = positional[0];
        if (this.state.cells.includes(cell)) {
          throw new VitessError(`node already exists: cells/${cell}/CellInfo`);
        }
        this.state.cells.push(cell);
        this.syncTablets();
        return '';
      }
      case 'ListAllTablets':
        return Object.values(this.state.tablets)
          .filter((t) => t.registered && t.cell === positional[0])
          .sort((a, b) => (a.alias < b.alias ? -1 : 1))
          .map((t) => {
            // Vitess prints the record: the MySQL port is 0 until vttablet has found it.
            const host = `vttablet-${t.uid}-0.vttablet.default.svc.cluster.local`;
            const mysqlPort = t.up && starting(t) ? 0 : 3306;
            return `${t.alias} ${t.keyspace} ${t.shard} ${t.type} ${host}:15002 ${host}:${mysqlPort} [] <null>\n`;
          })
          .join('');
      case 'GetShard': {
        const shard = this.shard(positional[0]);
        const primary = shard.primary ? this.state.tablets[shard.primary] : undefined;
        return (
          json({
            master_alias: primary ? { cell: primary.cell, uid: primary.uid } : null,
            master_term_start_time: null,
            key_range: keyRangeJson(shard.name),
            served_types: [],
            source_shards: shard.sourceShards.map((s) => ({
              uid: s.uid,
              keyspace: s.keyspace,
              shard: s.shard,
              key_range: keyRangeJson(s.shard),
              tables: [],
            })),
            tablet_controls: shard.frozen ? [{ tablet_type: 1, cells: [], blacklisted_tables: [], frozen: true }] : [],
            is_master_serving: shard.isMasterServing,
          }) + '\n'
        );
      }
      case 'GetKeyspace': {
        if (this.shardsOf(positional[0]).length === 0) {
          throw new VitessError(`node doesn't exist: keyspaces/${positional[0]}/Keyspace`);
        }
        return json({ sharding_column_name: '', sharding_column_type: 0, served_froms: [] }) + '\n';
      }
      case 'GetSchema': {
        const tablet = this.reachableTablet(positional[0]);
        const tables = this.shard(`${tablet.keyspace}/${tablet.shard}`).tables;
        if (flags.table_names_only !== true) {
          throw new VitessError('the fake only prints -table_names_only');
        }
        return tables.map((t) => `${t}\n`).join('');
      }
      case 'PlannedReparentShard':
        return this.plannedReparent(String(flags.keyspace_shard), 'master', flags.new_master, flags.avoid_master);
      case 'InitShardMaster': {
        const shard = this.shard(positional[0]);
        const tablet = this.reachableTablet(positional[1]);
        if (shard.primary && flags.force !== true) {
          throw new VitessError(`shard ${positional[0]} already has a master; use -force`);
        }
        // InitShardMaster resets replication on every tablet of the shard first (v9.0.0
        // go/vt/wrangler/reparent.go 218-227): one that does not answer fails it.
        for (const t of this.tabletsOf(shard)) {
          if (!answers(t)) {
            throw new VitessError(
              `tablet ${t.alias} ResetReplication failed (either fix it, or Scrap it): rpc error: code = Unavailable desc = connection error: connect: connection refused`,
            );
          }
        }
        for (const t of Object.values(this.state.tablets)) {
          if (t.keyspace === shard.keyspace && t.shard === shard.name && t.type === 'master') {
            t.type = 'replica';
          }
        }
        tablet.type = 'master';
        tablet.journalRows = (tablet.journalRows ?? 0) + 1;
        // The shard record gets the primary before the replicas have replicated the journal row
        // (v9.0.0 go/vt/wrangler/reparent.go 303-320).
        shard.primary = tablet.alias;
        const replicas = this.tabletsOf(shard).filter((t) => t !== tablet);
        if (this.state.replicasMissElection) {
          throw new VitessError(
            'rpc error: code = Unknown desc = ' +
              replicas.map((t) => `tablet ${t.alias} InitReplica failed: rpc error: code = DeadlineExceeded desc = context deadline exceeded`).join(';'),
          );
        }
        for (const t of replicas) {
          t.journalRows = tablet.journalRows;
        }
        return '';
      }
      case 'ExecuteFetchAsDba': {
        const tablet = this.reachableTablet(positional[0]);
        if (flags.json !== true || positional[1] !== REPARENT_JOURNAL_COUNT) {
          throw new VitessError(`the fake only runs ExecuteFetchAsDba -json <alias> '${REPARENT_JOURNAL_COUNT}', got: ${args.join(' ')}`);
        }
        if (tablet.journalRows === undefined) {
          throw new VitessError(reparentJournalMissing(tablet.alias));
        }
        return reparentJournalCountJson(tablet.journalRows);
      }
      case 'ApplySchema': {
        const sql = String(flags.sql);
        const table = /^CREATE TABLE (\w+)/.exec(sql)?.[1];
        if (!table) {
          throw new VitessError(`the fake only applies CREATE TABLE, got: ${sql}`);
        }
        for (const shard of this.shardsOf(positional[0])) {
          if (!shard.primary) {
            throw new VitessError(`no master in shard ${shard.keyspace}/${shard.name}`);
          }
          if (shard.tables.includes(table)) {
            throw new VitessError(`Table '${table}' already exists`);
          }
        }
        for (const shard of this.shardsOf(positional[0])) {
          shard.tables.push(table);
        }
        return '';
      }
      case 'Backup': {
        const tablet = this.reachableTablet(positional[0]);
        if (tablet.type === 'master' || tablet.type === 'primary') {
          throw new VitessError('type PRIMARY cannot take backup');
        }
        const key = `${tablet.keyspace}/${tablet.shard}`;
        const taken = this.listBackups(key).length;
        const name = `2026-11-25.1200${String(taken).padStart(2, '0')}.${tablet.alias}`;
        // File backup storage creates the backup's directory when the backup starts and writes
        // the MANIFEST last (v9.0.0 go/vt/mysqlctl/filebackupstorage/file.go 143-154).
        if (this.state.backupRoot) {
          fs.mkdirSync(`${this.state.backupRoot}/${key}/${name}`, { recursive: true });
        }
        if (this.state.backupAborts) {
          this.state.backupAborts = false;
          throw new VitessError(`Backup failed: ${tablet.alias}: mysqld stopped while copying files`);
        }
        if (this.state.backupRoot) {
          fs.writeFileSync(`${this.state.backupRoot}/${key}/${name}/MANIFEST`, JSON.stringify({ BackupMethod: 'builtin' }));
        }
        this.state.backups[key] = [...(this.state.backups[key] ?? []), name];
        return '';
      }
      case 'ListBackups':
        // One name per line (v9.0.0 go/vt/vtctl/backup.go 172-199).
        return this.backupNames(positional[0]).map((b) => `${b}\n`).join('');
      case 'BackupShard':
        return this.backupShard(positional, flags, ['concurrency', 'allow_master'], 'allow_master', (name) => `flag provided but not defined: -${name}`);
      case 'RemoveBackup':
        return this.removeBackup(positional);
      case 'RebuildVSchemaGraph':
        this.rebuildSrvVSchema();
        return '';
      case 'GetVSchema':
        return json(formatVSchema(this.vschemaOf(positional[0]), 'legacy-camel')) + '\n';
      case 'GetSrvVSchema': {
        const srv = this.srvVSchemaOf(positional[0]);
        const keyspaces = Object.fromEntries(Object.entries(srv).map(([name, vs]) => [name, formatVSchema(vs, 'legacy-defaults')]));
        return json({ keyspaces, routing_rules: { rules: [] } }) + '\n';
      }
      case 'ApplyVSchema': {
        const vschema = JSON.parse(String(flags.vschema));
        checkFields(vschema, ['sharded', 'vindexes', 'tables', 'require_explicit_routing'], 'Keyspace');
        for (const vindex of Object.values<Record<string, unknown>>(vschema.vindexes ?? {})) {
          checkFields(vindex, ['type', 'params', 'owner'], 'Vindex');
        }
        for (const table of Object.values<Record<string, unknown>>(vschema.tables ?? {})) {
          checkFields(table, ['type', 'column_vindexes', 'auto_increment', 'columns', 'pinned'], 'Table');
          for (const columnVindex of (table.column_vindexes as Record<string, unknown>[]) ?? []) {
            checkFields(columnVindex, ['column', 'name', 'columns'], 'ColumnVindex');
          }
        }
        this.state.vschema[positional[0]] = vschema;
        // ApplyVSchema rebuilds the SrvVSchema unless told not to (v9.0.0 go/vt/vtctl/vtctl.go 3185-3189).
        if (flags.skip_rebuild !== true) {
          this.rebuildSrvVSchema();
        }
        return json(vschema) + '\n';
      }
      case 'CopySchemaShard': {
        const source = this.shard(positional[0]);
        const destination = this.shard(positional[1]);
        for (const shard of [source, destination]) {
          if (!shard.primary) {
            throw new VitessError(`no master in shard record ${shard.keyspace}/${shard.name}`);
          }
        }
        if (destination.tables.join() === source.tables.join()) {
          return '';
        }
        if (destination.tables.length > 0) {
          throw new VitessError('creating a table failed. Most likely some tables already exist on the destination');
        }
        destination.tables = [...source.tables];
        return '';
      }
      case 'ValidateSchemaKeyspace': {
        const shards = this.shardsOf(positional[0]);
        for (const shard of shards) {
          if (!shard.primary) {
            throw new VitessError(`no master in shard ${shard.keyspace}/${shard.name}`);
          }
          if (shard.tables.join() !== shards[0].tables.join()) {
            throw new VitessError(`schema diffs: ${shards[0].name} has [${shards[0].tables}], ${shard.name} has [${shard.tables}]`);
          }
        }
        return '';
      }
      case 'GetSrvKeyspace': {
        const srv = this.state.srv[positional[1]];
        if (!srv || !this.state.cells.includes(positional[0])) {
          throw new VitessError(`node doesn't exist: keyspaces/${positional[1]}/SrvKeyspace`);
        }
        const partitions = [1, 2, 3]
          .filter((type) => (srv.partitions[type] ?? []).length > 0)
          .map((type) => ({
            served_type: type,
            shard_references: srv.partitions[type].map((name) => ({ name, key_range: keyRangeJson(name) })),
            shard_tablet_controls: (srv.disabled[type] ?? []).map((name) => ({
              name,
              key_range: keyRangeJson(name),
              query_service_disabled: true,
            })),
          }));
        return json({ partitions, sharding_column_name: '', sharding_column_type: 0, served_from: [] }) + '\n';
      }
      case 'MigrateServedTypes':
        return this.migrateServedTypes(positional[0], positional[1], flags.reverse === true);
      case 'Ping':
        this.reachableTablet(positional[0]);
        return '';
      case 'DeleteShard': {
        const key = positional[0];
        const shard = this.state.shards[key];
        if (!shard) {
          return `Shard ${key} doesn't exist, skipping it\n`;
        }
        const srv = this.state.srv[shard.keyspace];
        const serving = srv && Object.values(srv.partitions).some((names) => names.includes(shard.name));
        if (serving && flags.even_if_serving !== true) {
          throw new VitessError(`shard ${key} is still serving, cannot delete it, use even_if_serving flag if needed`);
        }
        const tablets = Object.values(this.state.tablets).filter(
          (t) => t.registered && t.keyspace === shard.keyspace && t.shard === shard.name,
        );
        if (tablets.length > 0 && flags.recursive !== true) {
          throw new VitessError(`shard ${key} still has ${tablets.length} tablets in cell test; use -recursive or remove them manually`);
        }
        for (const tablet of tablets) {
          tablet.registered = false;
        }
        delete this.state.shards[key];
        return '';
      }
      default:
        throw new VitessError(`unknown command: ${command}`);
    }
  }

  /** vtctldclient of v22: its own commands, and vtctl's where they behave the same. */
  private vtctldclient(command: string, args: string[]): string {
    const { flags, positional } = parseAnywhere(args);
    switch (command) {
      case 'Reshard':
        return this.reshard(positional[0], String(flags.target_keyspace), String(flags.workflow), flags);
      case 'VDiff':
        return this.vdiff(positional, String(flags.target_keyspace), String(flags.workflow));
      case 'GetWorkflows': {
        const workflows = Object.values(this.state.workflows)
          .filter((w) => w.keyspace === positional[0])
          .map((w) => ({
            name: w.name,
            source: { keyspace: w.keyspace, shards: [w.source] },
            target: { keyspace: w.keyspace, shards: w.targets },
          }));
        return protojson({ workflows });
      }
      case 'GetSrvKeyspaces': {
        const [keyspace, cell] = positional;
        const srv = this.state.srv[keyspace];
        if (!srv) {
          throw new VitessError(`node doesn't exist: keyspaces/${keyspace}/SrvKeyspace`);
        }
        // encoding/json of the protobuf structs: empty fields are left out.
        const reference = (name: string) => {
          const range = keyRange(name);
          if (range === null) {
            return { name };
          }
          return { name, key_range: { ...(range.start ? { start: base64(range.start) } : {}), ...(range.end ? { end: base64(range.end) } : {}) } };
        };
        const partitions = [1, 2, 3]
          .filter((type) => (srv.partitions[type] ?? []).length > 0)
          .map((type) => ({ served_type: type, shard_references: srv.partitions[type].map(reference) }));
        return json({ [cell]: { partitions } }) + '\n';
      }
      case 'PingTablet':
        this.reachableTablet(positional[0]);
        return '';
      case 'DeleteShards': {
        const key = positional[0];
        const shard = this.state.shards[key];
        if (!shard) {
          const [keyspace, name] = key.split('/');
          throw new VitessError(`node doesn't exist: keyspaces/${keyspace}/shards/${name}/Shard: while deleting 1 shards; please inspect the topo`);
        }
        const srv = this.state.srv[shard.keyspace];
        if (srv && Object.values(srv.partitions).some((names) => names.includes(shard.name)) && flags.even_if_serving !== true) {
          throw new VitessError(`shard ${key} is still serving, cannot delete it, use the even-if-serving flag if needed`);
        }
        const tablets = Object.values(this.state.tablets).filter((t) => t.registered && t.keyspace === shard.keyspace && t.shard === shard.name);
        if (tablets.length > 0 && flags.recursive !== true) {
          throw new VitessError(`shard ${key} still has ${tablets.length} tablets in cell test; use --recursive or remove them manually`);
        }
        for (const tablet of tablets) {
          tablet.registered = false;
        }
        delete this.state.shards[key];
        return 'Successfully deleted 1 shards\n';
      }
      case 'GetTablets':
        return this.vtctl('ListAllTablets', [String(flags.cell)]);
      case 'GetShard': {
        const shard = this.shard(positional[0]);
        const primary = shard.primary ? this.state.tablets[shard.primary] : undefined;
        const record = json({
          keyspace: shard.keyspace,
          name: shard.name,
          shard: {
            primary_alias: primary ? { cell: primary.cell, uid: primary.uid } : null,
            primary_term_start_time: null,
            key_range: keyRangeJson(shard.name),
            source_shards: [],
            tablet_controls: [],
            is_primary_serving: shard.isMasterServing,
          },
        });
        return record.replace(/": /g, '":  ') + '\n';
      }
      case 'GetKeyspace': {
        const keyspace = this.state.keyspaces[positional[0]];
        if (!keyspace) {
          throw new VitessError(`node doesn't exist: keyspaces/${positional[0]}/Keyspace`);
        }
        return json({ name: positional[0], keyspace: { keyspace_type: 0, durability_policy: keyspace.durability, sidecar_db_name: '_vt' } }).replace(/": /g, '":  ') + '\n';
      }
      case 'CreateKeyspace': {
        if (this.state.keyspaces[positional[0]]) {
          throw new VitessError(`node already exists: keyspaces/${positional[0]}/Keyspace`);
        }
        this.state.keyspaces[positional[0]] = { durability: String(flags.durability_policy ?? '') };
        return `Successfully created keyspace ${positional[0]}.\n`;
      }
      case 'SetKeyspaceDurabilityPolicy': {
        const keyspace = this.state.keyspaces[positional[0]];
        if (!keyspace) {
          throw new VitessError(`node doesn't exist: keyspaces/${positional[0]}/Keyspace`);
        }
        keyspace.durability = String(flags.durability_policy);
        return '';
      }
      case 'PlannedReparentShard': {
        const shard = this.shard(positional[0]);
        // An unset durability policy is taken as `none` (v22.0.4 go/vt/topo/keyspace.go 128-139).
        const durability = this.state.keyspaces[shard.keyspace]?.durability || 'none';
        // PRS asks every tablet of the shard for its status variables first (v22.0.4
        // go/vt/vtctl/reparentutil/planned_reparenter.go 539, 745-770).
        if (typeof flags.new_primary === 'string') {
          for (const t of this.tabletsOf(shard)) {
            if (!answers(t)) {
              throw new VitessError(
                `rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp ${t.alias}: connect: connection refused"`,
              );
            }
          }
        }
        const before = shard.primary;
        const result = this.plannedReparent(positional[0], 'primary', flags.new_primary, flags.avoid_primary);
        if (this.state.shards[positional[0]].primary !== before) {
          this.state.shards[positional[0]].electedDurability = durability;
        }
        return result;
      }
      case 'GetBackups': {
        // Without --json: the names joined by newlines and a newline, so an empty shard prints one
        // empty line (v0.24.4 go/cmd/vtctldclient/command/backups.go 240-245, the same at v0.22.4).
        if (flags.json !== undefined || flags.limit !== undefined) {
          throw new VitessError('the fake prints GetBackups without --json and --limit only');
        }
        return `${this.backupNames(positional[0]).join('\n')}\n`;
      }
      case 'BackupShard':
        return this.backupShard(
          positional,
          flags,
          ['allow_primary', 'concurrency', 'incremental_from_pos', 'upgrade_safe', 'mysql_shutdown_timeout'],
          'allow_primary',
          (name) => `unknown flag: --${name.replace(/_/g, '-')}`,
        );
      case 'RemoveBackup':
        return this.removeBackup(positional);
      case 'GetVSchema':
        return protojson(formatVSchema(this.vschemaOf(positional[0]), 'modern'));
      case 'GetSrvVSchema': {
        // v24.0.4 go/cmd/vtctldclient/command/serving_graph.go 143-163: the SrvVSchema, every field.
        const srv = this.srvVSchemaOf(positional[0]);
        const keyspaces = Object.fromEntries(Object.entries(srv).map(([name, vs]) => [name, formatVSchema(vs, 'modern')]));
        return protojson({
          keyspaces,
          routing_rules: { rules: [] },
          shard_routing_rules: { rules: [] },
          keyspace_routing_rules: null,
          mirror_rules: { rules: [] },
        });
      }
      case 'GetSchema':
      case 'ApplySchema':
      case 'ApplyVSchema':
      case 'AddCellInfo':
        return this.vtctl(command, [...Object.entries(flags).map(([k, v]) => (v === true ? `-${k}` : `-${k}=${v}`)), ...positional]);
      case 'GetCellInfoNames':
      case 'Backup':
      case 'RebuildVSchemaGraph':
        return this.vtctl(command, positional);
      default:
        throw new VitessError(`unknown command "${command}" for "vtctldclient"`);
    }
  }

  private reshard(action: string, keyspace: string, name: string, flags: Record<string, string | true>): string {
    const key = `${keyspace}.${name}`;
    const workflow = this.state.workflows[key];
    const srv = this.state.srv[keyspace];
    const types = String(flags.tablet_types ?? 'rdonly,replica,primary').split(',').map((t) => TYPE_NUMBERS[t === 'primary' ? 'master' : t]);
    const need = () => {
      if (!workflow) {
        throw new VitessError(`no streams found in keyspace ${keyspace} for ${name}`);
      }
      return workflow;
    };
    switch (action) {
      case 'create': {
        const source = this.shard(`${keyspace}/${flags.source_shards}`);
        const targets = String(flags.target_shards).split(',');
        if (workflow) {
          throw new VitessError('buildResharder: validateTargets: some streams already exist in the target shards, please clean them up and retry the command');
        }
        if (!source.isMasterServing) {
          throw new VitessError(`source shard ${source.name} is not in serving state`);
        }
        for (const target of targets) {
          const shard = this.shard(`${keyspace}/${target}`);
          if (!shard.primary) {
            throw new VitessError(`target shard ${target} has no primary`);
          }
          shard.tables = [...source.tables];
        }
        this.state.workflows[key] = { keyspace, name, source: source.name, targets, pickPolls: 1, copyPolls: 1, frozen: false };
        return `The following vreplication streams exist for workflow ${key}:\n\n`;
      }
      case 'show': {
        if (!workflow) {
          return protojson({ workflows: [] });
        }
        const picking = (workflow.pickPolls ?? 0) > 0;
        const copying = !picking && workflow.copyPolls > 0;
        if (picking) {
          workflow.pickPolls = (workflow.pickPolls ?? 0) - 1;
        } else {
          workflow.copyPolls = Math.max(0, workflow.copyPolls - 1);
        }
        const shardStreams = Object.fromEntries(
          workflow.targets.map((target) => {
            const primary = this.state.shards[`${keyspace}/${target}`].primary!;
            const state = workflow.frozen ? 'Stopped' : copying ? 'Copying' : 'Running';
            // Every field is printed (v22.0.4 go/cmd/vtctldclient/cli/json.go 32-38, 73-79).
            const stream = {
              id: '1',
              shard: target,
              position: picking ? '' : 'MySQL56/6b7a0e5e-0c5a-11ef-9a6a-0242ac120002:1-42',
              state,
              copy_states: copying ? [{ table: 'messages', last_pk: '' }] : [],
              message: workflow.frozen ? 'FROZEN' : picking ? '' : 'Picked source tablet: cell:"test" uid:100',
            };
            return [`${target}/${primary}`, { streams: [stream] }];
          }),
        );
        return protojson({ workflows: [{ name, source: { keyspace, shards: [workflow.source] }, shard_streams: shardStreams }] });
      }
      case 'switchtraffic': {
        need();
        if (workflow.copyPolls > 0 || (workflow.pickPolls ?? 0) > 0) {
          throw new VitessError(`cannot switch traffic for workflow ${name} at this time: copy is still in progress`);
        }
        for (const type of types) {
          srv.partitions[type] = [...workflow.targets];
        }
        if (types.includes(1) && !workflow.frozen) {
          this.state.shards[`${keyspace}/${workflow.source}`].isMasterServing = false;
          for (const target of workflow.targets) {
            this.state.shards[`${keyspace}/${target}`].isMasterServing = true;
          }
          workflow.frozen = true;
        }
        return `SwitchTraffic was successful for workflow ${key}\n`;
      }
      case 'reversetraffic': {
        need();
        for (const type of types) {
          if (!srv.partitions[type].includes(workflow.targets[0])) {
            throw new VitessError(`requesting reversal of traffic for type ${type} but it has not been switched`);
          }
          srv.partitions[type] = [workflow.source];
        }
        if (types.includes(1)) {
          this.state.shards[`${keyspace}/${workflow.source}`].isMasterServing = true;
          for (const target of workflow.targets) {
            this.state.shards[`${keyspace}/${target}`].isMasterServing = false;
          }
          workflow.frozen = false;
        }
        return `ReverseTraffic was successful for workflow ${key}\n`;
      }
      case 'complete': {
        need();
        if (![1, 2, 3].every((type) => srv.partitions[type].join() === workflow.targets.join())) {
          throw new VitessError('cannot complete workflow because you have not yet switched all read and write traffic');
        }
        delete this.state.workflows[key];
        // complete drops the source shards: DeleteShard(recursive) of each, tablet records included
        // (v22.0.4 go/vt/vtctl/workflow/server.go 1287, 2256-2276; traffic_switcher.go 592-603).
        // A source tablet that still runs finds its record gone and shuts down
        // (go/vt/vttablet/tabletmanager/tm_state.go 439, 472); restarted by its pod, it registers
        // again and re-creates the shard, not serving: the fake re-registers running tablets on its
        // next invocation.
        const source = this.state.shards[`${keyspace}/${workflow.source}`];
        for (const tablet of this.tabletsOf(source)) {
          tablet.registered = false;
          tablet.startTicks = 2;
        }
        delete this.state.shards[`${keyspace}/${workflow.source}`];
        return `Successfully completed the ${name} workflow in the ${keyspace} keyspace\n`;
      }
      default:
        throw new VitessError(`unknown Reshard action ${action}`);
    }
  }

  private vdiff(positional: string[], keyspace: string, name: string): string {
    const key = `${keyspace}.${name}`;
    if (positional[0] === 'create') {
      if (!this.state.workflows[key]) {
        throw new VitessError(`workflow ${name} not found in keyspace ${keyspace}`);
      }
      this.state.vdiffs[key] = { polls: 1, mismatch: this.state.vdiffMismatch };
      return `VDiff 0b1a2c3d scheduled on target shards, use show to view progress\n`;
    }
    const last = this.state.vdiffs[key];
    if (!last) {
      return '{}\n';
    }
    const done = last.polls === 0;
    last.polls = Math.max(0, last.polls - 1);
    return json({ Workflow: name, Keyspace: keyspace, State: done ? 'completed' : 'started', RowsCompared: 11, HasMismatch: done && last.mismatch }) + '\n';
  }

  private migrateServedTypes(keyspaceShard: string, typeName: string, reverse: boolean): string {
    const source = this.shard(keyspaceShard);
    const type = TYPE_NUMBERS[typeName];
    if (!type) {
      throw new VitessError(`unknown tablet type: ${typeName}`);
    }
    const destinations = this.overlapping(source);
    const srv = this.state.srv[source.keyspace];
    if (source.frozen || !destinations.every((d) => d.sourceShards.length > 0)) {
      throw new VitessError(
        `neither Shard '${source.name}' nor Shard '${destinations.map((d) => d.name).join(',')}' have a 'SourceShards' ` +
          'entry. Did you successfully run vtworker SplitClone before? Or did you already migrate the MASTER type?',
      );
    }
    const from = reverse ? destinations.map((d) => d.name) : [source.name];
    const to = reverse ? [source.name] : destinations.map((d) => d.name);
    if (type === 1) {
      if (reverse) {
        throw new VitessError(`cannot migrate master back to ${keyspaceShard}`);
      }
      if (srv.partitions[2].includes(source.name) || srv.partitions[3].includes(source.name)) {
        throw new VitessError(`cannot migrate MASTER away from ${keyspaceShard} until everything else is migrated`);
      }
      for (const destination of destinations) {
        destination.sourceShards = [];
        destination.isMasterServing = true;
      }
      source.isMasterServing = false;
      source.frozen = true;
      source.sourceShards = destinations.map((d, i) => ({ uid: i, keyspace: d.keyspace, shard: d.name }));
      srv.partitions[1] = [...to];
      srv.disabled = {};
      return '';
    }
    const names = srv.partitions[type].filter((name) => !from.includes(name));
    for (const name of to) {
      if (!names.includes(name)) {
        names.push(name);
      }
    }
    srv.partitions[type] = names.sort((a, b) => (startKey(a) < startKey(b) ? -1 : 1));
    srv.disabled[type] = [...new Set([...(srv.disabled[type] ?? []).filter((n) => !to.includes(n)), ...from])];
    return '';
  }

  private vtworker(command: string, args: string[]): string {
    const { flags, positional } = parse(args);
    const minHealthy = Number(flags.min_healthy_rdonly_tablets ?? 2);
    const checkRdonly = (shard: FakeShard) => {
      const healthy = this.healthyRdonly(shard);
      if (healthy < minHealthy) {
        throw new VitessError(
          `findTargets() failed: FindWorkerTablet() failed for test/${shard.keyspace}/${shard.name}: not enough healthy RDONLY tablets to choose from in (test,${shard.keyspace}/${shard.name}), have ${healthy} healthy ones, need at least ${minHealthy}`,
        );
      }
    };
    switch (command) {
      case 'SplitClone': {
        const source = this.shard(positional[0]);
        const destinations = this.overlapping(source);
        if (destinations.length === 0) {
          throw new VitessError(`no overlapping shards found for ${positional[0]}`);
        }
        for (const destination of destinations) {
          if (destination.sourceShards.length > 0) {
            throw new VitessError(
              `destination shard ${destination.keyspace}/${destination.name} has filtered replication already enabled from a previous resharding (ShardInfo is set)`,
            );
          }
          if (!destination.primary) {
            throw new VitessError(`shard ${destination.keyspace}/${destination.name} has no master`);
          }
          if (destination.tables.join() !== source.tables.join()) {
            throw new VitessError(`schema mismatch on ${destination.keyspace}/${destination.name}`);
          }
        }
        for (const shard of [source, ...destinations]) {
          checkRdonly(shard);
        }
        destinations.forEach((destination, i) => {
          destination.sourceShards = [{ uid: i, keyspace: source.keyspace, shard: source.name }];
        });
        return 'State: done\nSuccess:\nmessages: copy done, copied 11 rows\n';
      }
      case 'SplitDiff': {
        const destination = this.shard(positional[0]);
        if (destination.sourceShards.length === 0) {
          throw new VitessError(`init() failed: shard ${positional[0]} has no source shard`);
        }
        const source = this.shard(`${destination.keyspace}/${destination.sourceShards[0].shard}`);
        for (const shard of [source, destination]) {
          checkRdonly(shard);
        }
        if (this.state.splitDiffFindsDifferences) {
          // v9.0.0 go/vt/worker/split_diff.go 560-563: the run fails.
          throw new VitessError(`table messages has differences: Different content 1 rows`);
        }
        this.state.diffed.push(positional[0]);
        return 'Table messages checks out (4 rows processed, 1072961 qps)\n';
      }
      default:
        throw new VitessError(`unknown vtworker command: ${command}`);
    }
  }
}

function checkFields(value: Record<string, unknown>, allowed: string[], message: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new VitessError(`unknown field "${key}" in vschema.${message}`);
    }
  }
}

/** What one invocation of the fake CLI printed and its exit status. */
export interface FakeInvocation {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * One invocation of the fake CLI against the state in `stateFile`, which it reads and writes back:
 * what `<binary> <args>` prints and its exit status, as the real client's (status 1 and a glog
 * line for a Vitess error, 22 for curl's HTTP error).
 */
export function invoke(stateFile: string, binary: string, args: string[]): FakeInvocation {
  const state: FakeState = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  state.calls.push([binary, ...args.filter((a) => !/^--?server=/.test(a))].join(' '));
  const fake = new FakeVitess(state);
  fake.syncTablets();
  let result: FakeInvocation;
  try {
    result = { status: 0, stdout: fake.run(binary, args), stderr: '' };
  } catch (error) {
    if (!(error instanceof VitessError)) {
      throw error;
    }
    result =
      error instanceof CurlError
        ? { status: 22, stdout: '', stderr: `${error.message}\n` }
        : { status: 1, stdout: '', stderr: `E1125 12:00:00.000000 fake] ${error.message}\n` };
  }
  fs.writeFileSync(stateFile, JSON.stringify(state));
  return result;
}

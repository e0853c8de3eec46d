import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { BackupStorage, JobCondition, ServedType, VitessRelease, VtctlJob } from '../lib';
import { CommandCheck, commandChecks } from '../lib/jobs/job-condition';
import { renderScript } from '../lib/jobs/job-script';

/** The single command check of a condition. */
function render(condition: JobCondition, release = VitessRelease.V9_0): CommandCheck {
  const checks = commandChecks(condition._render(release));
  expect(checks).toHaveLength(1);
  return checks[0];
}

describe('JobCondition', () => {
  test('renders each condition as its read-only command and patterns', () => {
    expect(render(JobCondition.tabletsRegistered('test', ['test-0000000100']))).toEqual({
      command: ['ListAllTablets', 'test'],
      present: ['^test-0000000100 '],
      absent: [],
    });
    expect(render(JobCondition.shardHasPrimary('ks', '-80'))).toEqual({
      command: ['GetShard', 'ks/-80'],
      present: ['"master_alias": \\{'],
      absent: [],
    });
    expect(render(JobCondition.tableExists('test-0000000104', 'messages')).command).toEqual([
      'GetSchema',
      '-table_names_only',
      'test-0000000104',
    ]);
    expect(render(JobCondition.keyspaceExists('ks')).command).toEqual(['GetKeyspace', 'ks']);
  });

  test('the patterns match the outputs of Vitess v9', () => {
    const grep = (pattern: string, text: string) =>
      spawnSync('grep', ['-Eq', pattern], { input: text }).status === 0;
    const listAllTablets = 'test-0000000100 test_keyspace 0 master 10.64.1.6:15002 10.64.1.6:3306 []\n';
    expect(grep(render(JobCondition.tabletsRegistered('test', ['test-0000000100'])).present[0], listAllTablets)).toBe(true);
    expect(grep(render(JobCondition.tabletsRegistered('test', ['test-0000000101'])).present[0], listAllTablets)).toBe(false);
    const shard = '{\n  "master_alias": {\n    "cell": "test",\n    "uid": 100\n  },\n  "key_range": null\n}\n';
    const noPrimary = '{\n  "master_alias": null,\n  "key_range": null\n}\n';
    const pattern = render(JobCondition.shardHasPrimary('ks', '0')).present[0];
    expect(grep(pattern, shard)).toBe(true);
    expect(grep(pattern, noPrimary)).toBe(false);
  });

  describe('the resharding conditions match the outputs of Vitess v9', () => {
    // vtctl prints protobuf messages with jsonpb: 2-space indent, snake_case names, enums as
    // numbers, every field present (EmitDefaults), key-range bounds as base64 (0x80 is "gA==").
    const holds = (condition: JobCondition, output: string): boolean => {
      const check = render(condition);
      const text = check.ignoreWhitespace ? output.replace(/\s/g, '') : output;
      const grep = (pattern: string) => spawnSync('grep', ['-Eq', pattern], { input: text }).status === 0;
      return check.present.every(grep) && !check.absent.some(grep);
    };
    const shardRecord = (sourceShards: string) =>
      `{\n  "master_alias": {\n    "cell": "test",\n    "uid": 200\n  },\n  "master_term_start_time": null,\n` +
      `  "key_range": {\n    "start": null,\n    "end": "gA=="\n  },\n  "served_types": [],\n` +
      `  "source_shards": ${sourceShards},\n  "tablet_controls": [],\n  "is_master_serving": false\n}\n`;
    const afterSplitClone = shardRecord(
      '[\n    {\n      "uid": 0,\n      "keyspace": "test_keyspace",\n      "shard": "0",\n      "key_range": null,\n      "tables": []\n    }\n  ]',
    );
    const reference = (name: string, range: string) => `{\n          "name": "${name}",\n          "key_range": ${range}\n        }`;
    const minus80 = reference('-80', '{\n            "start": null,\n            "end": "gA=="\n          }');
    const plus80 = reference('80-', '{\n            "start": "gA==",\n            "end": null\n          }');
    const shard0 = reference('0', 'null');
    const partition = (type: number, references: string[], controls = '[]') =>
      `    {\n      "served_type": ${type},\n      "shard_references": [\n        ${references.join(',\n        ')}\n      ],\n` +
      `      "shard_tablet_controls": ${controls}\n    }`;
    const srvKeyspace = (...partitions: string[]) =>
      `{\n  "partitions": [\n${partitions.join(',\n')}\n  ],\n  "sharding_column_name": "",\n  "sharding_column_type": 0,\n  "served_from": []\n}\n`;
    const rdonlyMigrated = srvKeyspace(
      partition(1, [shard0]),
      partition(2, [shard0]),
      partition(3, [minus80, plus80], '[\n        {\n          "name": "0",\n          "key_range": null,\n          "query_service_disabled": true\n        }\n      ]'),
    );
    const allMigrated = srvKeyspace(partition(1, [minus80, plus80]), partition(2, [minus80, plus80]), partition(3, [minus80, plus80]));
    const targets = ['-80', '80-'];

    test('filtered replication: source shards in the shard record', () => {
      const condition = JobCondition.filteredReplicationEnabled('test_keyspace', '-80');
      expect(render(condition).command).toEqual(['GetShard', 'test_keyspace/-80']);
      expect(holds(condition, afterSplitClone)).toBe(true);
      expect(holds(condition, shardRecord('[]'))).toBe(false);
    });

    test('served types: the partition of the type references exactly the shards', () => {
      const rdonly = JobCondition.servedBy('test', 'test_keyspace', ServedType.RDONLY, targets);
      const replica = JobCondition.servedBy('test', 'test_keyspace', ServedType.REPLICA, targets);
      const primaryOfSource = JobCondition.servedBy('test', 'test_keyspace', ServedType.PRIMARY, ['0']);
      expect(render(rdonly).command).toEqual(['GetSrvKeyspace', 'test', 'test_keyspace']);
      expect(holds(rdonly, rdonlyMigrated)).toBe(true);
      expect(holds(replica, rdonlyMigrated)).toBe(false);
      expect(holds(primaryOfSource, rdonlyMigrated)).toBe(true);
      expect(holds(primaryOfSource, allMigrated)).toBe(false);
      // Only one of the targets is not enough.
      expect(holds(JobCondition.servedBy('test', 'test_keyspace', ServedType.RDONLY, ['-80']), rdonlyMigrated)).toBe(false);
    });

    test('a shard serves nothing: not referenced, no tablet controls', () => {
      const condition = JobCondition.shardNotServing('test', 'test_keyspace', '0');
      expect(holds(condition, allMigrated)).toBe(true);
      expect(holds(condition, rdonlyMigrated)).toBe(false);
      expect(holds(condition, 'node doesn\'t exist')).toBe(false);
    });

    test('tablet types in ListAllTablets', () => {
      const lines =
        'test-0000000103 test_keyspace 0 rdonly 10.0.0.3:15002 10.0.0.3:3306 [] <null>\n' +
        'test-0000000104 test_keyspace 0 drained 10.0.0.4:15002 10.0.0.4:3306 [] <null>\n';
      expect(holds(JobCondition.tabletsOfType('test', ['test-0000000103'], 'rdonly'), lines)).toBe(true);
      expect(holds(JobCondition.tabletsOfType('test', ['test-0000000103', 'test-0000000104'], 'rdonly'), lines)).toBe(false);
    });
  });

  test('combinations render as trees of command checks', () => {
    const release = VitessRelease.V9_0;
    const both = JobCondition.allOf(JobCondition.cellRegistered('a'), JobCondition.anyOf(JobCondition.keyspaceExists('k'), JobCondition.schemaConsistent('k')));
    expect(both.description).toBe("cell 'a' registered in the global topology and (keyspace 'k' exists or every shard of keyspace 'k' has the same schema)");
    expect(both._render(release)).toEqual({
      all: [
        { command: ['GetCellInfoNames'], present: ['^a$'], absent: [] },
        {
          any: [
            { command: ['GetKeyspace', 'k'], present: [], absent: [] },
            { command: ['ValidateSchemaKeyspace', 'k'], present: [], absent: [] },
          ],
        },
      ],
    });
    expect(commandChecks(JobCondition.tabletsUnreachable(['test-0000000100'])._render(release))).toEqual([
      { command: ['GetCellInfoNames'], present: [], absent: [] },
      { command: ['Ping', 'test-0000000100'], present: [], absent: [], commandFails: true },
    ]);
  });

  test('fails for combinations of fewer than two and for bad input', () => {
    expect(() => JobCondition.allOf(JobCondition.vtctldReachable())).toThrow(/JobCondition.allOf: give at least two conditions, got 1/);
    expect(() => JobCondition.anyOf()).toThrow(/JobCondition.anyOf: give at least two conditions, got 0/);
    expect(() => JobCondition.servedBy('test', 'ks', ServedType.RDONLY, [])).toThrow(/'shards' must name at least one shard, got none/);
    expect(() => JobCondition.tabletsOfType('test', ['test-0000000100'], 'RDONLY ')).toThrow(/'type' must be a tablet type such as 'rdonly', got 'RDONLY '/);
    expect(() => JobCondition.tabletsUnreachable([])).toThrow(/'aliases' must name at least one tablet, got none/);
  });

  test('on Vitess v22.0 the conditions use vtctldclient commands and tolerate protobuf JSON spacing', () => {
    const v22 = VitessRelease.V22_0;
    expect(render(JobCondition.tabletsRegistered('test', ['test-0000000100']), v22).command).toEqual(['GetTablets', '--cell=test']);
    expect(render(JobCondition.tableExists('test-0000000104', 'messages'), v22).command).toEqual([
      'GetSchema',
      '--table-names-only',
      'test-0000000104',
    ]);
    const grepCompact = (condition: JobCondition, output: string) => {
      const check = render(condition, v22);
      expect(check.ignoreWhitespace).toBe(true);
      return check.present.every((p) => spawnSync('grep', ['-Eq', p], { input: output.replace(/\s/g, '') }).status === 0);
    };
    // GetShard prints {"keyspace", "name", "shard": {...}}; protojson may put two spaces after a colon.
    const shard = '{\n  "keyspace": "ks",\n  "name": "0",\n  "shard": {\n    "primary_alias":  {\n      "cell": "test",\n      "uid": 100\n    },\n    "is_primary_serving": true\n  }\n}\n';
    expect(grepCompact(JobCondition.shardHasPrimary('ks', '0'), shard)).toBe(true);
    expect(grepCompact(JobCondition.shardHasPrimary('ks', '0'), shard.replace(/"primary_alias": +\{[^}]*\}/, '"primary_alias": null'))).toBe(false);
    const keyspace = '{\n  "name": "ks",\n  "keyspace": {\n    "keyspace_type": 0,\n    "durability_policy":  "semi_sync",\n    "sidecar_db_name": "_vt"\n  }\n}\n';
    expect(grepCompact(JobCondition.keyspaceDurability('ks', 'semi_sync'), keyspace)).toBe(true);
    expect(grepCompact(JobCondition.keyspaceDurability('ks', 'none'), keyspace)).toBe(false);
    expect(() => JobCondition.keyspaceDurability('ks', 'semi-sync!')).toThrow(/'policy' must be a durability policy such as 'semi_sync', got 'semi-sync!'/);
  });

  describe('the VSchema conditions match GetSrvVSchema and GetVSchema as each release prints them', () => {
    const holds = (condition: JobCondition, release: VitessRelease, output: string): boolean => {
      const [check] = commandChecks(condition._render(release));
      expect(check.ignoreWhitespace).toBe(true);
      const grep = (pattern: string) => spawnSync('grep', ['-Eq', pattern], { input: output.replace(/\s/g, '') }).status === 0;
      return check.present.every(grep) && !check.absent.some(grep);
    };
    const messages = { table: 'messages', column: 'page', vindex: 'hash', vindexType: 'hash' };
    const applied = JobCondition.vschemaShardsTable('test_keyspace', messages);
    const inSrv = JobCondition.srvVSchemaHasKeyspace('test', 'test_keyspace');

    test('v9.0: vtctl prints GetVSchema with jsonpb, camelCase, without defaults; GetSrvVSchema with every field', () => {
      const v9 = VitessRelease.V9_0;
      expect(commandChecks(applied._render(v9))[0].command).toEqual(['GetVSchema', 'test_keyspace']);
      expect(commandChecks(inSrv._render(v9))[0].command).toEqual(['GetSrvVSchema', 'test']);
      // go/vt/vtctl/vtctl.go 3029-3048 with go/json2/marshal.go 36-45: jsonpb.Marshaler{Indent: "  "}.
      const vschema = (column: string, type = 'hash') =>
        `{\n  "sharded": true,\n  "vindexes": {\n    "hash": {\n      "type": "${type}"\n    }\n  },\n  "tables": {\n` +
        `    "messages": {\n      "columnVindexes": [\n        {\n          "column": "${column}",\n          "name": "hash"\n        }\n      ]\n    }\n  }\n}\n`;
      expect(holds(applied, v9, vschema('page'))).toBe(true);
      expect(holds(applied, v9, vschema('time_created_ns'))).toBe(false);
      expect(holds(applied, v9, vschema('page', 'xxhash'))).toBe(false);
      expect(holds(applied, v9, vschema('page').replace('"sharded": true,\n', ''))).toBe(false);
      // The blank VSchema of a keyspace's first tablet.
      expect(holds(applied, v9, '{\n\n}\n')).toBe(false);
      // vtctl.go 3273-3286, 3584-3597: jsonpb with EmitDefaults and OrigName.
      const srv = (keyspace: string) =>
        `{\n  "keyspaces": {\n    "${keyspace}": {\n      "sharded": false,\n      "vindexes": {\n      },\n      "tables": {\n      },\n` +
        `      "require_explicit_routing": false\n    }\n  },\n  "routing_rules": {\n    "rules": [\n    ]\n  }\n}\n`;
      expect(holds(inSrv, v9, srv('test_keyspace'))).toBe(true);
      expect(holds(inSrv, v9, srv('other_keyspace'))).toBe(false);
      // A table of another keyspace named like the keyspace is not the keyspace.
      const table = srv('commerce').replace('"tables": {\n      }', '"tables": {\n        "test_keyspace": {\n          "type": "",\n          "column_vindexes": []\n        }\n      }');
      expect(holds(inSrv, v9, table)).toBe(false);
    });

    test('v22.0 and v24.0: vtctldclient prints protojson, every field, proto names', () => {
      for (const release of [VitessRelease.V22_0, VitessRelease.V24_0]) {
        // go/cmd/vtctldclient/command/vschemas.go 132-152, cli/json.go 32-38 (v24.0.4); protojson
        // may put two spaces after a colon.
        const vschema = (sharded: boolean, column: string) =>
          `{\n  "sharded":  ${sharded},\n  "vindexes":  {\n    "hash":  {\n      "type":  "hash",\n      "params":  {},\n      "owner":  ""\n    }\n  },\n` +
          `  "tables":  {\n    "messages":  {\n      "type":  "",\n      "column_vindexes":  [\n        {\n          "column":  "${column}",\n` +
          `          "name":  "hash",\n          "columns":  []\n        }\n      ],\n      "auto_increment":  null,\n      "columns":  [],\n` +
          `      "pinned":  "",\n      "column_list_authoritative":  false,\n      "source":  ""\n    }\n  },\n  "require_explicit_routing":  false,\n` +
          `  "foreign_key_mode":  "unspecified",\n  "multi_tenant_spec":  null\n}\n`;
        expect(holds(applied, release, vschema(true, 'page'))).toBe(true);
        expect(holds(applied, release, vschema(false, 'page'))).toBe(false);
        expect(holds(applied, release, vschema(true, 'time_created_ns'))).toBe(false);
        const blank = '{\n  "sharded":  false,\n  "vindexes":  {},\n  "tables":  {},\n  "require_explicit_routing":  false,\n  "foreign_key_mode":  "unspecified",\n  "multi_tenant_spec":  null\n}\n';
        expect(holds(applied, release, blank)).toBe(false);
        // serving_graph.go 143-163: the SrvVSchema itself.
        const srv = `{\n  "keyspaces":  {\n    "test_keyspace":  ${blank.trim()}\n  },\n  "routing_rules":  {\n    "rules":  []\n  },\n  "keyspace_routing_rules":  null\n}\n`;
        expect(holds(inSrv, release, srv)).toBe(true);
        expect(holds(inSrv, release, srv.replace('"test_keyspace"', '"commerce"'))).toBe(false);
      }
    });

    test('fail for bad input, naming the prop and the value', () => {
      expect(() => JobCondition.vschemaShardsTable('test_keyspace', { ...messages, table: 'my-table' })).toThrow(
        /JobCondition.vschemaShardsTable: 'table' must be an identifier of up to 64 letters, digits or '_', not starting with a digit, got 'my-table'/,
      );
      expect(() => JobCondition.vschemaShardsTable('test_keyspace', { ...messages, vindexType: 'Hash' })).toThrow(
        /'vindexType' must be a vindex type such as 'hash' \(lowercase letters, digits and '_'\), got 'Hash'/,
      );
      expect(() => JobCondition.vschemaShardsTable('Test', messages)).toThrow(/JobCondition.vschemaShardsTable: 'keyspace' must start with a lowercase letter/);
      expect(() => JobCondition.srvVSchemaHasKeyspace('zone-1', 'test_keyspace')).toThrow(/JobCondition.srvVSchemaHasKeyspace: 'cell' must be 1 to 40/);
    });
  });

  test('fails for tablets of another cell', () => {
    expect(() => JobCondition.tabletsRegistered('test', ['other-0000000100'])).toThrow(
      /tablet alias 'other-0000000100' is not in cell 'test'/,
    );
  });

  describe('readiness and completion as real Vitess reports them', () => {
    /** Whether every command check of the condition holds on the outputs, given per command. */
    const holds = (condition: JobCondition, outputs: (command: string[]) => string | undefined, release = VitessRelease.V9_0): boolean =>
      commandChecks(condition._render(release)).every((check) => {
        const output = outputs(check.command);
        if (output === undefined) {
          return check.commandFails === true;
        }
        const text = check.ignoreWhitespace ? output.replace(/\s/g, '') : output;
        const grep = (pattern: string) => spawnSync('grep', ['-Eq', pattern], { input: text }).status === 0;
        return !check.commandFails && check.present.every(grep) && !check.absent.some(grep);
      });
    const host = 'vttablet-100-0.vttablet-test-keyspace-0-test.default.svc.cluster.local';

    test('a tablet is ready once it answers a ping and its record has a MySQL port', () => {
      // `<alias> <keyspace> <shard> <type> <host:port> <mysql host:port> <tags> <term start>`
      // (v9.0.0 go/vt/vtctl/vtctl.go 533-548, v22.0.4 go/cmd/vtctldclient/cli/awk.go 50-73); the
      // MySQL port is 0 until vttablet has found it (v9.0.0 tm_init.go 514-553: MysqlHostname is the
      // tablet host name, MysqlPort is set by findMysqlPort once mysqld answers).
      const starting = `test-0000000100 test_keyspace 0 replica ${host}:15002 ${host}:0 [] <null>\n`;
      const started = `test-0000000100 test_keyspace 0 replica ${host}:15002 ${host}:3306 [] <null>\n`;
      for (const release of [VitessRelease.V9_0, VitessRelease.V22_0]) {
        const ready = JobCondition.tabletsReady('test', ['test-0000000100']);
        const ping = release === VitessRelease.V9_0 ? 'Ping' : 'PingTablet';
        expect(commandChecks(ready._render(release)).map((c) => c.command[0])).toEqual([
          release === VitessRelease.V9_0 ? 'ListAllTablets' : 'GetTablets',
          ping,
        ]);
        const answering = (listing: string) => (command: string[]) => (command[0] === ping ? '' : listing);
        expect(holds(ready, answering(started), release)).toBe(true);
        expect(holds(ready, answering(starting), release)).toBe(false);
        // Registered with its MySQL port, but its tablet manager does not answer yet.
        expect(holds(ready, (command) => (command[0] === ping ? undefined : started), release)).toBe(false);
      }
      expect(() => JobCondition.tabletsReady('test', [])).toThrow(/JobCondition.tabletsReady: 'aliases' must name at least one tablet, got none/);
    });

    test('a tablet has replicated an election once its _vt.reparent_journal has a row', () => {
      // vtctlclient v9.0.0 ExecuteFetchAsDba -json on MariaDB 10.11 (test/e2e/vitess.ts): the
      // primary-elect after InitShardMaster, and a replica that never replicated its election.
      const primary =
        '{\n  "fields": [\n    {\n      "name": "COUNT(*)",\n      "type": 265,\n      "column_length": 21,\n      "charset": 63,\n' +
        '      "flags": 32897\n    }\n  ],\n  "rows_affected": 1,\n  "insert_id": 0,\n  "rows": [\n    [\n      1\n    ]\n  ],\n' +
        '  "session_state_changes": ""\n}\n';
      const empty = primary.replace('      1\n', '      0\n');
      const condition = JobCondition.reparentJournalReplicated('test', ['test-0000000100', 'test-0000000101']);
      expect(commandChecks(condition._render(VitessRelease.V9_0)).map((c) => c.command)).toEqual([
        ['ExecuteFetchAsDba', '-json', 'test-0000000100', 'SELECT COUNT(*) FROM _vt.reparent_journal'],
        ['ExecuteFetchAsDba', '-json', 'test-0000000101', 'SELECT COUNT(*) FROM _vt.reparent_journal'],
      ]);
      expect(holds(condition, () => primary)).toBe(true);
      expect(holds(condition, () => empty)).toBe(false);
      // The replica has no table: the command fails.
      expect(holds(condition, (command) => (command[2] === 'test-0000000100' ? primary : undefined))).toBe(false);
      // vtctldclient releases have no ExecuteFetchAsDba (theirs is ExecuteFetchAsDBA, with other output).
      const vtctld = { release: VitessRelease.V22_0, grpcAddress: 'vtctld:15999' };
      expect(() => new VtctlJob(new Chart(new App(), 'c'), 'j', { vtctld, jobName: 'j', commands: [['GetTablets']], waitFor: [condition] })).toThrow(
        /ExecuteFetchAsDba/,
      );
      expect(() => JobCondition.reparentJournalReplicated('test', [])).toThrow(/'aliases' must name at least one tablet, got none/);
    });

    test('a keyspace created by its first tablet has no durability policy', () => {
      // vtctldclient prints every field (EmitUnpopulated, v22.0.4 go/cmd/vtctldclient/cli/json.go 32-38).
      const keyspace = (policy: string) =>
        `{\n  "name":  "test_keyspace",\n  "keyspace":  {\n    "keyspace_type":  "NORMAL",\n    "durability_policy":  "${policy}",\n    "sidecar_db_name":  "_vt"\n  }\n}\n`;
      const set = JobCondition.keyspaceDurabilitySet('test_keyspace');
      expect(holds(set, () => keyspace(''), VitessRelease.V22_0)).toBe(false);
      expect(holds(set, () => keyspace('semi_sync'), VitessRelease.V22_0)).toBe(true);
      expect(holds(set, () => keyspace('none'), VitessRelease.V22_0)).toBe(true);
    });

    test('the copy is not done while a stream has no position yet', () => {
      // Reshard show prints the GetWorkflows response with every field and enum names
      // (v22.0.4 go/cmd/vtctldclient/command/vreplication/common/show.go 62, cli/json.go 73-79).
      const show = (state: string, copyStates: string, position: string) =>
        `{\n  "workflows": [\n    {\n      "name": "reshard",\n      "shard_streams": {\n        "-80/test-0000000200": {\n` +
        `          "streams": [\n            {\n              "id": "1",\n              "shard": "-80",\n              "position": "${position}",\n` +
        `              "state": "${state}",\n              "copy_states": ${copyStates},\n              "message": ""\n            }\n          ]\n        }\n      }\n    }\n  ]\n}\n`;
      const done = JobCondition.reshardCopyDone('test_keyspace', 'reshard');
      const gtid = 'MySQL56/6b7a0e5e-0c5a-11ef-9a6a-0242ac120002:1-42';
      // Right after create: Running, nothing to copy listed, no position (the source tablet is being picked).
      expect(holds(done, () => show('Running', '[]', ''), VitessRelease.V22_0)).toBe(false);
      expect(holds(done, () => show('Copying', '[\n{"table": "messages", "last_pk": ""}]', ''), VitessRelease.V22_0)).toBe(false);
      expect(holds(done, () => show('Running', '[]', gtid), VitessRelease.V22_0)).toBe(true);
    });

    test('a backup counts once its MANIFEST exists, not when it is listed', () => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'backups-'));
      try {
        const storage = BackupStorage.nfs({ server: 'nfs.example.internal', path: '/exports', mountPath: root });
        const condition = JobCondition.backupComplete('test_keyspace', '0', storage);
        expect(commandChecks(condition._render(VitessRelease.V9_0))).toEqual([]);
        const script = renderScript({
          client: ['/bin/false'],
          release: VitessRelease.V9_0,
          waitFor: [condition],
          commands: [],
          waitTimeout: 0,
          pollInterval: 0,
        });
        const run = () => spawnSync('/bin/bash', ['-c', script], { encoding: 'utf8' });
        expect(run().status).toBe(1);
        // The directory a running or aborted backup leaves: listed by ListBackups, not restorable.
        const backup = path.join(root, 'test_keyspace', '0', '2026-12-01.120000.test-0000000104');
        fs.mkdirSync(backup, { recursive: true });
        const running = run();
        expect(running.status).toBe(1);
        expect(running.stderr).toContain(`no backup with a MANIFEST in ${root}/test_keyspace/0`);
        fs.writeFileSync(path.join(backup, 'MANIFEST'), '{}');
        const complete = run();
        expect(complete.status).toBe(0);
        expect(complete.stdout).toContain('ready: a complete backup of test_keyspace/0 (with its MANIFEST) exists');
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
      const storage = BackupStorage.nfs({ server: 'nfs.example.internal', path: '/exports' });
      expect(() => JobCondition.backupComplete('test_keyspace', '80-00', storage)).toThrow(/JobCondition.backupComplete/);
    });
  });
});

import { spawnSync } from 'child_process';
import { JobCondition, ServedType, VitessRelease } from '../lib';
import { CommandCheck, commandChecks } from '../lib/job-condition';

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
    expect(render(JobCondition.backupExists('ks', '0')).command).toEqual(['ListBackups', 'ks/0']);
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
    const backups = render(JobCondition.backupExists('ks', '0')).present[0];
    expect(grep(backups, '2017-02-21.142940.test-0000000104\n')).toBe(true);
    expect(grep(backups, '')).toBe(false);
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
    expect(render(JobCondition.backupExists('ks', '0'), v22).command).toEqual(['GetBackups', 'ks/0']);
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

  test('fails for tablets of another cell', () => {
    expect(() => JobCondition.tabletsRegistered('test', ['other-0000000100'])).toThrow(
      /tablet alias 'other-0000000100' is not in cell 'test'/,
    );
  });
});

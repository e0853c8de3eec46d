import { spawnSync } from 'child_process';
import { JobCondition, VitessRelease } from '../lib';
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

  test('fails for tablets of another cell', () => {
    expect(() => JobCondition.tabletsRegistered('test', ['other-0000000100'])).toThrow(
      /tablet alias 'other-0000000100' is not in cell 'test'/,
    );
  });
});

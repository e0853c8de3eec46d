import { spawnSync } from 'child_process';
import { JobCondition, VitessRelease } from '../lib';

describe('JobCondition', () => {
  test('renders each condition as its read-only command and patterns', () => {
    const release = VitessRelease.V9_0;
    expect(JobCondition.tabletsRegistered('test', ['test-0000000100'])._render(release)).toEqual({
      command: ['ListAllTablets', 'test'],
      present: ['^test-0000000100 '],
      absent: [],
    });
    expect(JobCondition.shardHasPrimary('ks', '-80')._render(release)).toEqual({
      command: ['GetShard', 'ks/-80'],
      present: ['"master_alias": \\{'],
      absent: [],
    });
    expect(JobCondition.tableExists('test-0000000104', 'messages')._render(release).command).toEqual([
      'GetSchema',
      '-table_names_only',
      'test-0000000104',
    ]);
    expect(JobCondition.backupExists('ks', '0')._render(release).command).toEqual(['ListBackups', 'ks/0']);
    expect(JobCondition.keyspaceExists('ks')._render(release).command).toEqual(['GetKeyspace', 'ks']);
  });

  test('the patterns match the outputs of Vitess v9', () => {
    const grep = (pattern: string, text: string) =>
      spawnSync('grep', ['-Eq', pattern], { input: text }).status === 0;
    const release = VitessRelease.V9_0;
    const listAllTablets = 'test-0000000100 test_keyspace 0 master 10.64.1.6:15002 10.64.1.6:3306 []\n';
    expect(grep(JobCondition.tabletsRegistered('test', ['test-0000000100'])._render(release).present[0], listAllTablets)).toBe(true);
    expect(grep(JobCondition.tabletsRegistered('test', ['test-0000000101'])._render(release).present[0], listAllTablets)).toBe(false);
    const shard = '{\n  "master_alias": {\n    "cell": "test",\n    "uid": 100\n  },\n  "key_range": null\n}\n';
    const noPrimary = '{\n  "master_alias": null,\n  "key_range": null\n}\n';
    const pattern = JobCondition.shardHasPrimary('ks', '0')._render(release).present[0];
    expect(grep(pattern, shard)).toBe(true);
    expect(grep(pattern, noPrimary)).toBe(false);
    const backups = JobCondition.backupExists('ks', '0')._render(release).present[0];
    expect(grep(backups, '2017-02-21.142940.test-0000000104\n')).toBe(true);
    expect(grep(backups, '')).toBe(false);
  });

  test('fails for tablets of another cell', () => {
    expect(() => JobCondition.tabletsRegistered('test', ['other-0000000100'])).toThrow(
      /tablet alias 'other-0000000100' is not in cell 'test'/,
    );
  });
});

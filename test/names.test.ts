import {
  keyspaceObjectName,
  shardLabel,
  tabletAlias,
  validateKeyRangeTiling,
  validateObjectName,
  validateShardName,
} from '../lib/names';

describe('names', () => {
  test('tablet aliases pad the UID to 10 digits', () => {
    expect(tabletAlias('test', 100)).toBe('test-0000000100');
    expect(tabletAlias('zone1', 4294967295)).toBe('zone1-4294967295');
  });

  test('shard labels as the Vitess Kubernetes example sanitised them', () => {
    expect(shardLabel('-80')).toBe('xx-80');
    expect(shardLabel('80-')).toBe('80-xx');
    expect(shardLabel('40-80')).toBe('40-80');
    expect(shardLabel('0')).toBe('0');
    // The rule applied in order (as the example's two sed calls do) gives xx-xx.
    expect(shardLabel('-')).toBe('xx-xx');
  });

  test('keyspace names in object names', () => {
    expect(keyspaceObjectName('test_keyspace')).toBe('test-keyspace');
  });

  test('shard names', () => {
    for (const ok of ['0', '-', '-80', '80-', '40-80', '-0080', '0080-00c0']) {
      expect(() => validateShardName('T', 'shard', ok)).not.toThrow();
    }
    expect(() => validateShardName('T', 'shard', '80-80')).toThrow(/start below its end/);
    expect(() => validateShardName('T', 'shard', '8-')).toThrow(/whole bytes/);
    expect(() => validateShardName('T', 'shard', '1')).toThrow(/got '1'/);
  });

  test('fails for object names that are not DNS labels', () => {
    expect(() => validateObjectName('T', 'name', 'a'.repeat(64))).toThrow(/at most 63 characters/);
    expect(() => validateObjectName('T', 'name', '-a')).toThrow(/got '-a'/);
  });
});

describe('key-range tiling', () => {
  test('accepts targets that cover the source exactly, in any order', () => {
    expect(() => validateKeyRangeTiling('T', 'targets', '0', ['-80', '80-'])).not.toThrow();
    expect(() => validateKeyRangeTiling('T', 'targets', '-', ['80-', '-40', '40-80'])).not.toThrow();
    expect(() => validateKeyRangeTiling('T', 'targets', '80-', ['80-c0', 'c0-'])).not.toThrow();
    expect(() => validateKeyRangeTiling('T', 'targets', '-80', ['-40', '4000-80'])).not.toThrow();
  });

  test('fails for gaps, overlaps, ranges outside the source and a single target', () => {
    expect(() => validateKeyRangeTiling('T', 'targets', '0', ['-80', 'c0-'])).toThrow(
      /'targets' must cover exactly the key range of shard '0'.*got \['-80', 'c0-'\]: '-80' is not followed directly by 'c0-'/,
    );
    expect(() => validateKeyRangeTiling('T', 'targets', '0', ['-80', '40-'])).toThrow(/'-80' is not followed directly by '40-'/);
    expect(() => validateKeyRangeTiling('T', 'targets', '0', ['-80'])).toThrow(/at least two shards/);
    expect(() => validateKeyRangeTiling('T', 'targets', '0', ['-80', '80-c0'])).toThrow(/the last shard '80-c0' does not end/);
    expect(() => validateKeyRangeTiling('T', 'targets', '80-', ['40-c0', 'c0-'])).toThrow(/the first shard '40-c0' does not start/);
    expect(() => validateKeyRangeTiling('T', 'targets', '0', ['-', '80-'])).toThrow(/'-' is not followed directly/);
  });
});
